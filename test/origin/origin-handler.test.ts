import { readFileSync } from 'node:fs';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageError } from '../../origin-fn/errors.ts';
import { VARIANT_CACHE_CONTROL } from '../../origin-fn/origin-handler.ts';
import { type OriginStack, startOriginStack, VARIANTS } from '../helpers/origin-stack.ts';
import { ssim } from '../helpers/perceptual.ts';

const KODIM = readFileSync(new URL('../fixtures/images/kodim23-q95.jpg', import.meta.url));
const HEIC = readFileSync(new URL('../fixtures/images/heic-kodim23.heic', import.meta.url));
let stack: OriginStack;

beforeAll(async () => {
  stack = await startOriginStack();
  await stack.putOriginal('photos/kodim23.jpg', KODIM, 'image/jpeg');
  await stack.putOriginal('photos/not-an-image.jpg', Buffer.from('hello, I am text'), 'image/jpeg');
  await stack.putOriginal('photos/kodim23.heic', HEIC, 'image/heic');
  await stack.putOriginal('photos/cut.heic', HEIC.subarray(0, HEIC.length / 2), 'image/heic');
});

afterAll(async () => {
  await stack?.stop();
});

describe('the origin handler (real s3rver, real sharp)', () => {
  it('makes a variant, stores it with the headers S3 will serve, and returns it', async () => {
    const res = await stack.origin.handle('/v1/photos/kodim23.jpg/w480.qauto.webp', 'req-1');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/webp');
    expect(res.headers['cache-control']).toBe(VARIANT_CACHE_CONTROL);
    expect(res.headers.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(Number(res.headers['x-litepix-original-bytes'])).toBe(KODIM.length);
    // q=auto: the searched quality, its perceptual distance and the encoder runs it took.
    const quality = res.headers['x-litepix-quality'] ?? '';
    expect(quality).toMatch(/^q=\d{1,3}; distance=[01]\.\d{3}; encodes=[1-5]$/);
    expect(Number(/distance=([0-9.]+)/.exec(quality)?.[1])).toBeLessThanOrEqual(1);
    const meta = await sharp(res.body).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 480, height: 320 });
    expect(res.body.length).toBeLessThan(KODIM.length / 3);
    const reference = await sharp(KODIM).resize(480).png().toBuffer();
    expect(await ssim(res.body, reference)).toBeGreaterThan(0.9);

    const head = await stack.s3.client.send(
      new HeadObjectCommand({ Bucket: VARIANTS, Key: 'v1/photos/kodim23.jpg/w480.qauto.webp' }),
    );
    expect(head.ContentType).toBe('image/webp');
    expect(head.CacheControl).toBe(VARIANT_CACHE_CONTROL);
    expect(head.ETag).toBe(res.headers.etag);
    expect(head.Metadata).toMatchObject({
      'original-bytes': String(KODIM.length),
      'served-original': 'false',
      quality,
      width: '480',
      height: '320',
    });
    expect(head.Metadata?.['original-etag']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('makes a variant of a HEIC original (wasm decoder) and stores it; a cut HEIC is 415 and stores nothing', async () => {
    const res = await stack.origin.handle('/v1/photos/kodim23.heic/w480.qauto.webp', 'req-h1');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/webp');
    expect(Number(res.headers['x-litepix-original-bytes'])).toBe(HEIC.length);
    expect(await sharp(res.body).metadata()).toMatchObject({ format: 'webp', width: 480, height: 320 });
    const reference = await sharp(KODIM).resize(480).png().toBuffer();
    expect(await ssim(res.body, reference)).toBeGreaterThan(0.9);
    expect(await stack.variantKeys()).toContain('v1/photos/kodim23.heic/w480.qauto.webp');

    const before = await stack.variantKeys();
    const cut = await stack.origin.handle('/v1/photos/cut.heic/w480.qauto.webp', 'req-h2');
    expect(cut.status).toBe(415);
    expect(cut.headers['x-litepix-error']).toBe('IMG_CORRUPT');
    expect(await stack.variantKeys()).toEqual(before);
  });

  it('serves a stored variant without transforming again', async () => {
    const before = stack.origin.transforms;
    const res = await stack.origin.handle('/v1/photos/kodim23.jpg/w480.qauto.webp', 'req-2');
    expect(res.status).toBe(200);
    expect(res.headers['x-litepix-original-bytes']).toBe(String(KODIM.length));
    expect(res.headers['x-litepix-quality']).toMatch(/^q=\d{1,3}; distance=[01]\.\d{3}; encodes=[1-5]$/);
    expect(stack.origin.transforms).toBe(before);
  });

  it('gives 10 concurrent requests for one missing variant the image, with one transform and one object', async () => {
    const key = 'v1/photos/kodim23.jpg/w360.q70.jpeg';
    const before = stack.origin.transforms;
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => stack.origin.handle(`/${key}`, `req-c${i}`)),
    );
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect((await sharp(res.body).metadata()).width).toBe(360);
    }
    expect(stack.origin.transforms - before).toBe(1);
    expect((await stack.variantKeys()).filter((k) => k === key)).toHaveLength(1);
  });

  it.each([
    ['/v1/photos/kodim23.jpg/w800.qauto.webp', 400, 'IMG_BAD_KEY', '800 is not a size of the ladder'],
    ['/v1/photos/kodim23.jpg/qauto.w828.webp', 400, 'IMG_BAD_KEY', 'options are not in canonical form'],
    ['/v1/photos/../secret.jpg/qauto.webp', 400, 'IMG_BAD_PATH', '".." segments are not allowed'],
    ['/v1/photos%2Fkodim23.jpg/qauto.webp', 400, 'IMG_BAD_PATH', 'encoded'],
    ['/v1/photos/kodim23.jpg/%zz.webp', 400, 'IMG_BAD_PATH', 'malformed percent-encoding'],
    ['/photos/kodim23.jpg', 400, 'IMG_BAD_KEY', 'expected it to start with "v1/"'],
    [
      '/v1/photos/missing.jpg/w480.qauto.webp',
      404,
      'IMG_NOT_FOUND',
      'Original image "photos/missing.jpg" not found',
    ],
    ['/v1/photos/not-an-image.jpg/qauto.jpeg', 415, 'IMG_UNSUPPORTED', ''],
  ])('%s → %i %s, short caching, nothing stored', async (path, status, code, text) => {
    const before = await stack.variantKeys();
    const res = await stack.origin.handle(path, 'req-e');
    expect(res.status).toBe(status);
    expect(res.headers['x-litepix-error']).toBe(code);
    expect(res.headers['cache-control']).toBe('public, max-age=60');
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.body.toString()).toContain(text);
    expect(await stack.variantKeys()).toEqual(before);
  });

  it('answers 413 for a source over the byte limit, before transforming', async () => {
    const small = stack.withOptions({
      limits: {
        ...(await import('../../origin-fn/transform/index.ts')).DEFAULT_LIMITS,
        maxSourceBytes: 10_000,
      },
    });
    const res = await small.handle('/v1/photos/kodim23.jpg/w256.qauto.webp', 'req-413');
    expect(res.status).toBe(413);
    expect(res.headers['x-litepix-error']).toBe('IMG_TOO_LARGE');
    expect(small.transforms).toBe(0);
  });

  it('answers 500 for an unknown fault without leaking it, and stores nothing', async () => {
    // A transformer that fails unexpectedly: a fault real sharp cannot be made to produce on demand.
    const broken = stack.withOptions({
      transformer: {
        transform: async () => {
          throw new TypeError('secret internal detail at /var/task/x.js');
        },
      },
    });
    const before = await stack.variantKeys();
    const res = await broken.handle('/v1/photos/kodim23.jpg/w256.q50.jpeg', 'req-500');
    expect(res.status).toBe(500);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.toString()).toBe('Internal error while producing the image\n');
    expect(await stack.variantKeys()).toEqual(before);
  });

  it('answers 503 no-store while the store is down, and recovers by itself when it returns', async () => {
    const origin = stack.withOptions({ fastFail: true });
    await stack.s3.down();
    try {
      const res = await origin.handle('/v1/photos/kodim23.jpg/w640.qauto.jpeg', 'req-503');
      expect(res.status).toBe(503);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['x-litepix-error']).toBe('IMG_STORAGE_UNAVAILABLE');
    } finally {
      await stack.s3.up();
    }
    expect((await stack.variantKeys()).includes('v1/photos/kodim23.jpg/w640.qauto.jpeg')).toBe(false);
    const again = await origin.handle('/v1/photos/kodim23.jpg/w640.qauto.jpeg', 'req-503b');
    expect(again.status).toBe(200);
  });

  it('ImageError carries status, code and cause', () => {
    const cause = new Error('x');
    const e = new ImageError(415, 'IMG_UNSUPPORTED', 'nope', { cause });
    expect(e).toMatchObject({ name: 'ImageError', status: 415, code: 'IMG_UNSUPPORTED', cause });
  });
});
