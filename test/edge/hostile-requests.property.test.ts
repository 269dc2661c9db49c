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
import { FITS, isError } from '../../edge-fn/grammar/params.ts';
import type { VariantSpec } from '../../edge-fn/grammar/types.ts';
import { type CfEvent, type CfValue, handleViewerRequest } from '../../edge-fn/viewer-handler.ts';
import { readEdgeConfig } from '../../scripts/build.ts';
import { buildBundle, type Handler, loadInVm } from './bundle.ts';

/** fast-check runs per property; three properties make well over 10,000 hostile requests. */
const RUNS = 10_000;

let bundle: Handler;
beforeAll(async () => {
  bundle = loadInVm(await buildBundle());
});

const huge = (n: number, unit: string) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);

/** Values chosen to break number parsing, decoding and keyword matching. */
const nastyValue = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '-1',
    '-800',
    '800',
    '0800',
    '4096',
    '4097',
    '1e3',
    '0x10',
    '1.5',
    '.5',
    '1.',
    'NaN',
    'Infinity',
    '-Infinity',
    'null',
    'undefined',
    'true',
    '[]',
    '{}',
    '99999999999999999999999999',
    '9007199254740993',
    ' 800',
    '800 ',
    '８００',
    '٨٠٠',
    'auto',
    'AUTO',
    'lite',
    'jpg',
    'JPEG',
    'webp',
    'avif',
    'png',
    'gif',
    'svg',
    'cover',
    'Contain',
    'thumb',
    'mobile',
    '__proto__',
    'constructor',
    'toString',
    '%',
    '%%',
    '%zz',
    '%00',
    '%2F',
    '%252F',
    '%E2%80%AE',
    '%ED%A0%80',
    '%C0%AE',
    '\u0000',
    '\u202e',
    '\ud800',
    '😀',
    '1;DROP TABLE',
    '../../etc/passwd',
  ),
  fc.string({ maxLength: 40 }),
  fc.integer({ min: -1e9, max: 1e9 }).map(String),
  fc.double().map(String),
  fc.nat({ max: 5000 }).map((n) => huge(n, '9')),
);

/** Parameters with a value of the right kind, so that many random queries make it to a key. */
const plausibleParam = fc.oneof(
  fc.record({
    name: fc.constantFrom('w', 'width', 'W', 'h', 'height'),
    value: fc.integer({ min: 1, max: 5000 }).map(String),
  }),
  fc.record({
    name: fc.constant('dpr'),
    value: fc.integer({ min: 90, max: 410 }).map((n) => String(n / 100)),
  }),
  fc.record({ name: fc.constantFrom('fit', 'FIT'), value: fc.constantFrom(...FITS, 'Cover') }),
  fc.record({
    name: fc.constantFrom('q', 'quality'),
    value: fc.oneof(fc.integer({ min: 0, max: 101 }).map(String), fc.constant('auto')),
  }),
  fc.record({
    name: fc.constantFrom('f', 'format'),
    value: fc.constantFrom('auto', 'jpg', 'jpeg', 'webp', 'avif', 'png'),
  }),
  fc.record({ name: fc.constant('preset'), value: fc.constantFrom('thumb', 'mobile', 'full') }),
);

const nastyName = fc.oneof(
  fc.constantFrom(
    'w',
    'W',
    'width',
    'WIDTH',
    'h',
    'height',
    'dpr',
    'DPR',
    'fit',
    'q',
    'quality',
    'f',
    'format',
    'preset',
    's',
    'x',
    '',
    '__proto__',
    'constructor',
    'hasOwnProperty',
    'w%00',
    '%77',
    'w ',
    '%zz',
    'w[]',
    'utm_source',
  ),
  fc.string({ maxLength: 12 }),
);

const param = fc.record({ name: nastyName, value: nastyValue });

const nastySegment = fc.oneof(
  fc.constantFrom(
    '..',
    '.',
    '%2e%2e',
    '%2E.',
    '%2f',
    '%2F',
    '%5c',
    '%255c',
    '%252e%252e',
    '\\',
    '',
    '%00',
    '%',
    '%zz',
    '%ED%A0%80',
    '%C0%AF',
    '%EF%BC%8F',
    'a.jpg',
    'photos',
    'v1',
    'qauto.webp',
    'w828.qauto.webp',
    '漢字.png',
    '%E6%BC%A2.png',
    '😀.jpg',
    'my%20pic.jpg',
    ' ',
    '~',
    "it's(1).jpg",
  ),
  fc.string({ maxLength: 20 }),
  fc.nat({ max: 3000 }).map((n) => huge(n, 'a')),
);

