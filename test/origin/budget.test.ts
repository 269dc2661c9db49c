/**
 * Byte budgets through the transform core (real sharp): every variant within its budget, the
 * variant without a budget when it fits, the highest quality that fits otherwise, the largest
 * ladder step that fits when even the window's floor is over, and a clear 413 when nothing fits.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LADDER } from '../../edge-fn/grammar/config.ts';
import type { VariantSpec } from '../../edge-fn/grammar/types.ts';
import { ImageError } from '../../origin-fn/errors.ts';
import { encode } from '../../origin-fn/transform/encode.ts';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import { probeSource } from '../../origin-fn/transform/probe-source.ts';
import { formatQualityHeader, QUALITY_WINDOWS } from '../../origin-fn/transform/quality.ts';
import { prepareFor } from '../../origin-fn/transform/transform.ts';
import type { TransformResult } from '../../origin-fn/transform/types.ts';
import { fixture, spec } from '../helpers/images.ts';

const transformer = createTransformer(DEFAULT_LIMITS);
const BUDGET_HEADER =
  /^q=\d{1,3}(; distance=\d+\.\d{3})?; encodes=\d{1,2}(; sampled)?; budget=\d+KB; won=(quality|budget)(; stepped=\d+-\d+)?$/;

async function check(result: TransformResult, kb: number): Promise<void> {
  expect(result.bytes.length, 'bytes within the budget').toBeLessThanOrEqual(kb * 1024);
  expect(result.servedOriginal).toBe(false);
  const meta = await sharp(result.bytes).metadata();
  expect(meta.format === 'heif' ? 'avif' : meta.format).toBe(result.format);
  expect({ width: meta.width, height: meta.height }).toEqual({ width: result.width, height: result.height });
  expect(formatQualityHeader(result.qualityReport)).toMatch(BUDGET_HEADER);
  expect(result.qualityReport.budget?.kb).toBe(kb);
}

describe('byte budgets (maxKb)', () => {
  const photos = ['kodim23-q95.jpg', 'kodim03-q95.jpg', 'kodim13-crop-q95.jpg', 'jpeg-grayscale.jpg'];
  for (const name of photos) {
    for (const format of ['jpeg', 'webp', 'avif'] as const) {
      it(`keeps every ${format} of ${name} within 5, 15 and 50 KB, aspect ratio kept`, async () => {
        const input = fixture(name);
        const source = await sharp(input).metadata();
        for (const kb of [5, 15, 50]) {
          const result = await transformer.transform(input, spec({ width: 828, format, maxKb: kb }));
          await check(result, kb);
          const aspect = (source.width ?? 0) / (source.height ?? 1);
          expect(Math.abs(result.width / aspect - result.height), `${kb} KB aspect`).toBeLessThanOrEqual(1);
        }
      });
    }
  }

  it('serves the variant without a budget when it fits: won=quality, same quality and bytes', async () => {
    const input = fixture('kodim23-q95.jpg');
    const free = await transformer.transform(input, spec({ width: 480, format: 'webp' }));
    const kb = Math.ceil(free.bytes.length / 1024) + 1;
    const budgeted = await transformer.transform(input, spec({ width: 480, format: 'webp', maxKb: kb }));
    expect(budgeted.quality).toBe(free.quality);
    expect(budgeted.bytes.length).toBe(free.bytes.length);
    expect(budgeted.qualityReport.budget).toEqual({ kb, won: 'quality' });
    expect(formatQualityHeader(budgeted.qualityReport)).toMatch(/; budget=\d+KB; won=quality$/);
  });

  it('lowers quality to the highest that fits when the visually lossless variant is over: won=budget', async () => {
    const input = fixture('kodim23-q95.jpg');
    const at = (q: number) => transformer.transform(input, spec({ width: 828, format: 'jpeg', quality: q }));
    const free = await transformer.transform(input, spec({ width: 828, format: 'jpeg' }));
    for (const kb of [30, 40]) {
      expect(free.bytes.length).toBeGreaterThan(kb * 1024);
      const result = await transformer.transform(input, spec({ width: 828, format: 'jpeg', maxKb: kb }));
      await check(result, kb);
      expect(result.qualityReport.budget).toEqual({ kb, won: 'budget' });
      expect(result.width).toBe(free.width); // no step down: quality was enough
      expect(result.quality).toBeLessThan(free.quality);
      expect(result.quality).toBeGreaterThanOrEqual(QUALITY_WINDOWS.jpeg.min);
      // The highest that fits: one step more is over the budget.
      expect((await at(result.quality + 1)).bytes.length).toBeGreaterThan(kb * 1024);
      // The search's own runs and the budget's, bounded (5 + 6).
      expect(result.qualityReport.encodes).toBeLessThanOrEqual(DEFAULT_LIMITS.quality.maxEncodes + 6);
      expect(result.qualityReport.distance).toBeGreaterThan(free.qualityReport.distance ?? 0);
    }
  });

  it('takes a fixed q as the ceiling: kept when it fits, lowered when not', async () => {
    const input = fixture('kodim03-q95.jpg');
    const low = await transformer.transform(
      input,
      spec({ width: 480, format: 'webp', quality: 30, maxKb: 200 }),
    );
    expect(low.quality).toBe(30);
    expect(low.qualityReport).toMatchObject({
      mode: 'fixed',
      encodes: 1,
      budget: { kb: 200, won: 'quality' },
    });
    expect(formatQualityHeader(low.qualityReport)).toBe('q=30; encodes=1; budget=200KB; won=quality');
    const high = await transformer.transform(
      input,
      spec({ width: 828, format: 'webp', quality: 95, maxKb: 30 }),
    );
    await check(high, 30);
    expect(high.quality).toBeLessThan(95);
    expect(high.qualityReport).toMatchObject({ mode: 'fixed', budget: { kb: 30, won: 'budget' } });
  });

  it('steps down to the largest ladder width that fits at the window floor, and no larger', async () => {
    const input = fixture('kodim23-q95.jpg');
    const kb = 5;
    const asked = spec({ width: 828, format: 'jpeg', maxKb: kb });
    const result = await transformer.transform(input, asked);
    await check(result, kb);
    const stepped = result.qualityReport.budget?.stepped;
    expect(stepped?.from).toBe(768); // the photo is 768 px wide: that is the asked size
    expect(stepped?.to).toBe(result.width);
    expect(DEFAULT_LADDER).toContain(result.width);
    expect(formatQualityHeader(result.qualityReport)).toContain(`won=budget; stepped=768-${result.width}`);
    // The next larger ladder step, resized from the same pixels the same way, is over the budget
    // even at the window's lowest quality.
    const next = DEFAULT_LADDER.find((v) => v > result.width) as number;
    expect(next).toBeLessThan(768);
    const source = await probeSource(input, DEFAULT_LIMITS);
    const { decoded } = await prepareFor(input, source, asked, false, DEFAULT_LIMITS);
    const height = Math.round((decoded.height * next) / decoded.width);
    const bigger = await sharp(decoded.pixels.data, {
      raw: { width: decoded.width, height: decoded.height, channels: decoded.pixels.channels },
    })
      .resize({ width: next, height, fit: 'fill' })
      .raw()
      .toBuffer();
    const floor = await encode(
      { data: bigger, width: next, height, channels: decoded.pixels.channels },
      { format: 'jpeg', quality: QUALITY_WINDOWS.jpeg.min, dropAlpha: false, greyscale: false },
    );
    expect(floor.bytes.length).toBeGreaterThan(kb * 1024);
  });

  it('keeps the box aspect ratio of w+h cover when it steps, and steps the height when only it was asked', async () => {
    const input = fixture('kodim03-q95.jpg');
    const cover = await transformer.transform(
      input,
      spec({ width: 480, height: 480, fit: 'cover', format: 'webp', maxKb: 5 }),
    );
    await check(cover, 5);
    expect(cover.qualityReport.budget?.stepped?.from).toBe(480);
    expect(cover.width).toBe(cover.height);
    expect(DEFAULT_LADDER).toContain(cover.width);
    const tall = await transformer.transform(input, spec({ height: 480, format: 'avif', maxKb: 5 }));
    await check(tall, 5);
    expect(tall.qualityReport.budget?.stepped?.from).toBe(480);
    expect(DEFAULT_LADDER).toContain(tall.height);
    expect(tall.height).toBeLessThan(480);
  });

  it('keeps a transparent PNG within its budget and transparent', async () => {
    const input = fixture('png-alpha-handwriting.png');
    for (const kb of [10, 30]) {
      const result = await transformer.transform(input, spec({ width: 640, format: 'png', maxKb: kb }));
      await check(result, kb);
      expect((await sharp(result.bytes).metadata()).hasAlpha).toBe(true);
    }
  });

  it('answers 413 IMG_OVER_BUDGET, naming the budget and the smallest step, when nothing fits', async () => {
    // A ladder whose smallest step is 600 px, and noise that no encoder squeezes into 5 KB there.
    const noise = await sharp(
      Buffer.from(Array.from({ length: 768 * 512 * 3 }, (_, i) => (i * 7919) % 251)),
      {
        raw: { width: 768, height: 512, channels: 3 },
      },
    )
      .png()
      .toBuffer();
    const narrow = createTransformer(DEFAULT_LIMITS, { ladder: [600, 720, 768] });
    const err = await narrow.transform(noise, spec({ width: 768, format: 'jpeg', maxKb: 5 })).catch((e) => e);
    expect(err).toBeInstanceOf(ImageError);
    expect(err).toMatchObject({ status: 413, code: 'IMG_OVER_BUDGET' });
    expect(err.message).toMatch(/^The image cannot be made within the byte budget of 5 KB: even at 600 px/);
    expect(err.message).toContain('Ask for a larger maxkb or a smaller size');
  });

  it('meets an animation’s budget by quality alone, or refuses it: frames are never resized', async () => {
    const input = fixture('webp-animated-rotating-squares.webp');
    const fits = await transformer.transform(input, spec({ format: 'webp', maxKb: 5 }));
    expect(fits.bytes.length).toBeLessThanOrEqual(5 * 1024);
    expect(fits).toMatchObject({ animated: true, width: 80, height: 80 });
    expect(fits.qualityReport.budget).toEqual({ kb: 5, won: 'budget' });
    expect((await sharp(fits.bytes).metadata()).pages).toBeGreaterThan(1);
    // Eight frames of noise, 160 px: far over 5 KB at any quality.
    const frames = 8;
    const noise = Buffer.from(Array.from({ length: 160 * 160 * frames * 3 }, (_, i) => (i * 7919) % 251));
    const animation = await sharp(noise, {
      raw: { width: 160, height: 160 * frames, channels: 3, pageHeight: 160 },
    })
      .webp({ quality: 90, loop: 0 })
      .toBuffer();
    const err = await transformer.transform(animation, spec({ format: 'webp', maxKb: 5 })).catch((e) => e);
    expect(err).toMatchObject({ status: 413, code: 'IMG_OVER_BUDGET' });
    expect(err.message).toContain('even at 160×160 (animations keep their size)');
  });

  it('refuses a budget that is not a whole number of KB from 1 to 10000', async () => {
    const input = fixture('kodim23-q95.jpg');
    for (const maxKb of [0, 2.5, 10001]) {
      const err = await transformer.transform(input, spec({ maxKb } as Partial<VariantSpec>)).catch((e) => e);
      expect(err).toMatchObject({ status: 400, code: 'IMG_BAD_PARAM' });
      expect(err.message).toBe(
        `Invalid byte budget ${maxKb}: expected an integer number of KB from 1 to 10000`,
      );
    }
  });
});
