import * as acorn from 'acorn';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUrl } from '../../edge-fn/sign-url.ts';
import { CLOUDFRONT_FUNCTION_MAX_BYTES } from '../../scripts/build.ts';
import { buildBundle, fixture, forbiddenSyntax, type Handler, loadInVm } from './bundle.ts';

let code: string;
let handler: Handler;

beforeAll(async () => {
  code = await buildBundle();
  handler = loadInVm(code);
});

/** What each literal CloudFront event must turn into. */
const CASES: Array<[string, { uri?: string; status?: number; body?: string }]> = [
  ['viewer-request-chrome-width', { uri: '/v1/photos/a.jpg/w828.qauto.avif' }],
  ['viewer-request-bare-original', { uri: '/v1/uploads/2026/My%20Photo.PNG/qauto.png' }],
  ['viewer-request-save-data-multivalue', { uri: '/v1/photos/b.jpeg/w750.qlite.webp' }],
  [
    'viewer-request-bad-width',
    { status: 400, body: 'Invalid width "huge": expected an integer from 1 to 4096\n' },
  ],
  [
    'viewer-request-traversal',
    {
      status: 400,
      body: 'Invalid path "/photos/%2e%2e/secret.jpg": "." and ".." segments are not allowed\n',
    },
  ],
  [
    'viewer-request-bad-query-encoding',
    { status: 400, body: 'Invalid query string: malformed percent-encoding in parameter "w"\n' },
  ],
];

function check(result: unknown, expected: { uri?: string; status?: number; body?: string }) {
  if (expected.uri) {
    expect(result).toMatchObject({ method: 'GET', uri: expected.uri, querystring: {} });
  } else {
    expect(result).toMatchObject({
      statusCode: expected.status,
      statusDescription: 'Bad Request',
      headers: {
        'content-type': { value: 'text/plain; charset=utf-8' },
        'cache-control': { value: 'public, max-age=60' },
      },
      body: { encoding: 'text', data: expected.body },
    });
  }
}

describe('the built viewer-request bundle', () => {
  it(`fits CloudFront's ${CLOUDFRONT_FUNCTION_MAX_BYTES}-byte limit`, () => {
    expect(Buffer.byteLength(code)).toBeLessThanOrEqual(CLOUDFRONT_FUNCTION_MAX_BYTES);
  });

  it('is one script with a top-level handler and nothing the cloudfront-js-2.0 runtime lacks', () => {
    const ast = acorn.parse(code, { ecmaVersion: 2020, sourceType: 'script' });
    const topLevel = ast.body.filter((n) => n.type === 'FunctionDeclaration').map((n) => n.id?.name);
    expect(topLevel).toContain('handler');
    expect(forbiddenSyntax(ast)).toEqual([]);
    expect(code).not.toMatch(/\b(globalThis|process|Buffer|TextEncoder|console|setTimeout|window|self)\b/);
  });

  it.each(CASES)('in a bare vm context: %s', (name, expected) => {
    check(handler(fixture(name)), expected);
  });

  it('in a bare vm context, with signing on: 403 without a valid signature, the key with one', async () => {
    const secret = 'edge-secret-0123456789';
    const signedCode = await buildBundle({ secrets: [secret] });
    expect(signedCode.startsWith("var _crypto=require('crypto');")).toBe(true);
    const signedHandler = loadInVm(signedCode, true);
    const url = signUrl('/photos/a.jpg', { w: 800 }, secret);
    const s = url.slice(url.indexOf('s=') + 2);
    const event = (querystring: Record<string, { value: string }>) => ({
      request: { method: 'GET', uri: '/photos/a.jpg', querystring, headers: {} },
    });
    expect(signedHandler(event({ w: { value: '800' }, s: { value: s } }))).toMatchObject({
      uri: '/v1/photos/a.jpg/w828.qauto.jpeg',
    });
    expect(signedHandler(event({ w: { value: '800' } }))).toMatchObject({
      statusCode: 403,
      headers: { 'cache-control': { value: 'no-store' } },
    });
    expect(signedHandler(event({ w: { value: '801' }, s: { value: s } }))).toMatchObject({ statusCode: 403 });
  });

  it('an unsigned build never touches require', () => {
    expect(code).not.toMatch(/\brequire\b/);
  });
});

describe('the built viewer-request bundle inside workerd (miniflare)', () => {
  let mf: Miniflare;

  beforeAll(async () => {
    // The bundle runs unchanged; a few lines around it turn a POSTed event into a call.
    const script = `${code}
addEventListener('fetch', (e) => e.respondWith(run(e.request)));
async function run(request) {
  const event = await request.json();
  return new Response(JSON.stringify(handler(event)), { headers: { 'content-type': 'application/json' } });
}`;
    mf = new Miniflare({ script, compatibilityDate: '2025-01-01', host: '127.0.0.1', port: 0 });
    await mf.ready;
  });

  afterAll(async () => {
    await mf?.dispose();
  });

  it.each(CASES)('%s', async (name, expected) => {
    const res = await mf.dispatchFetch('http://edge.test/', {
      method: 'POST',
      body: JSON.stringify(fixture(name)),
    });
    check(await res.json(), expected);
  });
});
