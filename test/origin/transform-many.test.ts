/**
 * transformMany: every planned variant of one original from one probe and one decode (smaller
 * `inside` sizes derived from a larger one's pixels). Its variants must match what the
 * single-variant path makes: same format, the same size within a pixel, and pixels within a
 * small perceptual distance; a spec the limits refuse fails alone.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { perceptualDistance } from '../../origin-fn/transform/distance.ts';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
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
