import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildVariantKey,
  checkSourceKey,
  DEFAULT_GRAMMAR_CONFIG,
  DEFAULT_LADDER,
  encodeKeyPath,
  normalizeRequest,
  parseVariantKey,
  utf8Length,
} from '../../edge-fn/grammar/index.ts';
import { POSITIONS } from '../../edge-fn/grammar/params.ts';
import type { VariantSpec } from '../../edge-fn/grammar/types.ts';
import { CHROME_ACCEPT, req } from './helpers.ts';

const NUM_RUNS = 2000;
const ALIASES: Record<string, string[]> = {
  w: ['w', 'width', 'W', 'Width'],
  h: ['h', 'height', 'HEIGHT'],
  q: ['q', 'quality', 'Q'],
  f: ['f', 'format', 'Format'],
  fit: ['fit', 'FIT'],
  pos: ['pos', 'position', 'POS'],
  crop: ['crop', 'Crop'],
};

const segment = fc.stringMatching(/^[A-Za-z0-9 _.()é漢-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
const sourceKey = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
/** A valid `crop=` value: any region inside the image, in per-mille, not on the grid. */
const cropValue = fc
  .tuple(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 999 }), fc.nat(), fc.nat())
  .map(([x, y, a, b]) => `${x},${y},${1 + (a % (1000 - x))},${1 + (b % (1000 - y))}`);
const GRAVITIES = POSITIONS.filter((p) => p !== 'attention' && p !== 'entropy');
/**
 * Valid options. A position comes with what it needs (both sizes and fit=cover, or fit=contain
 * for a gravity), so every generated request is a 200; the 400s have their own tests.
 */
const options = fc
  .record(
    {
      crop: cropValue,
      w: fc.integer({ min: 1, max: 4096 }),
      h: fc.integer({ min: 1, max: 4096 }),
      q: fc.oneof(fc.integer({ min: 1, max: 100 }).map(String), fc.constant('auto')),
      f: fc.constantFrom('auto', 'jpeg', 'webp', 'avif', 'png'),
      fit: fc.constantFrom('inside', 'cover', 'contain', 'fill', 'outside'),
      pos: fc.constantFrom(...POSITIONS, 'center'),
    },
    { requiredKeys: [] },
  )
  .map((o): Record<string, string | number> => {
    const out: Record<string, string | number> = { ...o };
    if (o.pos !== undefined && o.pos !== 'center') {
      out.w = o.w ?? 640;
      out.h = o.h ?? 480;
      if (!(o.fit === 'contain' && GRAVITIES.includes(o.pos))) out.fit = 'cover';
    }
    return out;
  });
const choices = fc.array(fc.nat({ max: 1000 }), { minLength: 32, maxLength: 32 });

/** One spelling of a request: order, aliases, case and leading zeros chosen by `pick`. */
function spell(source: string, opts: Record<string, string | number>, picks: number[]): string {
  let i = 0;
  const pick = (n: number) => (picks[i++ % picks.length] as number) % n;
  const parts = Object.entries(opts).map(([name, value]) => {
    const names = ALIASES[name] ?? [name];
    const alias = names[pick(names.length)] as string;
    let text = String(value);
    if (typeof value === 'number' && pick(2) === 1) text = `00${text}`;
    if (typeof value === 'string' && pick(2) === 1) text = text.toUpperCase();
    return `${alias}=${encodeURIComponent(text)}`;
  });
  for (let j = parts.length - 1; j > 0; j--) {
    const k = pick(j + 1);
    [parts[j], parts[k]] = [parts[k] as string, parts[j] as string];
  }
  return `/${encodeKeyPath(source)}${parts.length ? `?${parts.join('&')}` : ''}`;
}

