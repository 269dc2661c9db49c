/**
 * Region crops (`spec.crop`, per-mille of the displayed original, applied before the resize):
 * the pixel region (outward rounding, clamping, at least 1 px) as a pure function with
 * properties, then through real sharp on generated images whose regions are told apart by
 * colour: the right region, outward snapping to whole pixels, EXIF-oriented originals cropped as
 * displayed, never enlarged, and the JPEG two-step decode (shrink-on-load) against the direct one.
 */
import fc from 'fast-check';
import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import type { Crop } from '../../edge-fn/grammar/types.ts';
import { decodesInTwoSteps } from '../../origin-fn/transform/decode.ts';
import { perceptualDistance } from '../../origin-fn/transform/distance.ts';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import { cropRegion, planGeometry } from '../../origin-fn/transform/resize-plan.ts';
import { fixture, spec } from '../helpers/images.ts';
import { ssim } from '../helpers/perceptual.ts';
import { pixelView } from '../helpers/pixel-view.ts';
import { BLUE, colourGap, GREEN, meanRgb, quadrants, RED, YELLOW } from '../helpers/quadrants.ts';

const transformer = createTransformer(DEFAULT_LIMITS);
const TOP_LEFT: Crop = { x: 0, y: 0, w: 500, h: 500 };
const TOP_RIGHT: Crop = { x: 500, y: 0, w: 500, h: 500 };
const BOTTOM_LEFT: Crop = { x: 0, y: 500, w: 500, h: 500 };
const BOTTOM_RIGHT: Crop = { x: 500, y: 500, w: 500, h: 500 };

describe('cropRegion', () => {
  const cases: Array<[string, { width: number; height: number }, Crop, ReturnType<typeof cropRegion>]> = [
    [
      'a quadrant of an even image',
      { width: 800, height: 400 },
      TOP_RIGHT,
      { left: 400, top: 0, width: 400, height: 200 },
    ],
    // 10‰ of 333 px is 3.33 px: the left edge goes down to 3, the right edge (9.99) up to 10.
    [
      'rounds outward to whole pixels',
      { width: 333, height: 333 },
      { x: 10, y: 10, w: 20, h: 20 },
      { left: 3, top: 3, width: 7, height: 7 },
    ],
    [
      'keeps at least one pixel',
      { width: 7, height: 7 },
      { x: 0, y: 0, w: 10, h: 10 },
      { left: 0, top: 0, width: 1, height: 1 },
    ],
    [
      'clamps the last pixel to the image',
      { width: 50, height: 50 },
      { x: 990, y: 990, w: 10, h: 10 },
      { left: 49, top: 49, width: 1, height: 1 },
    ],
  ];
  for (const [name, size, crop, expected] of cases) {
    it(name, () => expect(cropRegion(size, crop)).toEqual(expected));
  }

  it('always holds the asked rectangle, within the image, at most one pixel larger per edge', () => {
    const edge = fc.integer({ min: 0, max: 99 }).map((n) => n * 10);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16383 }),
        fc.integer({ min: 1, max: 16383 }),
        edge,
        edge,
        edge,
        edge,
        (width, height, a, b, c, d) => {
          const x = Math.min(a, 990);
          const y = Math.min(b, 990);
          const crop = {
            x,
            y,
            w: Math.max(10, Math.min(c, 1000 - x)),
            h: Math.max(10, Math.min(d, 1000 - y)),
          };
          const r = cropRegion({ width, height }, crop);
          expect(r.width).toBeGreaterThanOrEqual(1);
          expect(r.height).toBeGreaterThanOrEqual(1);
          expect(r.left + r.width).toBeLessThanOrEqual(width);
          expect(r.top + r.height).toBeLessThanOrEqual(height);
          const exact = [
            (x * width) / 1000,
            ((x + crop.w) * width) / 1000,
            (y * height) / 1000,
            ((y + crop.h) * height) / 1000,
          ];
          expect(r.left).toBeLessThanOrEqual(exact[0] as number);
          expect(r.left).toBeGreaterThan((exact[0] as number) - 1);
          expect(r.top).toBeLessThanOrEqual(exact[2] as number);
          if (r.width > 1) expect(r.left + r.width).toBeGreaterThanOrEqual(exact[1] as number);
          if (r.height > 1) expect(r.top + r.height).toBeGreaterThanOrEqual(exact[3] as number);
          expect(r.left + r.width).toBeLessThan(Math.max(r.left + 1, exact[1] as number) + 1);
        },
      ),
    );
  });

  it('plans the resize against the region: a width above the crop is not enlarged', () => {
    const source = { width: 1000, height: 800 };
    const crop = { x: 0, y: 0, w: 300, h: 500 };
    expect(planGeometry(source, { width: 828, fit: 'inside', crop }, 4096)).toEqual({
      region: { left: 0, top: 0, width: 300, height: 400 },
      size: { width: 300, height: 400 },
      plan: undefined,
    });
    // cover beyond the region: the box keeps its aspect and shrinks to what the region fills.
    expect(planGeometry(source, { width: 1000, height: 500, fit: 'cover', crop }, 4096).plan).toEqual({
      width: 300,
      height: 150,
      fit: 'cover',
    });
  });
});

