import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { thumbHashToRGBA } from 'thumbhash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VARIANT_CACHE_CONTROL } from '../../origin-fn/origin-handler.ts';
import { parsePlaceholder } from '../../origin-fn/placeholder.ts';
import { fixture } from '../helpers/images.ts';
import { type OriginStack, startOriginStack, VARIANTS } from '../helpers/origin-stack.ts';

const PHOTO = fixture('kodim23-q95.jpg');
let stack: OriginStack;

beforeAll(async () => {
  stack = await startOriginStack();
  await stack.putOriginal('photos/kodim23.jpg', PHOTO, 'image/jpeg');
  await stack.putOriginal('photos/rotated.jpg', fixture('orientation/exif-orientation-6.jpg'), 'image/jpeg');
  await stack.putOriginal('photos/text.jpg', Buffer.from('hello, I am text'), 'image/jpeg');
});

afterAll(async () => {
  await stack?.stop();
});

describe('the origin serves placeholder keys (real s3rver, real sharp)', () => {
  it('makes a placeholder on a miss, stores it like a variant and returns it', async () => {
    const key = 'v1/photos/kodim23.jpg/placeholder.json';
    const res = await stack.origin.handle(`/${key}`, 'req-p1');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe(VARIANT_CACHE_CONTROL);
    expect(res.headers.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(res.headers['content-length']).toBe(String(res.body.length));
    const placeholder = parsePlaceholder(res.body);
    expect(placeholder).toMatchObject({ width: 768, height: 512 });
    const decoded = thumbHashToRGBA(Buffer.from(placeholder.thumbhash, 'base64'));
    expect(decoded.w).toBeGreaterThan(decoded.h);

    const head = await stack.s3.client.send(new HeadObjectCommand({ Bucket: VARIANTS, Key: key }));
    expect(head.ContentType).toBe('application/json');
    expect(head.CacheControl).toBe(VARIANT_CACHE_CONTROL);
    expect(head.ETag).toBe(res.headers.etag);
    expect(head.Metadata).toMatchObject({
      'original-bytes': String(PHOTO.length),
      width: '768',
      height: '512',
    });
    expect(head.Metadata?.['original-etag']).toMatch(/^[0-9a-f]{32}$/);
    const stored = await stack.s3.client.send(new GetObjectCommand({ Bucket: VARIANTS, Key: key }));
    expect(Buffer.from(await (stored.Body?.transformToByteArray() ?? [])).equals(res.body)).toBe(true);
  });

  it('answers a stored placeholder as stored, without making it again', async () => {
    const key = '/v1/photos/kodim23.jpg/placeholder.json';
    const first = await stack.origin.handle(key, 'req-p2');
    const before = stack.origin.transforms;
    const again = await stack.origin.handle(key, 'req-p3');
    expect(stack.origin.transforms).toBe(before);
    expect(again.status).toBe(200);
    expect(again.headers['content-type']).toBe('application/json');
    expect(again.body.equals(first.body)).toBe(true);
  });

  it('gives concurrent misses one placeholder and one object', async () => {
    const key = 'v1/photos/rotated.jpg/placeholder.json';
    const before = stack.origin.transforms;
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) => stack.origin.handle(`/${key}`, `req-c${i}`)),
    );
    expect(stack.origin.transforms - before).toBe(1);
    for (const res of answers) expect(res.status).toBe(200);
    // EXIF orientation applied: the stored-sideways photo is portrait.
    const p = parsePlaceholder(answers[0]?.body);
    expect(p.height).toBeGreaterThan(p.width);
    expect((await stack.variantKeys()).filter((k) => k === key)).toHaveLength(1);
  });

  it('makes the placeholder of a crop: the region’s size', async () => {
    const res = await stack.origin.handle('/v1/photos/kodim23.jpg/crop-500-0-500-1000.placeholder.json', 'r');
    expect(res.status).toBe(200);
    expect(parsePlaceholder(res.body)).toMatchObject({ width: 384, height: 512 });
  });

  it.each([
    ['/v1/photos/kodim23.jpg/crop-5-0-500-1000.placeholder.json', 400, 'IMG_BAD_KEY', 'crop-<x>-<y>-<w>-<h>'],
    ['/v1/photos/kodim23.jpg/crop-0-0-1000-1000.placeholder.json', 400, 'IMG_BAD_KEY', 'placeholder.json'],
    ['/v1/photos/kodim23.jpg/w256.placeholder.json', 400, 'IMG_BAD_KEY', 'expected placeholder.json'],
    ['/v2/photos/kodim23.jpg/placeholder.json', 400, 'IMG_BAD_KEY', 'expected it to start with "v1/"'],
    [
      '/v1/v1/photos/kodim23.jpg/qauto.webp/placeholder.json',
      400,
      'IMG_BAD_KEY',
      'variants are not originals',
    ],
    ['/v1/photos/../secret.jpg/placeholder.json', 400, 'IMG_BAD_PATH', '".." segments'],
    ['/v1/photos/missing.jpg/placeholder.json', 404, 'IMG_NOT_FOUND', 'not found'],
    ['/v1/photos/text.jpg/placeholder.json', 415, 'IMG_UNSUPPORTED', 'not an image'],
  ])('refuses %s with %i %s and stores nothing', async (path, status, code, text) => {
    const res = await stack.origin.handle(path, 'req-bad');
    expect(res.status).toBe(status);
    expect(res.headers['x-litepix-error']).toBe(code);
    expect(res.body.toString()).toContain(text);
    expect(res.headers['cache-control']).not.toBe(VARIANT_CACHE_CONTROL);
    const stored = await stack.variantKeys();
    expect(stored.some((k) => path.endsWith(k))).toBe(false);
  });
});
