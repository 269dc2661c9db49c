/**
 * The playground's server side over real HTTP, in front of a real origin and s3rver: page and
 * assets, listing, uploads (checked like the origin checks a source), originals, signed URLs.
 */
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlaygroundRoutes, uploadKey } from '../../cli/playground.ts';
import type { EdgeSupport } from '../../cli/playground-viewer.ts';
import { DEFAULT_GRAMMAR_CONFIG, type Signing } from '../../edge-fn/grammar/index.ts';
import { hmacSha256Base64Url } from '../../edge-fn/sign-url.ts';
import { createOriginServer } from '../../origin-fn/http-adapter.ts';
import { createLog } from '../../origin-fn/log.ts';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import { errorOf, keyOf, req } from '../edge/helpers.ts';
import { fixture } from '../helpers/images.ts';
import { ORIGINALS, type OriginStack, startOriginStack, VARIANTS } from '../helpers/origin-stack.ts';

const SECRET = 'playground-test-secret-0123456789';
const MAX_BYTES = 120_000;
let stack: OriginStack;
let server: Server;
let base: string;

beforeAll(async () => {
  stack = await startOriginStack();
  await stack.putOriginal('samples/kodim03.jpg', fixture('kodim03-q95.jpg'), 'image/jpeg');
  server = createOriginServer(
    stack.origin,
    createPlaygroundRoutes({
      client: stack.s3.client,
      s3Endpoint: stack.s3.endpoint,
      originalsBucket: ORIGINALS,
      variantsBucket: VARIANTS,
      limits: { ...DEFAULT_LIMITS, maxSourceBytes: MAX_BYTES },
      edge: { grammar: DEFAULT_GRAMMAR_CONFIG, secrets: [SECRET] },
      transformer: createTransformer(DEFAULT_LIMITS),
      log: createLog({ level: 'silent' }),
    }),
  );
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((ok) => server?.close(ok));
  await stack?.stop();
});

/** `GET api/url` for samples/kodim03.jpg on https://cdn.example with `query`: its status and JSON. */
async function built(query: string): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(
    `${base}/__litepix/api/url?key=samples/kodim03.jpg&base=https://cdn.example&${query}`,
  );
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

const upload = (name: string, body: Buffer) =>
  fetch(`${base}/__litepix/api/upload?name=${encodeURIComponent(name)}`, {
    method: 'POST',
    body: new Uint8Array(body),
  });

async function stored(key: string): Promise<boolean> {
  return stack.s3.client.send(new HeadObjectCommand({ Bucket: ORIGINALS, Key: key })).then(
    () => true,
    () => false,
  );
}

async function originalCount(): Promise<number> {
  const res = await fetch(`${base}/__litepix/api/originals`);
  return ((await res.json()) as { originals: unknown[] }).originals.length;
}

describe('uploadKey', () => {
  const bytes = Buffer.from('same bytes');
  it.each([
    ['photo.jpg', 'photo.jpg'],
    ['../../etc/passwd.jpg', 'passwd.jpg'],
    ['C:\\Users\\me\\My Photo (1).JPG', 'My-Photo-1-.JPG'],
    ['.hidden.png', 'hidden.png'],
    ['ünïcode ファイル.webp', 'ünïcode-ファイル.webp'],
    ['tab\tand\nnewline.gif', 'tab-and-newline.gif'],
    ['...', 'image'],
  ])('stores %j under uploads/<hash>/%s', (name, safe) => {
    expect(uploadKey(name, bytes)).toMatch(
      new RegExp(`^uploads/[0-9a-f]{12}/${safe.replace(/[.()]/g, '\\$&')}$`),
    );
  });

  it('addresses uploads by content: other bytes, other key', () => {
    expect(uploadKey('a.jpg', bytes)).toBe(uploadKey('a.jpg', Buffer.from('same bytes')));
    expect(uploadKey('a.jpg', bytes)).not.toBe(uploadKey('a.jpg', Buffer.from('other bytes')));
  });
});

