/**
 * Crop and position keys through the origin over a real s3rver: made, stored and served by key
 * (as the edge rewrites `?crop=…&pos=…`), q=auto within its target on a crop of a photo, and
 * non-canonical crop keys refused with nothing stored.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../helpers/images.ts';
import { type OriginStack, startOriginStack } from '../helpers/origin-stack.ts';
import { colourGap, meanRgb, quadrants, RED, YELLOW } from '../helpers/quadrants.ts';

describe('crop keys through the origin (real s3rver)', () => {
  let stack: OriginStack;
  beforeAll(async () => {
    stack = await startOriginStack();
    await stack.putOriginal('a.jpg', await (await quadrants(1600, 800)).jpeg({ quality: 95 }).toBuffer());
    await stack.putOriginal('photos/kodim23.jpg', fixture('kodim23-q95.jpg'));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('makes, stores and serves v1/a.jpg/crop-0-0-500-500.w256.qauto.webp', async () => {
    const key = 'v1/a.jpg/crop-0-0-500-500.w256.qauto.webp';
    const res = await stack.origin.handle(`/${key}`, 'req-crop-1');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/webp');
    expect(await sharp(res.body).metadata()).toMatchObject({ format: 'webp', width: 256, height: 128 });
    expect(colourGap(await meanRgb(res.body), RED)).toBeLessThanOrEqual(8);
    expect(await stack.variantKeys()).toContain(key);
  });

  it('anchors a cover crop on its position', async () => {
    const key = 'v1/a.jpg/crop-0-500-1000-500.w256.h256.fit-cover.pos-right.qauto.jpeg';
    const res = await stack.origin.handle(`/${key}`, 'req-crop-2');
    expect(res.status).toBe(200);
    expect(await sharp(res.body).metadata()).toMatchObject({ format: 'jpeg', width: 256, height: 256 });
    expect(colourGap(await meanRgb(res.body), YELLOW)).toBeLessThanOrEqual(8);
  });

  it('keeps q=auto visually lossless on a crop of a photo (distance header ≤ 1)', async () => {
    const res = await stack.origin.handle(
      '/v1/photos/kodim23.jpg/crop-300-200-400-600.w256.qauto.avif',
      'req-3',
    );
    expect(res.status).toBe(200);
    expect(await sharp(res.body).metadata()).toMatchObject({ width: 256, height: 256 });
    const distance = Number(/distance=([0-9.]+)/.exec(res.headers['x-litepix-quality'] ?? '')?.[1]);
    expect(distance).toBeLessThanOrEqual(1);
  });

  it('refuses a crop key that is not canonical, and stores nothing for it', async () => {
    for (const key of [
      'v1/a.jpg/crop-0-0-1000-1000.w256.qauto.webp',
      'v1/a.jpg/crop-5-0-500-500.w256.qauto.webp',
      'v1/a.jpg/crop-0-0-500-500.w256.pos-left.qauto.webp',
    ]) {
      const res = await stack.origin.handle(`/${key}`, 'req-bad');
      expect(res.status, key).toBe(400);
      expect(await stack.variantKeys()).not.toContain(key);
    }
  });
});
