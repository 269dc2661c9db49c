/**
 * transformMany: every planned variant of one original from one probe and one decode (smaller
 * `inside` sizes derived from a larger one's pixels). Its variants must match what the
 * single-variant path makes: same format, the same size within a pixel, and pixels within a
 * small perceptual distance; a spec the limits refuse fails alone.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { perceptualDistance } from '../../origin-fn/transform/distance.ts';
import { createTransformer, DEFAULT_LIMITS, planResize } from '../../origin-fn/transform/index.ts';
import { probeSource } from '../../origin-fn/transform/probe-source.ts';
import { prepareFor } from '../../origin-fn/transform/transform.ts';
import { derive } from '../../origin-fn/transform/transform-many.ts';
import type { TransformResult } from '../../origin-fn/transform/types.ts';
import { fixture, spec } from '../helpers/images.ts';

const transformer = createTransformer(DEFAULT_LIMITS);
const pixels = async (bytes: Buffer) => {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
};

describe('transformMany', () => {
  it('makes every size and format of one photo like the single-variant path', async () => {
    const photo = fixture('kodim23-q95.jpg');
    const specs = [
      spec({ width: 256, format: 'webp' }),
      spec({ width: 640, format: 'jpeg' }),
      spec({ width: 640, format: 'webp' }),
      spec({ width: 256, format: 'avif' }),
      spec({ format: 'webp' }),
    ];
    const many = await transformer.transformMany?.(photo, specs);
    expect(many).toHaveLength(specs.length);
    for (const [i, s] of specs.entries()) {
      const outcome = many?.[i];
      if (!outcome?.ok) throw new Error(`spec ${i} failed: ${String(outcome?.error)}`);
      const derived: TransformResult = outcome.result;
      const direct = await transformer.transform(photo, s);
      expect(derived.format, `spec ${i}`).toBe(direct.format);
      expect(Math.abs(derived.width - direct.width), `spec ${i} width`).toBeLessThanOrEqual(1);
      expect(Math.abs(derived.height - direct.height), `spec ${i} height`).toBeLessThanOrEqual(1);
      const meta = await sharp(derived.bytes).metadata();
      expect(meta.width).toBe(derived.width);
      if (derived.width === direct.width && derived.height === direct.height) {
        // Judged against what the single-variant path encodes (its pixels, losslessly: a resize of
        // the source by another route differs from them by about 1 on its own at w=640): the
        // pyramid's variant stays about visually lossless, within 0.25 of the direct variant.
        const reference = await pixels(
          (await transformer.transform(photo, { ...s, format: 'png', quality: 100 })).bytes,
        );
        const dDerived = perceptualDistance(reference, await pixels(derived.bytes));
        const dDirect = perceptualDistance(reference, await pixels(direct.bytes));
        // (Loose by a quarter: since the distance pools like butteraugli, the pyramid's slightly
        // different resampling along edges counts; 1.16 for the 256 px WebP, against the 1.0 target.)
        expect(dDerived, `spec ${i} distance`).toBeLessThan(1.25);
        expect(dDerived - dDirect, `spec ${i} distance gap`).toBeLessThan(0.25);
      }
      // Within ±15 % of the direct variant's bytes.
      expect(derived.bytes.length / direct.bytes.length, `spec ${i} bytes`).toBeGreaterThan(0.85);
      expect(derived.bytes.length / direct.bytes.length, `spec ${i} bytes`).toBeLessThan(1.15);
    }
  });

  it('derives smaller sizes from a larger decode within a small distance of a direct resize', async () => {
    // A 12 MP class JPEG (Kodak upscaled 4×), so the direct decodes shrink on load as camera
    // photos do, while the pyramid resizes the 1920 px pixels again.
    const big = await sharp(fixture('kodim23-q95.jpg'))
      .resize({ width: 3072, kernel: 'lanczos3' })
      .jpeg({ quality: 92 })
      .toBuffer();
    const source = await probeSource(big, DEFAULT_LIMITS);
    const at = (width: number) => spec({ width, format: 'webp' });
    // Each step of the pyramid from the one above it, as transformMany does.
    let above = await prepareFor(big, source, at(1920), false, DEFAULT_LIMITS);
    for (const width of [828, 256]) {
      const plan = planResize(source, at(width), DEFAULT_LIMITS.maxOutputDimension);
      above = await derive(above, plan);
      const derived = above.decoded;
      const direct = (await prepareFor(big, source, at(width), false, DEFAULT_LIMITS)).decoded;
      expect([derived.width, derived.height], `w${width}`).toEqual([direct.width, direct.height]);
      // Visually lossless is a distance of 1.0 (the search's target); the pyramid's resampling
      // stays well below it: 0.56 at 256 px one step at a time, where 256 px straight from
      // 1920 px strayed to 0.87 here (distance pooled like butteraugli, 3-/6-/12-norms).
      expect(perceptualDistance(direct.pixels, derived.pixels), `w${width}`).toBeLessThan(0.7);
    }
  });

  it('fails a refused spec alone and the others still succeed', async () => {
    const photo = fixture('kodim23-q95.jpg');
    const bad = { ...spec({ width: 256 }), quality: 0 };
    const many = await transformer.transformMany?.(photo, [bad, spec({ width: 256, format: 'webp' })]);
    expect(many?.[0]).toMatchObject({ ok: false, error: { status: 400, code: 'IMG_BAD_PARAM' } });
    expect(many?.[1]?.ok).toBe(true);
  });

  it('fails every spec with the source error when the bytes are not an image', async () => {
    const many = await transformer.transformMany?.(Buffer.from('not an image at all'), [
      spec({ width: 256 }),
      spec({ width: 128 }),
    ]);
    expect(many?.map((o) => (o.ok ? 'ok' : (o.error as { code: string }).code))).toEqual([
      'IMG_UNSUPPORTED',
      'IMG_UNSUPPORTED',
    ]);
  });
});
