/**
 * The local CDN answers as CloudFront would: the viewer function sees the raw path (so `.`/`..`
 * segments are refused, not normalised away by workerd), parameter names never reach an
 * object's prototype, the signed build runs (its `require('crypto')`), and a port in use is a
 * clear error naming the setting that moves it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevOptions, type DevStack, startDevStack } from '../../cli/dev-stack.ts';
import { signUrl } from '../../edge-fn/sign-url.ts';
import { ACCEPT_CH } from '../../infra/lib/distribution.ts';
import { devOptions } from '../helpers/local-stack.ts';

const saved = { ...process.env };
const dirs: string[] = [];

function options(port = 0): DevOptions {
  const o = devOptions({ port });
  dirs.push(o.dataDir);
  return o;
}

/** A GET with the request target exactly as given (fetch and URL would normalise `..`). */
function rawGet(base: string, target: string): Promise<{ status: number; code: string | undefined }> {
  const { hostname, port } = new URL(base);
  return new Promise((ok, fail) => {
    const req = request({ host: hostname, port, path: target, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () =>
        ok({ status: res.statusCode ?? 0, code: res.headers['x-litepix-error'] as string }),
      );
    });
    req.on('error', fail);
    req.end();
  });
}

afterAll(() => {
  process.env = { ...saved };
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the local CDN, unsigned', () => {
  let stack: DevStack;
  beforeAll(async () => {
    stack = await startDevStack(options());
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it.each([
    '/samples/../samples/kodim15.png?w=400',
    '/samples/./kodim15.png?w=400',
    '/samples//kodim15.png?w=400',
    '/samples/%2e%2e/samples/kodim15.png',
  ])('refuses %s with 400 IMG_BAD_PATH, as the CloudFront function does', async (target) => {
    expect(await rawGet(stack.url, target)).toEqual({ status: 400, code: 'IMG_BAD_PATH' });
  });

  it('serves the same image under its plain path', async () => {
    expect(await rawGet(stack.url, '/samples/kodim15.png?w=400')).toMatchObject({ status: 200 });
  });

  it('answers a parameter named __proto__ with 400, and every later request as before', async () => {
    for (const query of ['__proto__=x', '__proto__[w]=1', 'constructor=x', 'w=400&__proto__=x']) {
      const bad = await fetch(`${stack.url}/samples/kodim15.png?${query}`);
      expect(bad.status, query).toBe(400);
      expect(await bad.text()).toMatch(/^Unknown parameter "(__proto__|__proto__\[w\]|constructor)"/);
    }
    const after = await fetch(`${stack.url}/samples/kodim15.png?w=256`, {
      headers: { accept: 'image/webp' },
    });
    expect(after.status).toBe(200);
    expect(after.headers.get('content-type')).toBe('image/webp');
  });

  it('asks for the client hints (as CloudFront does) and sizes and lightens the variant by them', async () => {
    const plain = await fetch(`${stack.url}/samples/kodim15.png?w=256`, {
      headers: { accept: 'image/webp' },
    });
    expect(plain.headers.get('accept-ch')).toBe(ACCEPT_CH);
    const hinted = await fetch(`${stack.url}/samples/kodim15.png`, {
      headers: { accept: 'image/webp', ect: '2g', 'sec-ch-width': '300' },
    });
    expect(hinted.status).toBe(200);
    expect(hinted.headers.get('accept-ch')).toBe(ACCEPT_CH);
    const meta = await sharp(Buffer.from(await hinted.arrayBuffer())).metadata();
    expect([meta.format, meta.width]).toEqual(['webp', 320]);
    const fast = await fetch(`${stack.url}/samples/kodim15.png?w=320`, {
      headers: { accept: 'image/webp', ect: '4g' },
    });
    // Same size, but qlite against q=auto: the slow link's variant is the lighter one.
    expect(Number(hinted.headers.get('content-length'))).toBeLessThan(
      Number(fast.headers.get('content-length')),
    );
  });

  it('refuses a second stack on the same port with a message naming --port', async () => {
    const port = Number(new URL(stack.url).port);
    await expect(startDevStack(options(port))).rejects.toThrow(
      `Port ${port} for the local CDN is in use (another litepix dev?): stop that process or choose another port with --port or PORT`,
    );
  });
});

describe('the local CDN, signed (secrets in LITEPIX_CONFIG)', () => {
  const SECRET = 'local-secret-0123456789abcdef';
  let stack: DevStack;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'litepix-dev-config-'));
    dirs.push(dir);
    const file = join(dir, 'litepix.config.json');
    writeFileSync(file, JSON.stringify({ secrets: [SECRET] }));
    process.env.LITEPIX_CONFIG = file;
    stack = await startDevStack(options());
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('serves a signed URL and refuses an unsigned or forged one with 403', async () => {
    const signed = signUrl(`${stack.url}/samples/kodim23.png`, { w: 320, f: 'webp' }, SECRET);
    const ok = await fetch(signed);
    expect(ok.status).toBe(200);
    expect(await sharp(Buffer.from(await ok.arrayBuffer())).metadata()).toMatchObject({
      format: 'webp',
      width: 320,
    });
    for (const url of [
      `${stack.url}/samples/kodim23.png?w=320&f=webp`,
      signUrl(`${stack.url}/samples/kodim23.png`, { w: 320, f: 'webp' }, 'another-secret-0123456789'),
      `${stack.url}/samples/kodim23.png?w=abc`,
    ]) {
      const res = await fetch(url);
      expect(res.status, url).toBe(403);
      expect(res.headers.get('x-litepix-error')).toBe('IMG_BAD_SIGNATURE');
    }
  });

  it('refuses an expired link with 403 IMG_EXPIRED and no-store, even when its variant is cached', async () => {
    const now = Math.floor(Date.now() / 1000);
    const params = { w: 256, f: 'webp' };
    const fresh = await fetch(
      signUrl(`${stack.url}/samples/kodim23.png`, { ...params, exp: now + 3600 }, SECRET),
    );
    expect(fresh.status).toBe(200);
    await fresh.arrayBuffer();
    const again = await fetch(
      signUrl(`${stack.url}/samples/kodim23.png`, { ...params, exp: now + 7200 }, SECRET),
    );
    expect(again.headers.get('x-cache')).toBe('Hit from litepix-dev');
    await again.arrayBuffer();
    // Same variant key (exp is not in it), so the cache holds it: the viewer function runs first.
    const expired = await fetch(
      signUrl(`${stack.url}/samples/kodim23.png`, { ...params, exp: now - 3600 }, SECRET),
    );
    expect(expired.status).toBe(403);
    expect(expired.headers.get('x-litepix-error')).toBe('IMG_EXPIRED');
    expect(expired.headers.get('cache-control')).toBe('no-store');
    expect(await expired.text()).toMatch(/^Expired link: it was valid until exp=\d+ \(/);
  });

  it('refuses an unsigned traversal with 403 before looking at the path', async () => {
    expect(await rawGet(stack.url, '/samples/../x.png?w=1')).toEqual({
      status: 403,
      code: 'IMG_BAD_SIGNATURE',
    });
  });
});

describe('a port in use before the stack starts', () => {
  it('is a clear error, and nothing is left running', async () => {
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
    const port = (blocker.address() as AddressInfo).port;
    try {
      await expect(startDevStack(options(port))).rejects.toThrow(`Port ${port} for the local CDN is in use`);
    } finally {
      await new Promise((ok) => blocker.close(ok));
    }
  });
});