const nastyPath = fc.oneof(
  fc.array(nastySegment, { minLength: 0, maxLength: 8 }).map((segs) => `/${segs.join('/')}`),
  fc.constantFrom('/', '//', '/photos//a.jpg', 'photos/a.jpg', '', '/../a.jpg', '/a.jpg/..'),
  fc.string({ maxLength: 60 }).map((s) => `/${s}`),
);

const nastyAccept = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    'image/avif,image/webp,*/*',
    'image/webp;q=0',
    'image/avif;q=1.0001,image/webp;q=-1',
    'image/avif;q=NaN',
    'image/*',
    ';;;,,,',
    'IMAGE/AVIF',
  ),
  fc.string({ maxLength: 200 }),
  fc.nat({ max: 20_000 }).map((n) => `${huge(n, 'text/html;q=0.1,')}image/avif`),
);

const saveData = fc.option(fc.constantFrom('on', 'ON', ' on ', 'off', '', 'on, on', '\u0000'), {
  nil: undefined,
});

/** CloudFront's querystring shape: repeated names become multiValue. */
function querystring(params: Array<{ name: string; value: string }>): Record<string, CfValue> {
  const out: Record<string, CfValue> = {};
  for (const { name, value } of params) {
    const seen = Object.hasOwn(out, name) ? out[name] : undefined;
    if (!seen) {
      out[name] = { value };
      continue;
    }
    seen.multiValue ??= [{ value: seen.value }];
    seen.multiValue.push({ value });
  }
  return out;
}

function event(
  uri: string,
  params: Array<{ name: string; value: string }>,
  accept?: string,
  save?: string,
): CfEvent {
  const headers: Record<string, CfValue> = {};
  if (accept !== undefined) headers.accept = { value: accept };
  if (save !== undefined) headers['save-data'] = { value: save };
  return { version: '1.0', request: { method: 'GET', uri, querystring: querystring(params), headers } };
}

interface Answer {
  kind: 'key' | 'refusal';
  key?: string;
  spec?: VariantSpec;
  status?: number;
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
    expect(headers['x-litepix-error']?.value).toMatch(/^IMG_BAD_(PARAM|PATH|SIGNATURE|KEY)$/);
    expect(headers['content-type']?.value).toBe('text/plain; charset=utf-8');
    const body = (out.body as { data: string }).data;
    // Messages quote what was received, cut short: a huge input never comes back whole.
    expect(body.length).toBeLessThan(600);
    return { kind: 'refusal', status: out.statusCode };
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
            // Unsigned mode never answers 403.
            expect(answer.status).toBe(400);
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
    // w and h: each a ladder step or absent; fit only counts when both are set.
    const sizeCombos = sizes * sizes * FITS.length + 2 * sizes + 1;
    const qualities = 100 + 2; // 1–100, auto, lite
    const formats = 4; // jpeg webp avif png
    const bound = sizeCombos * qualities * formats;
    expect(bound).toBe(2_823_360); // 37 steps: the documented ceiling per original
    const widths = new Set<number | undefined>();
    const seen = new Set<string>();
    fc.assert(
      fc.property(
        fc.array(param, { maxLength: 1 }),
        fc.array(plausibleParam, { maxLength: 6 }),
        nastyAccept,
        saveData,
        (noise, plausible, accept, save) => {
          const answer = run(event('/photos/a.jpg', [...plausible, ...noise], accept, save));
          if (answer.kind !== 'key' || !answer.spec) return;
          const spec = answer.spec;
          expect(spec.source).toBe('photos/a.jpg');
          for (const side of [spec.width, spec.height]) {
            if (side !== undefined) expect(ladder).toContain(side);
          }
          expect(FITS).toContain(spec.fit);
          if (spec.width === undefined || spec.height === undefined) expect(spec.fit).toBe('inside');
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