describe('crops through sharp', () => {
  const corners: Array<[string, Crop, readonly number[]]> = [
    ['top-left', TOP_LEFT, RED],
    ['top-right', TOP_RIGHT, GREEN],
    ['bottom-left', BOTTOM_LEFT, BLUE],
    ['bottom-right', BOTTOM_RIGHT, YELLOW],
  ];

  it.each(corners)(
    'returns the %s quadrant (PNG, JPEG and WebP, with and without a resize)',
    async (_, crop, colour) => {
      const png = await (await quadrants(800, 400)).png().toBuffer();
      const jpeg = await (await quadrants(800, 400)).jpeg({ quality: 95 }).toBuffer();
      for (const [source, format, width] of [
        [png, 'png', undefined],
        [jpeg, 'jpeg', 256],
        [jpeg, 'webp', 100],
      ] as const) {
        const result = await transformer.transform(source, spec({ crop, format, width }));
        const expected = width === undefined ? [400, 200] : [width, width / 2];
        expect([result.width, result.height], `${format} w${width}`).toEqual(expected);
        const meta = await sharp(result.bytes).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual([format, ...expected]);
        // Flat quadrants: the lossy formats stay within a few levels except along the (absent) seams.
        expect(colourGap(await meanRgb(result.bytes), colour), `${format} w${width}`).toBeLessThanOrEqual(8);
      }
    },
  );

  it('snaps outward: a region starting inside a pixel keeps that pixel, and nothing beyond the far edge', async () => {
    // 333 px wide: crop x 10‰..30‰ is 3.33..9.99 px, so columns 3 to 9 (7 px). Column 3 red,
    // column 9 blue, their outer neighbours black, the rest grey.
    const width = 333;
    const columns = Buffer.alloc(width * 20 * 3, 128);
    for (let y = 0; y < 20; y++) {
      const paint = (x: number, rgb: readonly number[]) => columns.set(rgb, (y * width + x) * 3);
      paint(2, [0, 0, 0]);
      paint(3, RED);
      paint(9, BLUE);
      paint(10, [0, 0, 0]);
    }
    const source = await sharp(columns, { raw: { width, height: 20, channels: 3 } })
      .png()
      .toBuffer();
    const result = await transformer.transform(
      source,
      spec({ crop: { x: 10, y: 0, w: 20, h: 1000 }, format: 'png', quality: 100 }),
    );
    expect([result.width, result.height]).toEqual([7, 20]);
    const column = (x: number) => meanRgb(result.bytes, { left: x, top: 0, width: 1, height: 20 });
    expect(await column(0)).toEqual([...RED]);
    expect(await column(6)).toEqual([...BLUE]);
    expect(await column(3)).toEqual([128, 128, 128]);
  });

  it('does not enlarge a crop asked for wider than it is', async () => {
    const source = await (await quadrants(800, 400)).jpeg({ quality: 95 }).toBuffer();
    const result = await transformer.transform(
      source,
      spec({ crop: { x: 0, y: 0, w: 250, h: 500 }, width: 1080, format: 'webp' }),
    );
    expect([result.width, result.height]).toEqual([200, 200]);
    expect(colourGap(await meanRgb(result.bytes), RED)).toBeLessThanOrEqual(8);
  });

  it('crops EXIF-oriented originals as displayed (all eight orientations, both decode paths)', async () => {
    const upright = await (await quadrants(800, 400)).png().toBuffer();
    // Each stored image is the upright one under the inverse of its orientation's transform.
    const steps: Record<number, Array<(s: Sharp) => Sharp>> = {
      1: [],
      2: [(s) => s.flop()],
      3: [(s) => s.rotate(180)],
      4: [(s) => s.flip()],
      5: [(s) => s.rotate(90), (s) => s.flop()],
      6: [(s) => s.rotate(270)],
      7: [(s) => s.rotate(90), (s) => s.flip()],
      8: [(s) => s.rotate(90)],
    };
    for (const [orientation, ops] of Object.entries(steps)) {
      let stored = upright;
      for (const op of ops) stored = await op(sharp(stored)).png().toBuffer();
      const source = await sharp(stored)
        .jpeg({ quality: 95 })
        .withMetadata({ orientation: Number(orientation) })
        .toBuffer();
      // Sanity: sharp displays the stored image upright.
      expect((await sharp(source).autoOrient().png().toBuffer({ resolveWithObject: true })).info.width).toBe(
        800,
      );
      for (const width of [undefined, 64]) {
        const probe = { width: 800, height: 400, format: 'jpeg' as const };
        const region = cropRegion(probe, TOP_RIGHT);
        const plan = planGeometry(probe, { width, fit: 'inside', crop: TOP_RIGHT }, 4096).plan;
        expect(decodesInTwoSteps({ plan, region, source: probe, animated: false })).toBe(width !== undefined);
        const result = await transformer.transform(source, spec({ crop: TOP_RIGHT, width, format: 'png' }));
        expect([result.width, result.height], `orientation ${orientation}`).toEqual(
          width ? [64, 32] : [400, 200],
        );
        expect(
          colourGap(await meanRgb(result.bytes), GREEN),
          `orientation ${orientation} w${width}`,
        ).toBeLessThanOrEqual(8);
      }
    }
  });

  it('decodes a shrunk JPEG crop in two steps like the direct path decodes the same pixels', async () => {
    // The same photo as JPEG (two steps: shrink-on-load, then the region) and as PNG (the region,
    // then the resize): the same size, and the same picture. The two-step region sits on the
    // grid of the shrunk whole image, within half an output pixel of the direct one: a shift the
    // pooled distance counts (about 4 here) but structure similarity barely does.
    const photo = fixture('kodim23-q95.jpg');
    const big = await sharp(photo).resize({ width: 2304 }).jpeg({ quality: 95 }).toBuffer();
    const png = await sharp(big).png().toBuffer();
    const crop = { x: 200, y: 300, w: 500, h: 400 };
    const probe = { width: 2304, height: 1536, format: 'jpeg' as const };
    const geometry = planGeometry(probe, { width: 256, fit: 'inside', crop }, 4096);
    expect(
      decodesInTwoSteps({ plan: geometry.plan, region: geometry.region, source: probe, animated: false }),
    ).toBe(true);
    const viaJpeg = await transformer.transform(big, spec({ crop, width: 256, format: 'png', quality: 100 }));
    const viaPng = await transformer.transform(png, spec({ crop, width: 256, format: 'png', quality: 100 }));
    // The region is 1153×616 px (460..1613 × 460..1076): 256 × 137 at w256.
    expect(geometry.region).toEqual({ left: 460, top: 460, width: 1153, height: 616 });
    expect([viaJpeg.width, viaJpeg.height]).toEqual([256, 137]);
    expect([viaPng.width, viaPng.height]).toEqual([256, 137]);
    expect(await ssim(viaJpeg.bytes, viaPng.bytes)).toBeGreaterThan(0.96);
  });

  it('places the two-step region within a pixel of the direct one (a sharp edge inside the crop)', async () => {
    // Quadrants 3000×2000: the red/green edge at x = 1500. Crop x 250‰..750‰ (750..2250 px) at
    // w100: the edge falls at output column 50 by both paths.
    const image = await quadrants(3000, 2000);
    const jpeg = await image.clone().jpeg({ quality: 95 }).toBuffer();
    const png = await image.clone().png().toBuffer();
    const crop = { x: 250, y: 0, w: 500, h: 500 };
    for (const source of [jpeg, png]) {
      const result = await transformer.transform(
        source,
        spec({ crop, width: 100, format: 'png', quality: 100 }),
      );
      expect([result.width, result.height]).toEqual([100, 67]);
      const left = await meanRgb(result.bytes, { left: 0, top: 0, width: 49, height: 67 });
      const right = await meanRgb(result.bytes, { left: 51, top: 0, width: 49, height: 67 });
      expect(colourGap(left, RED)).toBeLessThanOrEqual(8);
      expect(colourGap(right, GREEN)).toBeLessThanOrEqual(8);
    }
  });

  it('meets the q=auto target on a crop, measured against the cropped and resized pixels', async () => {
    const photo = fixture('kodim23-q95.jpg');
    const crop = { x: 300, y: 200, w: 400, h: 600 };
    const reference = await transformer.transform(
      photo,
      spec({ crop, width: 256, format: 'png', quality: 100 }),
    );
    for (const format of ['jpeg', 'webp', 'avif'] as const) {
      const result = await transformer.transform(photo, spec({ crop, width: 256, format }));
      expect([result.width, result.height]).toEqual([reference.width, reference.height]);
      expect(result.qualityReport.mode).toBe('search');
      expect(result.qualityReport.distance ?? Number.NaN, format).toBeLessThanOrEqual(1.0);
      // An outside check of the same claim (the metric, recomputed from the served bytes).
      const d = perceptualDistance(await pixelView(reference.bytes), await pixelView(result.bytes));
      expect(d, format).toBeLessThanOrEqual(1.1);
      expect(result.bytes.length, format).toBeLessThan(reference.bytes.length / 2);
    }
  });

  it('refuses a crop off the grid, outside the image or of the whole image (400 IMG_BAD_PARAM)', async () => {
    const source = await (await quadrants(80, 40)).png().toBuffer();
    for (const crop of [
      { x: 5, y: 0, w: 500, h: 500 },
      { x: 600, y: 0, w: 500, h: 500 },
      { x: -10, y: 0, w: 500, h: 500 },
      { x: 0, y: 0, w: 1000, h: 1000 },
      { x: 0, y: 0, w: 0, h: 500 },
    ]) {
      await expect(transformer.transform(source, spec({ crop }))).rejects.toMatchObject({
        status: 400,
        code: 'IMG_BAD_PARAM',
        message: expect.stringMatching(
          /^Invalid crop .*: expected x,y,w,h in per-mille of the image, multiples of 10/,
        ),
      });
    }
  });
});
