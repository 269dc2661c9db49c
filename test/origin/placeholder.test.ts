import sharp from 'sharp';
import { thumbHashToApproximateAspectRatio, thumbHashToAverageRGBA, thumbHashToRGBA } from 'thumbhash';
import { describe, expect, it } from 'vitest';
import { parsePlaceholder } from '../../origin-fn/placeholder.ts';
import { DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import { cropRect, makePlaceholder, type Placeholder } from '../../origin-fn/transform/placeholder.ts';
import { fixture } from '../helpers/images.ts';

/**
 * ThumbHash stores the aspect ratio as the shorter side over the longer one in sevenths (its DCT
 * grid is at most 7 cells long): within half a step, 1/14, plus the rounding of the decoded
 * image's sides (32 px on the longer one); the orientation (landscape or portrait) is exact.
 */
const RATIO_TOLERANCE = 1 / 14 + 1 / 32;

const hashOf = (p: Placeholder) => Buffer.from(p.thumbhash, 'base64');
const shortOverLong = (ratio: number) => Math.min(ratio, 1 / ratio);

function expectRatio(p: Placeholder, ratio: number) {
  const hash = hashOf(p);
  const decoded = thumbHashToRGBA(hash);
  for (const got of [decoded.w / decoded.h, thumbHashToApproximateAspectRatio(hash)]) {
    expect(Math.abs(shortOverLong(got) - shortOverLong(ratio))).toBeLessThanOrEqual(RATIO_TOLERANCE);
    if (Math.abs(ratio - 1) > 0.1) expect(got > 1).toBe(ratio > 1);
  }
}

/** Mean absolute difference per channel (0–255) between two same-sized RGB renderings. */
async function meanDifference(a: Buffer, b: Buffer, width: number, height: number): Promise<number> {
  const rgb = (img: Buffer) =>
    sharp(img).resize(width, height, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  const [x, y] = await Promise.all([rgb(a), rgb(b)]);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.abs((x[i] as number) - (y[i] as number));
  return sum / x.length;
}

const dataUriBytes = (p: Placeholder) => Buffer.from(p.dataUri.slice(p.dataUri.indexOf(',') + 1), 'base64');

describe('placeholders (ThumbHash, real sharp)', () => {
  it.each([
    ['a landscape photo', 'kodim03-q95.jpg', 768, 512],
    ['a portrait JPEG with an ICC profile', 'jpeg-adobe-rgb-icc-300w.jpg', 300, 450],
    ['a tall iPhone AVIF', 'avif-display-p3-iphone.avif', 3024, 4032],
    ['a 4:1 palette PNG', 'png-palette-256-colors.png', 256, 64],
  ])('decodes to the aspect ratio of %s', async (_, name, width, height) => {
    const p = await makePlaceholder(fixture(name), undefined, DEFAULT_LIMITS);
    expect(p).toMatchObject({ width, height });
    expectRatio(p, width / height);
    expect(hashOf(p).length).toBeLessThanOrEqual(25);
    expect(parsePlaceholder(JSON.stringify(p))).toEqual(p);
  });

  it('applies EXIF orientation: a landscape-stored orientation-6 JPEG is portrait', async () => {
    const input = fixture('orientation/exif-orientation-6.jpg');
    const stored = await sharp(input).metadata();
    expect(stored.width).toBeGreaterThan(stored.height); // stored sideways
    const p = await makePlaceholder(input, undefined, DEFAULT_LIMITS);
    expect(p.height).toBeGreaterThan(p.width);
    expect(p).toMatchObject({ width: stored.height, height: stored.width });
    expectRatio(p, p.width / p.height);
    // The same picture as the upright one, not the sideways pixels.
    const upright = await makePlaceholder(
      fixture('orientation/exif-orientation-1.jpg'),
      undefined,
      DEFAULT_LIMITS,
    );
    expect(await meanDifference(dataUriBytes(p), dataUriBytes(upright), 23, 32)).toBeLessThan(8);
  });

  it('keeps alpha: a transparent PNG gives a translucent hash and an RGBA data URI', async () => {
    const p = await makePlaceholder(fixture('png-alpha-handwriting.png'), undefined, DEFAULT_LIMITS);
    expect(p).toMatchObject({ width: 2048, height: 1536 });
    expectRatio(p, 2048 / 1536);
    expect(thumbHashToAverageRGBA(hashOf(p)).a).toBeLessThan(0.5);
    expect(p.averageColor).toMatch(/^#[0-9a-f]{8}$/);
    const meta = await sharp(dataUriBytes(p)).metadata();
    expect(meta).toMatchObject({ format: 'png', hasAlpha: true });
  });

  it('renders a small PNG data URI that looks like the image', async () => {
    const input = fixture('kodim23-q95.jpg');
    const p = await makePlaceholder(input, undefined, DEFAULT_LIMITS);
    expect(p.dataUri).toMatch(/^data:image\/png;base64,/);
    const png = dataUriBytes(p);
    const { w, h } = thumbHashToRGBA(hashOf(p));
    expect(await sharp(png).metadata()).toMatchObject({
      format: 'png',
      width: w,
      height: h,
      hasAlpha: false,
    });
    expect(png.length).toBeLessThan(2500);
    expect(p.averageColor).toMatch(/^#[0-9a-f]{6}$/);
    // A blur of the photo: close to a heavy blur of the real thing, far from a flat grey.
    const blurred = await sharp(input).resize(w, h, { fit: 'fill' }).blur(3).png().toBuffer();
    const grey = await sharp({ create: { width: w, height: h, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const near = await meanDifference(png, blurred, w, h);
    expect(near).toBeLessThan(25);
    expect(near).toBeLessThan((await meanDifference(png, grey, w, h)) / 1.5);
  });

  it('stands for a crop: the size of the region, its aspect ratio and its colours', async () => {
    // Left half of a 2:1 image is red, the right half blue.
    const input = await sharp({ create: { width: 400, height: 200, channels: 3, background: '#ff0000' } })
      .composite([
        {
          input: { create: { width: 200, height: 200, channels: 3, background: '#0000ff' } },
          left: 200,
          top: 0,
        },
      ])
      .png()
      .toBuffer();
    const right = await makePlaceholder(input, { x: 500, y: 0, w: 500, h: 1000 }, DEFAULT_LIMITS);
    expect(right).toMatchObject({ width: 200, height: 200 });
    expectRatio(right, 1);
    const avg = thumbHashToAverageRGBA(hashOf(right));
    expect(avg.b).toBeGreaterThan(0.8);
    expect(avg.r).toBeLessThan(0.2);
    const strip = await makePlaceholder(input, { x: 0, y: 0, w: 500, h: 250 }, DEFAULT_LIMITS);
    expect(strip).toMatchObject({ width: 200, height: 50 });
    expectRatio(strip, 4);
    expect(thumbHashToAverageRGBA(hashOf(strip)).r).toBeGreaterThan(0.8);
  });

  it('maps per-mille crops to pixels with the near edges down and the far edges up', () => {
    expect(cropRect({ x: 330, y: 0, w: 340, h: 1000 }, 1001, 7)).toEqual({
      left: 330,
      top: 0,
      width: 341,
      height: 7,
    });
    expect(cropRect({ x: 990, y: 990, w: 10, h: 10 }, 50, 50)).toEqual({
      left: 49,
      top: 49,
      width: 1,
      height: 1,
    });
    expect(cropRect(undefined, 640, 480)).toEqual({ left: 0, top: 0, width: 640, height: 480 });
  });

  it('refuses what the transform refuses, with the same errors', async () => {
    await expect(makePlaceholder(Buffer.from('plain text'), undefined, DEFAULT_LIMITS)).rejects.toMatchObject(
      {
        status: 415,
        code: 'IMG_UNSUPPORTED',
      },
    );
    await expect(
      makePlaceholder(fixture('kodim03-q95.jpg'), undefined, { ...DEFAULT_LIMITS, maxInputPixels: 1000 }),
    ).rejects.toMatchObject({ status: 413, code: 'IMG_TOO_MANY_PIXELS' });
    const truncated = fixture('kodim03-q95.jpg').subarray(0, 20_000);
    await expect(makePlaceholder(truncated, undefined, DEFAULT_LIMITS)).rejects.toMatchObject({
      status: 415,
      code: 'IMG_CORRUPT',
    });
  });

  it('validates a placeholder read back and names what is wrong', async () => {
    const good = await makePlaceholder(fixture('kodim03-q95.jpg'), undefined, DEFAULT_LIMITS);
    expect(() => parsePlaceholder('{"width":')).toThrow('Invalid placeholder: not JSON');
    expect(() => parsePlaceholder({ ...good, width: 0 })).toThrow(/^Invalid placeholder: width: /);
    expect(() => parsePlaceholder({ ...good, thumbhash: 'not base64!' })).toThrow(/thumbhash/);
    expect(() => parsePlaceholder({ ...good, dataUri: 'https://x/y.png' })).toThrow(/dataUri/);
    expect(() => parsePlaceholder({ ...good, extra: 1 })).toThrow(/extra/);
  });
});