describe('the playground routes', () => {
  it('serves the page and its assets with their content types', async () => {
    for (const [path, type] of [
      ['/', 'text/html; charset=utf-8'],
      ['/__litepix/app.js', 'text/javascript; charset=utf-8'],
      ['/__litepix/style.css', 'text/css; charset=utf-8'],
      ...['compare', 'network', 'variant-facts'].map((m) => [
        `/__litepix/${m}.js`,
        'text/javascript; charset=utf-8',
      ]),
    ]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect((await res.text()).length).toBeGreaterThan(500);
    }
  });

  it('leaves variant keys to the origin', async () => {
    const res = await fetch(`${base}/v1/samples/kodim03.jpg/w320.qauto.webp`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
  });

  it('accepts an image upload, stores it content-addressed, and lists and serves it', async () => {
    const photo = fixture('kodim23-q95.jpg');
    const res = await upload('My Parrots.jpg', photo);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { key: string; bytes: number; format: string; width: number };
    expect(body).toMatchObject({ bytes: photo.length, format: 'jpeg', width: 768, height: 512 });
    expect(body.key).toMatch(/^uploads\/[0-9a-f]{12}\/My-Parrots\.jpg$/);

    const list = (await (await fetch(`${base}/__litepix/api/originals`)).json()) as {
      originals: Array<{ key: string; bytes: number }>;
    };
    expect(list.originals).toContainEqual({ key: body.key, bytes: photo.length });

    const original = await fetch(`${base}/__litepix/api/original?key=${encodeURIComponent(body.key)}`);
    expect(original.status).toBe(200);
    expect(original.headers.get('content-type')).toBe('image/jpeg');
    expect(original.headers.get('x-litepix-width')).toBe('768');
    expect(original.headers.get('x-litepix-height')).toBe('512');
    expect(Buffer.from(await original.arrayBuffer()).equals(photo)).toBe(true);

    // The origin serves a variant of the upload at once.
    const variant = await fetch(`${base}/v1/${body.key}/w320.qauto.webp`);
    expect(variant.status).toBe(200);
  });

  it.each([
    {
      what: 'a text file named .jpg',
      name: 'notes.jpg',
      bytes: Buffer.from('just text'),
      status: 415,
      code: 'IMG_UNSUPPORTED',
    },
    {
      what: 'an empty file',
      name: 'empty.png',
      bytes: Buffer.alloc(0),
      status: 415,
      code: 'IMG_UNSUPPORTED',
    },
    {
      what: 'a damaged JPEG',
      name: 'broken.jpg',
      bytes: fixture('jpeg-corrupt-header.jpg'),
      status: 415,
      code: 'IMG_CORRUPT',
    },
    {
      what: 'an SVG (off by default)',
      name: 'logo.svg',
      bytes: fixture('svg-with-script.svg'),
      status: 415,
      code: 'IMG_UNSUPPORTED',
    },
    {
      what: 'a file over the size limit',
      name: 'big.jpg',
      bytes: Buffer.concat([fixture('kodim03-q95.jpg'), Buffer.alloc(10_000)]),
      status: 413,
      code: 'IMG_TOO_LARGE',
    },
  ])('refuses $what with $status and stores nothing', async ({ name, bytes, status, code }) => {
    const before = await originalCount();
    const res = await upload(name, bytes);
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe(code);
    expect(body.message.length).toBeGreaterThan(20);
    expect(await stored(uploadKey(name, bytes))).toBe(false);
    expect(await originalCount()).toBe(before);
  });

  it('refuses an upload without a name', async () => {
    const res = await fetch(`${base}/__litepix/api/upload`, {
      method: 'POST',
      body: fixture('kodim03-q95.jpg'),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'IMG_BAD_PARAM',
      message: 'Invalid name: expected the file name, 1 to 255 characters',
    });
  });

  it('answers a missing original with 404 and an unsafe key with 400', async () => {
    const missing = await fetch(`${base}/__litepix/api/original?key=samples/none.jpg`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'IMG_NOT_FOUND' });
    const unsafe = await fetch(`${base}/__litepix/api/original?key=${encodeURIComponent('a/../b.jpg')}`);
    expect(unsafe.status).toBe(400);
    expect(await unsafe.json()).toMatchObject({ error: 'IMG_BAD_KEY' });
  });

  it('builds signed URLs that the edge accepts, and names a bad parameter', async () => {
    const res = await fetch(
      `${base}/__litepix/api/url?key=samples/kodim03.jpg&base=https://cdn.example&w=300&f=webp&q=`,
    );
    expect(res.status).toBe(200);
    const { url } = (await res.json()) as { url: string };
    expect(url).toMatch(/^https:\/\/cdn\.example\/samples\/kodim03\.jpg\?f=webp&w=300&s=[\w-]{43}$/);
    const signing: Signing = { secrets: [SECRET], hmac: hmacSha256Base64Url };
    const path = url.slice('https://cdn.example'.length);
    expect(keyOf(req(path, {}, DEFAULT_GRAMMAR_CONFIG, signing))).toBe(
      'v1/samples/kodim03.jpg/w320.qauto.webp',
    );
    const forged = path.replace('w=300', 'w=600');
    expect(errorOf(req(forged, {}, DEFAULT_GRAMMAR_CONFIG, signing))?.status).toBe(403);

    const bad = await fetch(`${base}/__litepix/api/url?key=samples/kodim03.jpg&base=https://cdn.example&w=0`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: 'IMG_BAD_PARAM',
      message: 'Invalid width "0": expected an integer from 1 to 4096',
    });
    const badBase = await fetch(`${base}/__litepix/api/url?key=samples/kodim03.jpg&base=javascript:alert(1)`);
    expect(badBase.status).toBe(400);
  });

  it('names the variant key the edge makes of a URL with the viewer headers, signed URLs included', async () => {
    const avif = `accept=${encodeURIComponent('image/avif,image/webp,*/*')}`;
    const plain = await built(`w=300&${avif}`);
    expect(plain.status).toBe(200);
    expect(plain.body).toMatchObject({ key: 'v1/samples/kodim03.jpg/w320.qauto.avif', region: null });
    // The same URL: the headers are not in it, only in the key.
    const lite = await built(`w=300&${avif}&save-data=on`);
    expect(lite.body).toEqual({ ...plain.body, key: 'v1/samples/kodim03.jpg/w320.qlite.avif' });
    expect((await built('w=300')).body.key).toBe('v1/samples/kodim03.jpg/w320.qauto.jpeg');
    expect((await built('w=300&ect=3g')).body.key).toMatch(
      /^v1\/samples\/kodim03\.jpg\/w320\.q(auto|lite)\.jpeg$/,
    );
    expect(await built('w=300&ect=5g')).toEqual({
      status: 400,
      body: { error: 'IMG_BAD_PARAM', message: 'Invalid ect "5g": expected 4g, 3g, 2g, slow-2g' },
    });
  });

  it("answers the grammar's budgets and whether this edge reads ECT", async () => {
    const res = await fetch(`${base}/__litepix/api/config`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { budgets: number[]; ect: string[]; supports: EdgeSupport };
    expect(body.budgets).toEqual(DEFAULT_GRAMMAR_CONFIG.budgets);
    expect(body.ect).toEqual(['4g', '3g', '2g', 'slow-2g']);
    // What it says matches what the edge does with a real request.
    expect(body.supports.ect).toBe((await built('')).body.key !== (await built('ect=2g')).body.key);
    expect(body.supports.ect).toBe(true);
    // A budget from the ladder goes into the key; one below the ladder is the edge's 400.
    expect(await built('maxkb=60')).toMatchObject({
      status: 200,
      body: { key: 'v1/samples/kodim03.jpg/qauto.kb50.jpeg' },
    });
    expect(await built('maxkb=4')).toMatchObject({ status: 400, body: { error: 'IMG_BAD_PARAM' } });
  });

  it('pre-warms posted Data Units with signed URLs, and refuses too many or a bad rewrite mode', async () => {
    const prewarm = (body: string, query = '') =>
      fetch(`${base}/__litepix/api/prewarm?base=https://cdn.example${query}`, { method: 'POST', body });
    const res = await prewarm('{"id":"a","img":"samples/kodim03.jpg"}\nnot json\n');
    expect(res.status).toBe(200);
    const { totals, results } = (await res.json()) as {
      totals: { units: { done: number; failed: number } };
      results: Array<{ report: { status: string; code?: string }; unit?: { img: string } }>;
    };
    expect(totals.units).toMatchObject({ done: 1, failed: 1 });
    expect(results[1]?.report).toMatchObject({ status: 'failed', code: expect.stringMatching(/JSON/) });
    const url = results[0]?.unit?.img ?? '';
    expect(url).toMatch(/^https:\/\/cdn\.example\/samples\/kodim03\.jpg\?preset=mobile&s=[\w-]{43}$/);
    const signing: Signing = { secrets: [SECRET], hmac: hmacSha256Base64Url };
    expect(keyOf(req(url.slice('https://cdn.example'.length), {}, DEFAULT_GRAMMAR_CONFIG, signing))).toBe(
      'v1/samples/kodim03.jpg/w828.qauto.jpeg',
    );
    expect(await stack.variantKeys()).toContain('v1/samples/kodim03.jpg/w828.qauto.webp');

    const many = await prewarm(Array.from({ length: 51 }, (_, i) => `{"id":${i}}`).join('\n'));
    expect(many.status).toBe(400);
    expect(((await many.json()) as { message: string }).message).toContain('expected 1 to 50');
    const mode = await prewarm('{"id":1}', '&rewrite=sideways');
    expect(mode.status).toBe(400);
    expect(await mode.json()).toEqual({
      error: 'IMG_BAD_PARAM',
      message: 'Invalid rewrite "sideways": expected preset or map',
    });
  });

  it('lists its routes when asked for an unknown one', async () => {
    const res = await fetch(`${base}/__litepix/api/nothing`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toContain('POST api/upload?name=');
  });
});

/** A request with the headers a browser (or a DNS-rebinding page) would send; fetch forbids some. */
function browserRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<{ status: number; json: { error?: string; message?: string } }> {
  const { hostname, port } = new URL(base);
  return new Promise((ok, fail) => {
    const r = request({ host: hostname, port, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
      });
      res.on('end', () =>
        ok({ status: res.statusCode ?? 0, json: text.startsWith('{') ? JSON.parse(text) : {} }),
      );
    });
    r.on('error', fail);
    r.end(body);
  });
}

