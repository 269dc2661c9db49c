/**
 * Edge benchmark: viewer-request normalizations per second on a realistic mix (mixed
 * parameters and aliases, browser Accept headers, Save-Data, ~10% invalid). Runs the built
 * bundle (dist/edge-fn/viewer-request.js) in this Node process.
 */
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { VIEWER_BUNDLE } from '../scripts/build.ts';

const ACCEPTS = [
  'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
  'image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  'image/webp,*/*',
  'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5',
  '*/*',
];
const QUERIES: Array<Record<string, string>> = [
  { w: '800', q: 'auto' },
  { width: '375', dpr: '3' },
  { w: '414', h: '300', fit: 'cover' },
  {},
  { preset: 'mobile' },
  { w: '1200', f: 'webp', q: '75' },
  { h: '640', quality: 'auto' },
  { w: '320', dpr: '2.625' },
  { w: 'abc' }, // invalid
  { w: '800', zoom: '2' }, // invalid
];
const PATHS = [
  '/photos/a.jpg',
  '/uploads/2026/11/IMG_0001.JPG',
  '/products/sku-123/main.png',
  '/a%20b/c.webp',
];

interface CfEvent {
  request: {
    uri: string;
    querystring: Record<string, { value: string }>;
    headers: Record<string, { value: string }>;
  };
}

function events(n: number): CfEvent[] {
  const out: CfEvent[] = [];
  for (let i = 0; i < n; i++) {
    const q = QUERIES[i % QUERIES.length] as Record<string, string>;
    const headers: Record<string, { value: string }> = {
      accept: { value: ACCEPTS[i % ACCEPTS.length] as string },
    };
    if (i % 7 === 0) headers['save-data'] = { value: 'on' };
    out.push({
      request: {
        uri: PATHS[i % PATHS.length] as string,
        querystring: Object.fromEntries(Object.entries(q).map(([k, v]) => [k, { value: v }])),
        headers,
      },
    });
  }
  return out;
}

export interface EdgeBenchResult {
  normalizationsPerSecond: number;
  microsecondsEach: number;
  invalidShare: number;
  bundleBytes: number;
}

export function runEdgeBench(durationMs = 2000): EdgeBenchResult {
  const code = readFileSync(VIEWER_BUNDLE, 'utf8');
  const handler = vm.runInThisContext(`(function(){${code}\nreturn handler;})()`) as (e: CfEvent) => unknown;
  const pool = events(1000);
  // The handler rewrites events in place, so each run gets fresh copies (copying is not timed).
  const batch = () =>
    pool.map((e) => ({ request: { ...e.request, querystring: { ...e.request.querystring } } }));
  let invalid = 0;
  for (const e of batch()) if ('statusCode' in (handler(e) as object)) invalid++;
  let count = 0;
  let elapsed = 0;
  while (elapsed < durationMs) {
    const copies = batch();
    const start = process.hrtime.bigint();
    for (let i = 0; i < copies.length; i++) handler(copies[i] as CfEvent);
    elapsed += Number(process.hrtime.bigint() - start) / 1e6;
    count += copies.length;
  }
  const perSecond = Math.round((count / elapsed) * 1000);
  return {
    normalizationsPerSecond: perSecond,
    microsecondsEach: Number((1e6 / perSecond).toFixed(3)),
    invalidShare: invalid / pool.length,
    bundleBytes: Buffer.byteLength(code),
  };
}
