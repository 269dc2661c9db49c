/**
 * The generators of the hostile-request properties (test/edge/hostile-requests.property.test.ts):
 * values, names, paths and headers chosen to break parsing, decoding and keyword matching, and
 * plausible parameters so that many random queries make it to a key.
 */
import fc from 'fast-check';
import { FITS, POSITIONS } from '../../edge-fn/grammar/params.ts';
import type { CfEvent, CfValue } from '../../edge-fn/viewer-handler.ts';

export const huge = (n: number, unit: string) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);

/** Values chosen to break number parsing, decoding and keyword matching. */
export const nastyValue = fc.oneof(
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
export const plausibleParam = fc.oneof(
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
  fc.record({
    name: fc.constant('maxkb'),
    value: fc.integer({ min: 0, max: 12000 }).map(String),
  }),
  fc.record({
    name: fc.constantFrom('crop', 'CROP'),
    value: fc.oneof(
      // Inside the image (most), or anything near it: too few or many numbers, past an edge.
      fc
        .tuple(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 999 }), fc.nat(), fc.nat())
        .map(([x, y, a, b]) => `${x},${y},${1 + (a % (1000 - x))},${1 + (b % (1000 - y))}`),
      fc
        .tuple(
          fc.array(fc.integer({ min: 0, max: 1010 }), { minLength: 3, maxLength: 5 }),
          fc.constantFrom(',', ', ', ';'),
        )
        .map(([n, separator]) => n.join(separator)),
    ),
  }),
  fc.record({
    name: fc.constantFrom('pos', 'position'),
    value: fc.constantFrom(...POSITIONS, 'center', 'Top-Left', 'middle', 'north'),
  }),
);

export const nastyName = fc.oneof(
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
    'crop',
    'pos',
    'position',
    'maxkb',
    'exp',
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

export const param = fc.record({ name: nastyName, value: nastyValue });

export const nastySegment = fc.oneof(
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

export const nastyPath = fc.oneof(
  fc.array(nastySegment, { minLength: 0, maxLength: 8 }).map((segs) => `/${segs.join('/')}`),
  fc.constantFrom('/', '//', '/photos//a.jpg', 'photos/a.jpg', '', '/../a.jpg', '/a.jpg/..'),
  fc.string({ maxLength: 60 }).map((s) => `/${s}`),
);

export const nastyAccept = fc.oneof(
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

export const saveData = fc.option(fc.constantFrom('on', 'ON', ' on ', 'off', '', 'on, on', '\u0000'), {
  nil: undefined,
});

/** CloudFront's querystring shape: repeated names become multiValue. */
export function querystring(params: Array<{ name: string; value: string }>): Record<string, CfValue> {
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

export function event(
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
