/**
 * Hostile viewer requests through the BUILT viewer bundle (bare vm context) and the TypeScript
 * handler side by side: random and adversarial paths, query strings and headers. Whatever comes
 * in, the function never throws, and answers either a rewritten request whose URI is a
 * canonical variant key the origin accepts, or a 400/403 it serves itself. The variants one
 * original can have stay within a bound computed from the grammar.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GRAMMAR_CONFIG, decodePath, LIMITS, parseVariantKey } from '../../edge-fn/grammar/index.ts';
import { FITS, isError, POSITIONS } from '../../edge-fn/grammar/params.ts';
import type { VariantSpec } from '../../edge-fn/grammar/types.ts';
import { isCanonicalCrop } from '../../edge-fn/grammar/variant-key.ts';
import { type CfEvent, handleViewerRequest } from '../../edge-fn/viewer-handler.ts';
import { readEdgeConfig } from '../../scripts/build.ts';
import { buildBundle, type Handler, loadInVm } from './bundle.ts';
import {
  event,
  huge,
  nastyAccept,
  nastyPath,
  param,
  plausibleParam,
  saveData,
} from './hostile-arbitraries.ts';

/** fast-check runs per property; three properties make well over 10,000 hostile requests. */
const RUNS = 10_000;

let bundle: Handler;
beforeAll(async () => {
  bundle = loadInVm(await buildBundle());
});

interface Answer {
  kind: 'key' | 'refusal';
  key?: string;
  spec?: VariantSpec;
  status?: number;
  code?: string | undefined;
}

const edgeConfig = readEdgeConfig(undefined);

/** Runs one event through the bundle and the TS handler; checks the invariants; returns the answer. */
function run(e: CfEvent): Answer {
  const copy = structuredClone(e);
  const out = bundle(e) as Record<string, unknown>;
  const reference = handleViewerRequest(copy, edgeConfig) as unknown as Record<string, unknown>;
  // The bundle is the TypeScript handler, compiled: both give the very same answer.
  expect(JSON.parse(JSON.stringify(out))).toEqual(JSON.parse(JSON.stringify(reference)));
  if (typeof out.statusCode === 'number') {
    const headers = out.headers as Record<string, { value: string }>;
    expect([400, 403]).toContain(out.statusCode);
    const code = headers['x-litepix-error']?.value;
    // 403 IMG_EXPIRED: an `exp` in the past (any small number is one).
    expect(code).toMatch(
      out.statusCode === 403 ? /^IMG_(BAD_SIGNATURE|EXPIRED)$/ : /^IMG_BAD_(PARAM|PATH|KEY)$/,
    );
    expect(headers['content-type']?.value).toBe('text/plain; charset=utf-8');
    const body = (out.body as { data: string }).data;
    // Messages quote what was received, cut short: a huge input never comes back whole.
    expect(body.length).toBeLessThan(600);
    return { kind: 'refusal', status: out.statusCode, code };
  }
  expect(out.querystring).toEqual({});
  expect(typeof out.uri).toBe('string');
  const uri = out.uri as string;
  const key = decodePath(uri);
  if (isError(key)) throw new Error(`rewritten URI ${uri} does not decode: ${key.message}`);
  expect(Buffer.byteLength(key)).toBeLessThanOrEqual(LIMITS.maxKeyBytes);
  expect(key.split('/')).not.toContain('..');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: no control byte may reach an S3 key
  expect(key).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\\]/);
  const spec = parseVariantKey(key, DEFAULT_GRAMMAR_CONFIG);
  if (isError(spec)) {
    // The one key the edge may write that the origin refuses: an original that is itself a
    // variant key (refused at the origin with a cached 400, see SECURITY.md).
    expect(spec.message).toContain('is itself a variant key');
    return { kind: 'refusal', status: 400 };
  }
  return { kind: 'key', key, spec };
}

