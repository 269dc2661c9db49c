// The local CDN (miniflare/workerd, service-worker format). cli/dev-stack.ts prepends the
// built viewer-request bundle, so `handler(event)` below is the very function CloudFront runs.
// Then it does what CloudFront does: cache lookup on the rewritten URI (Cache API), on a miss
// the variants bucket, on 403/404 failover to the origin, cache what is cacheable, and say
// `x-cache: Hit|Miss from litepix-dev`. Bindings (globals): VARIANTS_URL, ORIGIN_URL.

const CACHE_HOST = 'http://litepix-dev.cache';
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

addEventListener('fetch', (event) => {
  event.respondWith(serve(event.request));
});

function cloudFrontEvent(url, request) {
  const querystring = {};
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
  const headers = {};
  for (const name of ['accept', 'save-data']) {
    const value = request.headers.get(name);
    if (value !== null) headers[name] = { value };
  }
  return { version: '1.0', request: { method: request.method, uri: url.pathname, querystring, headers } };
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
    return fetch(`${ORIGIN_URL}${url.pathname}${url.search}`, {
      method: request.method,
      headers: { 'content-type': request.headers.get('content-type') || 'application/octet-stream' },
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