function requestFor(spec: VariantSpec): { url: string; saveData?: string } {
  const params: string[] = [];
  if (spec.width !== undefined) params.push(`w=${spec.width}`);
  if (spec.height !== undefined) params.push(`h=${spec.height}`);
  params.push(`fit=${spec.fit}`, `q=${spec.quality === 'lite' ? 'auto' : spec.quality}`, `f=${spec.format}`);
  if (spec.crop) params.push(`crop=${spec.crop.x},${spec.crop.y},${spec.crop.w},${spec.crop.h}`);
  if (spec.position) params.push(`pos=${spec.position}`);
  const url = `/${encodeKeyPath(spec.source)}?${params.join('&')}`;
  return spec.quality === 'lite' ? { url, saveData: 'on' } : { url };
}

function expectOk(result: ReturnType<typeof req>): { key: string; spec: VariantSpec } {
  if (!result.ok) throw new Error(`unexpected ${result.status}: ${result.message}`);
  return result;
}

describe('grammar properties (fast-check)', () => {
  it('canonical: any order, alias, case or leading zeros gives one key', () => {
    fc.assert(
      fc.property(sourceKey, options, fc.boolean(), choices, choices, (source, opts, chrome, a, b) => {
        const headers = chrome ? { accept: CHROME_ACCEPT } : {};
        const one = expectOk(req(spell(source, opts, a), headers));
        const two = expectOk(req(spell(source, opts, b), headers));
        expect(two.key).toBe(one.key);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("idempotent: normalizing a key's own request gives the same key", () => {
    fc.assert(
      fc.property(
        sourceKey,
        options,
        fc.boolean(),
        choices,
        fc.boolean(),
        (source, opts, chrome, picks, saveData) => {
          const headers = {
            ...(chrome ? { accept: CHROME_ACCEPT } : {}),
            ...(saveData ? { saveData: 'on' } : {}),
          };
          const first = expectOk(req(spell(source, opts, picks), headers));
          const again = requestFor(first.spec);
          const second = expectOk(req(again.url, again.saveData ? { saveData: again.saveData } : {}));
          expect(second.key).toBe(first.key);
          expect(second.spec).toEqual(first.spec);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('round trip: key → spec → key', () => {
    fc.assert(
      fc.property(sourceKey, options, fc.boolean(), choices, (source, opts, saveData, picks) => {
        const { key, spec } = expectOk(req(spell(source, opts, picks), saveData ? { saveData: 'on' } : {}));
        const parsed = parseVariantKey(key, DEFAULT_GRAMMAR_CONFIG);
        expect(parsed).toEqual(spec);
        expect(buildVariantKey(spec, DEFAULT_GRAMMAR_CONFIG)).toBe(key);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('bounded: every width from 1 to 100000 (and any dpr) yields at most ladder-size distinct keys', () => {
    const keys = new Set<string>();
    for (let w = 1; w <= 100_000; w++) {
      const result = req(`/a.jpg?w=${w}`);
      if (result.ok) keys.add(result.key);
      else expect(result.status).toBe(400);
    }
    expect(keys.size).toBe(DEFAULT_LADDER.length);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        (w, dpr) => {
          const result = req(`/a.jpg?w=${w}&dpr=${dpr.toFixed(3)}`);
          if (result.ok) expect(DEFAULT_LADDER).toContain(result.spec.width);
          else expect(result.status).toBe(400);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('bounded crops: one axis of any crop has at most 101 values, on the grid, holding the region asked for', () => {
    const edges = new Set<string>();
    for (let x = 0; x < 1000; x++) {
      const result = expectOk(req(`/a.jpg?crop=${x},0,${1000 - x},1000`));
      edges.add(result.key);
    }
    // x = 0…9 snaps to 0, the whole image (no crop token); 10…999 snap down to 10, 20 … 990:
    // 100 distinct keys for 1000 inputs.
    expect(edges.size).toBe(100);
    fc.assert(
      fc.property(cropValue, (value) => {
        const [x, y, w, h] = value.split(',').map(Number) as [number, number, number, number];
        const crop = expectOk(req(`/a.jpg?crop=${value}`)).spec.crop ?? { x: 0, y: 0, w: 1000, h: 1000 };
        for (const n of [crop.x, crop.y, crop.w, crop.h]) expect(n % 10).toBe(0);
        expect(crop.x).toBeLessThanOrEqual(x);
        expect(crop.y).toBeLessThanOrEqual(y);
        expect(crop.x + crop.w).toBeGreaterThanOrEqual(x + w);
        expect(crop.y + crop.h).toBeGreaterThanOrEqual(y + h);
        expect(x - crop.x).toBeLessThan(10);
        expect(crop.x + crop.w - (x + w)).toBeLessThan(10);
        expect(crop.x + crop.w).toBeLessThanOrEqual(1000);
        expect(crop.y + crop.h).toBeLessThanOrEqual(1000);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('refuses any key holding a C0, DEL, C1 (U+0080–U+009F) or U+2028/U+2029 character: 400 IMG_BAD_PATH', () => {
    const control = fc.oneof(
      fc.integer({ min: 0x00, max: 0x1f }),
      fc.integer({ min: 0x7f, max: 0x9f }),
      fc.constantFrom(0x2028, 0x2029),
    );
    fc.assert(
      fc.property(sourceKey, control, fc.nat(), (key, code, at) => {
        const cut = at % (key.length + 1);
        const bad = `${key.slice(0, cut)}${String.fromCharCode(code)}${key.slice(cut)}`;
        const result = req(`/${encodeKeyPath(bad)}?w=800`);
        expect(result).toMatchObject({ ok: false, status: 400, code: 'IMG_BAD_PATH' });
        expect((result as { message: string }).message).toContain('control characters are not allowed');
        expect(checkSourceKey(bad, bad)).toMatchObject({ code: 'IMG_BAD_PATH' });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('safe: no input makes it throw, and every key it produces is a safe S3 key', () => {
    const anyText = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom(
        '..',
        '%2e%2e',
        '%2F',
        '%00',
        '%252e',
        '\\',
        '//',
        '%',
        '%zz',
        '\ud800',
        'NaN',
        '-1',
        '1e9',
        ' ',
      ),
    );
    const path = fc
      .array(fc.tuple(anyText, fc.constantFrom('/', '')), { maxLength: 6 })
      .map((parts) => `/${parts.map(([text, sep]) => text + sep).join('')}`);
    const param = fc.record({
      name: fc.oneof(anyText, fc.constantFrom('w', 'h', 'dpr', 'fit', 'q', 'f', 'preset', 'width', 's')),
      value: anyText,
    });
    fc.assert(
      fc.property(
        path,
        fc.array(param, { maxLength: 20 }),
        anyText,
        fc.option(anyText),
        (p, params, accept, saveData) => {
          // Straight into the grammar: raw path, decoded parameters, headers as given.
          const result = normalizeRequest(
            { path: p, params, accept, saveData: saveData ?? undefined },
            DEFAULT_GRAMMAR_CONFIG,
          );
          if (!result.ok) {
            expect([400, 403]).toContain(result.status);
            expect(result.message.length).toBeLessThan(400);
            return;
          }
          expect(utf8Length(result.key)).toBeGreaterThan(0);
          expect(utf8Length(result.key)).toBeLessThanOrEqual(1024);
          expect(checkSourceKey(result.spec.source, result.key)).toBeUndefined();
          expect(result.key.split('/')).not.toContain('..');
          expect(parseVariantKey(result.key, DEFAULT_GRAMMAR_CONFIG)).toEqual(result.spec);
        },
      ),
      { numRuns: NUM_RUNS * 5 },
    );
  });
});

describe('utf8Length', () => {
  it('is the UTF-8 byte count of any well-formed string, and -1 with an unpaired surrogate', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (s) => {
        expect(utf8Length(s)).toBe(Buffer.byteLength(s));
      }),
      { numRuns: NUM_RUNS },
    );
    for (const bad of ['\ud800', 'a\udc00b', '\ud83d']) expect(utf8Length(bad)).toBe(-1);
    expect(utf8Length('\ud83d\ude00')).toBe(4);
  });
});
