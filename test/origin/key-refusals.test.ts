/**
 * Keys that must never reach S3 or sharp, sent straight to the origin as a client bypassing
 * the edge would (raw HTTP paths to the local origin server over a real s3rver): traversal,
 * encoded separators, overlong keys, non-canonical and foreign keys, and variants requested
 * as originals. Each is refused with the documented 400 (or 404 for a canonical key whose
 * original does not exist); nothing is read, transformed or stored.
 */
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GRAMMAR_CONFIG, normalizeRequest } from '../../edge-fn/grammar/index.ts';
import { createOriginServer } from '../../origin-fn/http-adapter.ts';
import { fixture } from '../helpers/images.ts';
import { type OriginStack, startOriginStack } from '../helpers/origin-stack.ts';

let stack: OriginStack;
let server: Server;
let base: URL;

beforeAll(async () => {
  stack = await startOriginStack();
  const photo = fixture('jpeg-grayscale.jpg');
  await stack.putOriginal('photos/a.jpg', photo);
  // An object in the ORIGINALS bucket whose name is a variant key: it must still never be
  // transformed as an original (variants of variants).
  await stack.putOriginal('v1/photos/a.jpg/w828.qauto.webp', photo);
  server = createOriginServer(stack.origin);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

afterAll(async () => {
  await new Promise((ok) => server?.close(ok));
  await stack?.stop();
});

/** A GET with the path sent byte for byte as given (no client-side normalisation). */
function get(path: string, method = 'GET'): Promise<{ status: number; code?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          code: res.headers['x-litepix-error'] as string | undefined,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const long = 'a'.repeat(1100);

describe('keys refused by the origin (requests straight to it, bypassing the edge)', () => {
  it.each([
    ['traversal', '/v1/photos/../../secret.jpg/qauto.webp', 'IMG_BAD_PATH', '".." segments are not allowed'],
    ['encoded traversal', '/v1/photos/%2e%2e/secret.jpg/qauto.webp', 'IMG_BAD_PATH', '".." segments'],
    ['a dot segment', '/v1/photos/./a.jpg/qauto.webp', 'IMG_BAD_PATH', '"." and ".." segments'],
    ['an encoded slash', '/v1/photos%2fa.jpg/qauto.webp', 'IMG_BAD_PATH', 'encoded slashes'],
    ['an encoded backslash', '/v1/photos%5Ca.jpg/qauto.webp', 'IMG_BAD_PATH', 'encoded slashes'],
    ['double encoding', '/v1/photos/%252e%252e/a.jpg/qauto.webp', 'IMG_BAD_PATH', 'not twice'],
    ['a backslash', '/v1/photos\\a.jpg/qauto.webp', 'IMG_BAD_PATH', 'backslashes are not allowed'],
    ['a NUL byte', '/v1/photos/a.jpg%00/qauto.webp', 'IMG_BAD_PATH', 'control characters'],
    ['malformed encoding', '/v1/photos/a%zz.jpg/qauto.webp', 'IMG_BAD_PATH', 'malformed percent-encoding'],
    ['invalid UTF-8', '/v1/photos/a%C0%AF.jpg/qauto.webp', 'IMG_BAD_PATH', 'malformed percent-encoding'],
    ['an empty segment', '/v1/photos//a.jpg/qauto.webp', 'IMG_BAD_PATH', 'empty path segments'],
    ['an overlong key', `/v1/photos/${long}.jpg/qauto.webp`, 'IMG_BAD_PATH', 'more than 1024'],
    ['a key outside v1/', '/photos/a.jpg', 'IMG_BAD_KEY', 'expected it to start with "v1/"'],
    ['another version', '/v2/photos/a.jpg/qauto.webp', 'IMG_BAD_KEY', 'start with "v1/"'],
    ['the root', '/', 'IMG_BAD_KEY', 'start with "v1/"'],
    ['no original', '/v1/qauto.webp', 'IMG_BAD_KEY', 'expected <version>/<original key>/<options>'],
    ['a width off the ladder', '/v1/photos/a.jpg/w800.qauto.webp', 'IMG_BAD_KEY', 'not a size of the ladder'],
    ['options out of order', '/v1/photos/a.jpg/qauto.w828.webp', 'IMG_BAD_KEY', 'canonical form'],
    ['a padded quality', '/v1/photos/a.jpg/w828.q075.webp', 'IMG_BAD_KEY', 'unknown option "q075"'],
    ['an upper-case option', '/v1/photos/a.jpg/w828.qAUTO.webp', 'IMG_BAD_KEY', 'unknown option'],
    [
      'the default fit spelled out',
      '/v1/photos/a.jpg/w828.h600.fit-inside.qauto.webp',
      'IMG_BAD_KEY',
      'canonical',
    ],
    ['a fit without both sides', '/v1/photos/a.jpg/w828.fit-cover.qauto.webp', 'IMG_BAD_KEY', 'canonical'],
    ['an unknown format', '/v1/photos/a.jpg/w828.qauto.gif', 'IMG_BAD_KEY', 'unknown format "gif"'],
    ['a missing quality', '/v1/photos/a.jpg/w828.webp', 'IMG_BAD_KEY', 'quality option'],
    [
      'a variant requested as an original',
      '/v1/v1/photos/a.jpg/w828.qauto.webp/w128.qauto.webp',
      'IMG_BAD_KEY',
      'is itself a variant key; variants are not originals',
    ],
  ])('refuses %s with 400, reads and stores nothing', async (_name, path, code, text) => {
    const transforms = stack.origin.transforms;
    const before = await stack.variantKeys();
    const res = await get(path);
    expect(res.status).toBe(400);
    expect(res.code).toBe(code);
    expect(res.body).toContain(text);
    expect(stack.origin.transforms).toBe(transforms);
    expect(await stack.variantKeys()).toEqual(before);
  });

  it('the edge turns a variant URL with parameters into a key the origin refuses (decided: 400)', async () => {
    const normalized = normalizeRequest(
      {
        path: '/v1/photos/a.jpg/w828.qauto.webp',
        params: [{ name: 'w', value: '100' }],
        accept: 'image/webp',
      },
      DEFAULT_GRAMMAR_CONFIG,
    );
    if (!normalized.ok) throw new Error(normalized.message);
    expect(normalized.key).toBe('v1/v1/photos/a.jpg/w828.qauto.webp/w128.qauto.webp');
    const res = await get(`/${normalized.key}`);
    expect(res).toMatchObject({ status: 400, code: 'IMG_BAD_KEY' });
  });

  it('answers 404 to a canonical key whose original does not exist, and stores nothing', async () => {
    const before = await stack.variantKeys();
    const res = await get('/v1/photos/missing.jpg/w828.qauto.webp');
    expect(res).toMatchObject({ status: 404, code: 'IMG_NOT_FOUND' });
    expect(await stack.variantKeys()).toEqual(before);
  });

  it('refuses methods other than GET and HEAD with 405', async () => {
    for (const method of ['PUT', 'POST', 'DELETE']) {
      expect((await get('/v1/photos/a.jpg/w828.qauto.webp', method)).status).toBe(405);
    }
  });

  it('serves the canonical key of the same original (the refusals above are not blanket)', async () => {
    const res = await get('/v1/photos/a.jpg/w128.qauto.webp');
    expect(res.status).toBe(200);
    expect(await stack.variantKeys()).toContain('v1/photos/a.jpg/w128.qauto.webp');
  });
});