describe('the playground API refuses other sites (issue 19 item 14)', () => {
  const photo = fixture('kodim03-q95.jpg');
  const own = () => new URL(base).host;

  it.each([
    ['a cross-site form POST (Origin of another site)', { origin: 'https://evil.example' }],
    ['a POST from another local port (same site, other origin)', { origin: 'http://127.0.0.1:1' }],
    ['a POST the browser marks cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['a POST the browser marks same-site', { 'sec-fetch-site': 'same-site' }],
    ['a POST from an opaque origin (sandboxed page, file:)', { origin: 'null' }],
  ])('refuses %s with 403 and stores nothing', async (_name, headers) => {
    const name = `cross-${Object.values(headers)[0]?.replace(/\W/g, '')}.jpg`;
    const before = await originalCount();
    const res = await browserRequest('POST', `/__litepix/api/upload?name=${name}`, headers, photo);
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({
      error: 'LOCAL_CROSS_SITE',
      message: expect.stringContaining('its own page only'),
    });
    expect(await originalCount()).toBe(before);
    expect(await stored(uploadKey(name, photo))).toBe(false);
  });

  it('refuses a DNS-rebinding host on every playground route, reads included', async () => {
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/__litepix/api/originals'],
      ['POST', '/__litepix/api/upload?name=rebind.jpg'],
    ] as const) {
      const res = await browserRequest(
        method,
        path,
        { host: 'evil.example:8080' },
        method === 'POST' ? photo : undefined,
      );
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.json.error).toBe('LOCAL_FORBIDDEN_HOST');
    }
    expect(await stored(uploadKey('rebind.jpg', photo))).toBe(false);
  });

  it('takes the same upload from its own page, and from tools that send no Origin', async () => {
    const fromPage = await browserRequest(
      'POST',
      '/__litepix/api/upload?name=own-page.jpg',
      { origin: `http://${own()}`, 'sec-fetch-site': 'same-origin' },
      photo,
    );
    expect(fromPage.status).toBe(201);
    const fromLocalhost = await browserRequest(
      'POST',
      '/__litepix/api/upload?name=own-localhost.jpg',
      {
        host: own().replace('127.0.0.1', 'localhost'),
        origin: `http://${own().replace('127.0.0.1', 'localhost')}`,
      },
      photo,
    );
    expect(fromLocalhost.status).toBe(201);
    const fromCurl = await browserRequest('POST', '/__litepix/api/upload?name=curl.jpg', {}, photo);
    expect(fromCurl.status).toBe(201);
    expect(await stored(uploadKey('curl.jpg', photo))).toBe(true);
  });
});
