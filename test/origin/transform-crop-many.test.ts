/**
 * Crops on the pre-warm path: transformMany with crops beside whole-image sizes (one pyramid per
 * region: a crop's smaller size never derives from the whole image's pixels), the pre-warm
 * verifier's expected size of a crop; and crops of SVG and animated sources. Through the origin
 * by key: transform-crop-origin.test.ts.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { Crop, VariantSpec } from '../../edge-fn/grammar/types.ts';
import { decodesInTwoSteps } from '../../origin-fn/transform/decode.ts';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import { expectedSize, verifyVariant } from '../../prewarm/verify.ts';
import { fixture, spec } from '../helpers/images.ts';
import { BLUE, colourGap, GREEN, meanRgb, quadrants, RED, type Rgb, YELLOW } from '../helpers/quadrants.ts';

const transformer = createTransformer(DEFAULT_LIMITS);
const TOP_LEFT: Crop = { x: 0, y: 0, w: 500, h: 500 };
const BOTTOM_RIGHT: Crop = { x: 500, y: 500, w: 500, h: 500 };

describe('transformMany with crops', () => {
  it('makes crops and whole sizes of one original like the single-variant path, each from its own region', async () => {
    const source = await (await quadrants(1600, 800)).jpeg({ quality: 95 }).toBuffer();
    const cases: Array<[VariantSpec, [number, number], Rgb | undefined]> = [
      [spec({ width: 828, format: 'webp' }), [828, 414], undefined],
      [spec({ crop: TOP_LEFT, width: 640, format: 'webp' }), [640, 320], RED],
      [spec({ crop: TOP_LEFT, width: 256, format: 'jpeg' }), [256, 128], RED],
      [spec({ crop: TOP_LEFT, width: 128, format: 'webp' }), [128, 64], RED],
      [spec({ crop: BOTTOM_RIGHT, width: 128, format: 'webp' }), [128, 64], YELLOW],
      [spec({ crop: { x: 0, y: 500, w: 500, h: 500 }, format: 'png' }), [800, 400], BLUE],
      [
        spec({
          crop: { x: 0, y: 0, w: 1000, h: 500 },
          width: 128,
          height: 128,
          fit: 'cover',
          position: 'right',
        }),
        [128, 128],
        GREEN,
      ],
    ];
    const outcomes = (await transformer.transformMany?.(
      source,
      cases.map(([s]) => s),
    )) as NonNullable<Awaited<ReturnType<NonNullable<typeof transformer.transformMany>>>>;
    expect(outcomes).toHaveLength(cases.length);
    for (const [i, [s, size, colour]] of cases.entries()) {
      const outcome = outcomes[i];
      if (!outcome?.ok) throw new Error(`spec ${i} failed: ${String(outcome?.error)}`);
      const { result } = outcome;
      expect([result.width, result.height], `spec ${i}`).toEqual(size);
      const meta = await sharp(result.bytes).metadata();
      expect([meta.format, meta.width, meta.height], `spec ${i}`).toEqual([s.format, ...size]);
      if (colour !== undefined)
        expect(colourGap(await meanRgb(result.bytes), colour), `spec ${i}`).toBeLessThanOrEqual(8);
      const direct = await transformer.transform(source, s);
      expect([direct.width, direct.height], `spec ${i} direct`).toEqual(size);
      expect(
        colourGap(await meanRgb(result.bytes), await meanRgb(direct.bytes)),
        `spec ${i}`,
      ).toBeLessThanOrEqual(3);
      // The pre-warm verifier expects the crop's size, and accepts the variant.
      const original = { width: 1600, height: 800 };
      expect(expectedSize(original, s, DEFAULT_LIMITS.maxOutputDimension)).toEqual({
        width: size[0],
        height: size[1],
      });
      await expect(
        verifyVariant({
          key: `v1/test/${i}`,
          bytes: result.bytes,
          spec: s,
          originalBytes: source.length,
          source: original,
          maxOutputDimension: DEFAULT_LIMITS.maxOutputDimension,
          avifMaxPixels: DEFAULT_LIMITS.avifMaxPixels,
        }),
      ).resolves.toMatchObject({ width: size[0], height: size[1] });
    }
  });

  it('fails a refused crop alone', async () => {
    const source = await (await quadrants(200, 100)).png().toBuffer();
    const outcomes = await transformer.transformMany?.(source, [
      spec({ crop: TOP_LEFT, width: 64, format: 'webp' }),
      spec({ crop: { x: 600, y: 0, w: 500, h: 500 }, format: 'webp' }),
    ]);
    expect(outcomes?.[0]?.ok).toBe(true);
    expect(outcomes?.[1]).toMatchObject({ ok: false, error: { status: 400, code: 'IMG_BAD_PARAM' } });
  });
});

describe('crops of other sources', () => {
  it("crops an SVG rendered at the crop's scale (two steps), as displayed", async () => {
    const svgOn = createTransformer({ ...DEFAULT_LIMITS, allowSvg: true });
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="2000">' +
        '<rect width="2000" height="1000" fill="#f00"/><rect x="2000" width="2000" height="1000" fill="#0f0"/>' +
        '<rect y="1000" width="2000" height="1000" fill="#00f"/><rect x="2000" y="1000" width="2000" height="1000" fill="#ff0"/></svg>',
    );
    expect(
      decodesInTwoSteps({
        plan: { width: 256, height: 4096, fit: 'inside' },
        region: { left: 2000, top: 1000, width: 2000, height: 1000 },
        source: { width: 4000, height: 2000, format: 'svg' },
        animated: false,
      }),
    ).toBe(true);
    for (const [crop, colour] of [
      [TOP_LEFT, RED],
      [BOTTOM_RIGHT, YELLOW],
    ] as const) {
      const result = await svgOn.transform(svg, spec({ crop, width: 256, format: 'png' }));
      expect([result.width, result.height]).toEqual([256, 128]);
      expect(colourGap(await meanRgb(result.bytes), colour)).toBeLessThanOrEqual(2);
    }
  });

  it('crops every frame of an animation kept as animated WebP', async () => {
    const gif = fixture('gif-animated-rotating-squares.gif');
    const result = await transformer.transform(gif, spec({ crop: TOP_LEFT, format: 'webp' }));
    expect(result.animated).toBe(true);
    const meta = await sharp(result.bytes, { animated: true }).metadata();
    expect([meta.width, meta.pageHeight]).toEqual([40, 40]);
    // Still animated, over the same duration (the WebP encoder merges frames that repeat).
    const sum = (delays: number[] | undefined) => (delays ?? []).reduce((a, b) => a + b, 0);
    expect(meta.pages).toBeGreaterThan(1);
    expect(sum(meta.delay)).toBe(sum((await sharp(gif).metadata()).delay));
  });
});