describe('hostile viewer requests (built bundle in vm, and the TS handler)', () => {
  it(`never throw and answer a canonical key or a 400 (${RUNS} random paths, queries and headers)`, () => {
    let keys = 0;
    let refusals = 0;
    fc.assert(
      fc.property(
        nastyPath,
        fc.array(param, { maxLength: 20 }),
        nastyAccept,
        saveData,
        (path, params, accept, save) => {
          const answer = run(event(path, params, accept, save));
          if (answer.kind === 'key') keys++;
          else {
            refusals++;
            // Unsigned mode answers 403 only to an expired link.
            if (answer.status === 403) expect(answer.code).toBe('IMG_EXPIRED');
            else expect(answer.status).toBe(400);
          }
        },
      ),
      { numRuns: RUNS },
    );
    // Both outcomes were exercised (the generators are not all-garbage or all-valid).
    expect(keys).toBeGreaterThan(RUNS / 50);
    expect(refusals).toBeGreaterThan(RUNS / 10);
  });

  it(`keeps the variants of one original within the grammar's bound (${RUNS} random queries)`, () => {
    const ladder = DEFAULT_GRAMMAR_CONFIG.ladder;
    const sizes = ladder.length;
    // w and h: each a ladder step or absent; fit only counts when both are set, and so does a
    // position: any of 10 with fit=cover, the 8 gravities with fit=contain.
    const sizeCombos = sizes * sizes * (FITS.length + POSITIONS.length + 8) + 2 * sizes + 1;
    const qualities = 100 + 2; // 1–100, auto, lite
    const formats = 4; // jpeg webp avif png
    const budgets = DEFAULT_GRAMMAR_CONFIG.budgets.length + 1; // or none
    // A crop is one interval of the 101-point grid (0, 10 … 1000) per axis: C(101, 2) = 5050
    // each; the whole image, one of them, has no token.
    const crops = 5050 * 5050;
    const withoutCrops = sizeCombos * qualities * formats * budgets;
    expect(withoutCrops).toBe(218_914_032); // the documented ceiling per original, no crop
    const bound = withoutCrops * crops;
    expect(bound).toBeLessThan(Number.MAX_SAFE_INTEGER);
    const widths = new Set<number | undefined>();
    const seen = new Set<string>();
    let cropped = 0;
    let anchored = 0;
    fc.assert(
      fc.property(
        fc.array(param, { maxLength: 1 }),
        fc.array(plausibleParam, { maxLength: 6 }),
        // A box that a position can anchor, sometimes (else positions are nearly always 400s).
        fc.option(fc.constantFrom('cover', 'contain'), { nil: undefined }),
        nastyAccept,
        saveData,
        (noise, plausible, box, accept, save) => {
          const boxed = box
            ? [
                { name: 'w', value: '640' },
                { name: 'h', value: '480' },
                { name: 'fit', value: box },
              ]
            : [];
          const answer = run(event('/photos/a.jpg', [...boxed, ...plausible, ...noise], accept, save));
          if (answer.kind !== 'key' || !answer.spec) return;
          const spec = answer.spec;
          expect(spec.source).toBe('photos/a.jpg');
          for (const side of [spec.width, spec.height]) {
            if (side !== undefined) expect(ladder).toContain(side);
          }
          expect(FITS).toContain(spec.fit);
          if (spec.width === undefined || spec.height === undefined) expect(spec.fit).toBe('inside');
          if (spec.crop) {
            cropped++;
            expect(isCanonicalCrop(spec.crop)).toBe(true);
          }
          if (spec.position) {
            anchored++;
            expect(spec.fit === 'cover' || spec.fit === 'contain').toBe(true);
            if (spec.fit === 'contain') expect(['attention', 'entropy']).not.toContain(spec.position);
          }
          expect(['jpeg', 'webp', 'avif', 'png']).toContain(spec.format);
          if (typeof spec.quality === 'number') {
            expect(Number.isInteger(spec.quality) && spec.quality >= 1 && spec.quality <= 100).toBe(true);
          } else expect(['auto', 'lite']).toContain(spec.quality);
          widths.add(spec.width);
          seen.add(answer.key ?? '');
        },
      ),
      { numRuns: RUNS },
    );
    expect(seen.size).toBeGreaterThan(200);
    // Crops and positions were exercised, not only refused.
    expect(cropped).toBeGreaterThan(RUNS / 100);
    expect(anchored).toBeGreaterThan(RUNS / 500);
    expect(seen.size).toBeLessThanOrEqual(bound);
    expect(widths.size).toBeLessThanOrEqual(sizes + 1);
  });

  it('refuses long URIs, enormous queries and huge numbers at the edge with a 400', () => {
    const cases: CfEvent[] = [
      event(`/${huge(1100, 'a')}.jpg`, []),
      event(`/${huge(8000, 'a/')}.jpg`, []),
      event(
        '/a.jpg',
        Array.from({ length: 200 }, (_, i) => ({ name: `p${i}`, value: '1' })),
      ),
      event('/a.jpg', [{ name: 'w', value: huge(100_000, '9') }]),
      event('/a.jpg', [
        { name: 'w', value: '800' },
        { name: 'width', value: '801' },
      ]),
      event('/a.jpg', [{ name: 'dpr', value: huge(5000, '1') }]),
      event('/photos/%2e%2e/%2e%2e/etc/passwd', []),
      event('/photos%2f..%2fsecret.jpg', []),
      event('/photos/%252e%252e/a.jpg', []),
    ];
    for (const e of cases) {
      expect(run(e)).toMatchObject({ kind: 'refusal', status: 400 });
    }
    // An Accept header of 200 KB is read only up to its first 4096 characters: the
    // image/avif at its end is not seen, and the answer is the legacy format.
    const big = run(event('/a.jpg', [], `${huge(200_000, 'text/html;q=0.1,')}image/avif`));
    expect(big).toMatchObject({ kind: 'key', key: 'v1/a.jpg/qauto.jpeg' });
  });
});
