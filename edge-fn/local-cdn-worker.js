// The local CDN (miniflare/workerd, an ES module with nodejs_compat). cli/dev-stack.ts prepends
// the built viewer-request bundle, so `handler(event)` below is the very function CloudFront
// runs, signed builds included (their `require('crypto')` is answered by node:crypto below).
// Then it does what CloudFront does: cache lookup on the rewritten URI (Cache API), on a miss
// the variants bucket, on 403/404 failover to the origin, cache what is cacheable, and say
// `x-cache: Hit|Miss from litepix-dev`. Bindings (env): VARIANTS_URL, ORIGIN_URL, CACHE_HOST (the
// cache keys' host: the stack deletes `<CACHE_HOST><variant URI>` when an original is replaced).
//
// The request's path as the viewer sent it comes in RAW_PATH_HEADER, set by the stack's front
// server (cli/local-front.ts): workerd normalises `.`/`..` segments away when it parses the
// URL, and CloudFront does not, so the function must see the raw one to refuse them.
import { createHmac } from 'node:crypto';

const PASS_HEADERS = [
  'content-type',
  'cache-control',
  'etag',
  'content-length',
  'last-modified',
  'x-litepix-error',
  'x-litepix-original-bytes',
  'x-litepix-quality',
];

// The client hints the viewer function reads, asked for on every response as the CloudFront
// response headers policy does (ACCEPT_CH in infra/lib/distribution.ts; a test compares them).
const ACCEPT_CH = 'ECT, RTT, Downlink, Sec-CH-DPR, Sec-CH-Width, DPR, Width';

const RAW_PATH_HEADER = 'x-litepix-raw-path';
let VARIANTS_URL = '';
let ORIGIN_URL = '';
let CACHE_HOST = '';

// The CloudFront runtime's modules, as the signed bundle asks for them.
// biome-ignore lint/correctness/noUnusedVariables: called by the prepended signed bundle
function require(name) {
  if (name === 'crypto') return { createHmac };
  throw new Error(`The local CDN has no module ${name}`);
}

export default {
  fetch(request, env) {
    VARIANTS_URL = env.VARIANTS_URL;
    ORIGIN_URL = env.ORIGIN_URL;
    CACHE_HOST = env.CACHE_HOST;
    return serve(request);
  },
};

function cloudFrontEvent(url, request) {
  // Parameter and header names are the viewer's: null-prototype maps, so `__proto__` is a name
  // like any other (an ordinary object would take it as its prototype, for every later request).
  const querystring = Object.create(null);
  for (const [name, value] of url.searchParams) {
    const key = encodeURIComponent(name);
    const entry = { value: encodeURIComponent(value) };
    const seen = querystring[key];
    if (!seen) querystring[key] = entry;
    else {
      if (!seen.multiValue) seen.multiValue = [{ value: seen.value }];
      seen.multiValue.push(entry);
    }
  }
  const headers = Object.create(null);
  // The headers the viewer function reads: Accept, Save-Data and the client hints.
  for (const name of [
    'accept',
    'save-data',
    'ect',
    'rtt',
    'downlink',
    'sec-ch-dpr',
    'dpr',
    'sec-ch-width',
    'width',
  ]) {
    const value = request.headers.get(name);
    if (value !== null) headers[name] = { value };
  }
  const uri = request.headers.get(RAW_PATH_HEADER) || url.pathname;
  return { version: '1.0', request: { method: request.method, uri, querystring, headers } };
}

// A variant served by the bucket carries the origin's debug headers as S3 user metadata
// (x-amz-meta-*); shown under the origin's names, as a viewer-response function would.
const STORED_METADATA = [
  ['x-amz-meta-quality', 'x-litepix-quality'],
  ['x-amz-meta-original-bytes', 'x-litepix-original-bytes'],
];

function copyHeaders(from, extra) {
  const headers = new Headers();
  for (const name of PASS_HEADERS) {
    const value = from.get(name);
    if (value !== null) headers.set(name, value);
  }
  for (const [stored, shown] of STORED_METADATA) {
    const value = from.get(stored);
    if (value !== null && !headers.has(shown)) headers.set(shown, value);
  }
  for (const name in extra) headers.set(name, extra[name]);
  headers.set('accept-ch', ACCEPT_CH);
  return headers;
}

// The playground (page, assets, its small API) is the local stack's own: passed to the origin
// server as is, method and body included. CloudFront has no such route.
function isPlayground(pathname) {
  return pathname === '/' || pathname.startsWith('/__litepix/');
}

async function serve(request) {
  const url = new URL(request.url);
  const head = request.method === 'HEAD';
  if (isPlayground(url.pathname)) {
    // What the playground's guard (cli/playground-guard.ts) judges a request by.
    const headers = {
      'content-type': request.headers.get('content-type') || 'application/octet-stream',
      'x-forwarded-host': url.host,
    };
    for (const name of ['origin', 'sec-fetch-site']) {
      const value = request.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    return fetch(`${ORIGIN_URL}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: head || request.method === 'GET' ? undefined : request.body,
    });
  }
  if (request.method !== 'GET' && !head) {
    return new Response('Method not allowed: expected GET or HEAD\n', {
      status: 405,
      headers: { allow: 'GET, HEAD' },
    });
  }
  const result = handler(cloudFrontEvent(url, request));
  if (result.statusCode) {
    const headers = {};
    for (const name in result.headers) headers[name] = result.headers[name].value;
    headers['x-cache'] = 'Error from litepix-dev';
    return new Response(head ? null : result.body.data, { status: result.statusCode, headers });
  }
  const cacheKey = new Request(`${CACHE_HOST}${result.uri}`);
  const cache = caches.default;
  const hit = await cache.match(cacheKey);
  if (hit) {
    return new Response(head ? null : hit.body, {
      status: hit.status,
      headers: copyHeaders(hit.headers, { 'x-cache': 'Hit from litepix-dev' }),
    });
  }
  let upstream = await fetch(`${VARIANTS_URL}${result.uri}`);
  let from = 'variants';
  if (upstream.status === 403 || upstream.status === 404) {
    await upstream.body?.cancel();
    upstream = await fetch(`${ORIGIN_URL}${result.uri}`);
    from = 'origin';
  }
  const headers = copyHeaders(upstream.headers, {
    'x-cache': 'Miss from litepix-dev',
    'x-litepix-from': from,
  });
  if (upstream.status !== 200) {
    return new Response(head ? null : upstream.body, { status: upstream.status, headers });
  }
  const body = await upstream.arrayBuffer();
  await cache.put(cacheKey, new Response(body, { status: 200, headers: copyHeaders(upstream.headers, {}) }));
  return new Response(head ? null : body, { status: 200, headers });
}
