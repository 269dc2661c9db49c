/**
 * HEIC input through the real decoder (libheif + libde265 in WebAssembly, in its worker thread)
 * and real sharp. The fixtures are made by scripts/heic-fixtures.ts from Kodak's kodim23
 * (test/fixtures/images/LICENSES.md); the 12 MP iPhone HEIC of ../shared/corpus is checked by
 * `npm run test:corpus`.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { VariantSpec } from '../../edge-fn/grammar/types.ts';
import { ImageError } from '../../origin-fn/errors.ts';
import { decodeHeicToTiff, HeifError } from '../../origin-fn/transform/heic-libheif.ts';
import { tiffLayout } from '../../origin-fn/transform/heic-tiff.ts';
import { createTransformer, DEFAULT_LIMITS, type TransformLimits } from '../../origin-fn/transform/index.ts';
import { fixture, spec } from '../helpers/images.ts';
import { ssim } from '../helpers/perceptual.ts';

const KODIM23 = readFileSync(new URL('../../examples/images/kodim23.png', import.meta.url));
const HEIC = fixture('heic-kodim23.heic');
const transformer = createTransformer();

async function refusal(input: Buffer, limits: Partial<TransformLimits> = {}): Promise<ImageError> {
  const t = createTransformer({ ...DEFAULT_LIMITS, ...limits });
  const err = await t.transform(input, spec()).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImageError);
  return err as ImageError;
}

describe('HEIC input (libheif wasm → TIFF → sharp)', () => {
  it.each([
    [{ format: 'webp' }, 'webp', 768, 512],
    [{ format: 'jpeg', width: 256 }, 'jpeg', 256, 171],
    [{ format: 'avif', width: 414 }, 'heif', 414, 276],
  ] as Array<[Partial<VariantSpec>, string, number, number]>)(
    'serves %o from a HEIC as %s at %i×%i, looking like the Kodak PNG it was made from',
    async (over, decoder, width, height) => {
      const result = await transformer.transform(HEIC, spec(over));
      expect(await sharp(result.bytes).metadata()).toMatchObject({ format: decoder, width, height });
      expect([result.width, result.height]).toEqual([width, height]);
      expect(result.servedOriginal).toBe(false);
      expect(result.originalBytes).toBe(HEIC.length);
      // q=auto against the decoded HEIC; the HEIC itself is a q50 copy of the PNG.
      expect(await ssim(KODIM23, result.bytes)).toBeGreaterThan(0.9);
      expect(await ssim(KODIM23, result.bytes)).toBeLessThanOrEqual(1);
    },
  );

  it('makes every variant of a transformMany from one decode of the HEIC', async () => {
    const outcomes = await transformer.transformMany?.(HEIC, [
      spec({ width: 256, format: 'webp' }),
      spec({ width: 256, format: 'jpeg' }),
      spec({ width: 640, format: 'webp' }),
    ]);
    expect(outcomes?.map((o) => (o.ok ? [o.result.format, o.result.width] : o.error))).toEqual([
      ['webp', 256],
      ['jpeg', 256],
      ['webp', 640],
    ]);
  });

  it('does not apply an EXIF orientation that HEIF says is informative (EXIF 6, no irot: stays 384×256)', async () => {
    const input = fixture('heic-kodim23-exif6.heic');
    const result = await transformer.transform(input, spec({ format: 'png' }));
    expect([result.width, result.height]).toEqual([384, 256]);
    expect(await ssim(KODIM23, result.bytes)).toBeGreaterThan(0.9);
  });

  it('applies irot once and the EXIF orientation 6 beside it never (256×384, turned 90° anticlockwise)', async () => {
    const input = fixture('heic-kodim23-irot90-exif6.heic');
    const result = await transformer.transform(input, spec({ format: 'png' }));
    expect([result.width, result.height]).toEqual([256, 384]);
    const anticlockwise = await sharp(KODIM23).rotate(270).png().toBuffer();
    const clockwise = await sharp(KODIM23).rotate(90).png().toBuffer();
    expect(await ssim(anticlockwise, result.bytes)).toBeGreaterThan(0.9);
    expect(await ssim(clockwise, result.bytes)).toBeLessThan(0.5);
  });

  it('converts a Display P3 HEIC (ICC profile) to the sRGB colours it was made from, within 4 levels', async () => {
    const input = fixture('heic-display-p3.heic');
    // scripts/heic-fixtures.ts: these sRGB colours, converted to P3 by sharp, left and right.
    const expected = [
      [222, 46, 56],
      [60, 170, 80],
    ];
    const result = await transformer.transform(input, spec({ format: 'png' }));
    const { data, info } = await sharp(result.bytes).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number) => [
      ...data.subarray((32 * 64 + x) * info.channels, (32 * 64 + x) * info.channels + 3),
    ];
    for (const [x, rgb] of [
      [16, expected[0]],
      [48, expected[1]],
    ] as const) {
      const worst = Math.max(...at(x).map((v, c) => Math.abs(v - (rgb?.[c] ?? -99))));
      expect(worst, `x=${x}: ${at(x)} against ${rgb}`).toBeLessThanOrEqual(4);
    }
    // The decoder's own pixels are the P3 numbers: without the conversion the red would be off.
    const decoded = decodeHeicToTiff(input, { maxPixels: 1e6 });
    expect(decoded.profile).toBe('icc');
    const iccBytes = (await sharp(input).metadata()).icc?.length ?? 0;
    expect(iccBytes).toBeGreaterThan(0);
    const { pixelsOffset } = tiffLayout(64, 64, 3, iccBytes);
    const p3Red = [
      ...decoded.tiff.subarray(pixelsOffset + (32 * 64 + 16) * 3, pixelsOffset + (32 * 64 + 16) * 3 + 3),
    ];
    expect(Math.abs((p3Red[0] ?? 0) - 222) + Math.abs((p3Red[1] ?? 0) - 46)).toBeGreaterThan(15);
  });

  it('refuses a truncated HEIC with IMG_CORRUPT, like any damaged image', async () => {
    const err = await refusal(fixture('heic-kodim23-truncated.heic'));
    expect([err.status, err.code]).toEqual([415, 'IMG_CORRUPT']);
    expect(err.message).toBe('The image is damaged (truncated or corrupt data). Re-export the file.');
  });

  it('answers 12 seeded mutations of a HEIC (header bit flips, runs of one byte, spliced copies) with a real image or 413/415, never anything else', async () => {
    let seed = 20261207;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const bytes = Buffer.from(HEIC);
      const at = Math.floor(random() * bytes.length);
      if (i % 3 === 0) {
        for (let k = 0; k < 8; k++) {
          const byte = Math.floor(random() * 1500);
          bytes[byte] = (bytes[byte] ?? 0) ^ (1 << k);
        }
      } else if (i % 3 === 1) bytes.fill(Math.floor(random() * 256), at, at + 64);
      else bytes.copy(bytes, at, Math.floor(random() * bytes.length));
      const answer = await transformer.transform(bytes, spec({ width: 256, format: 'webp' })).then(
        async (r) => `${r.contentType} ${(await sharp(r.bytes).metadata()).format}`,
        (e: unknown) => (e instanceof ImageError && [413, 415].includes(e.status) ? 'refused' : String(e)),
      );
      outcomes.push(answer);
    }
    for (const answer of outcomes) expect(['image/webp webp', 'refused']).toContain(answer);
    // libde265 conceals damage inside the HEVC data (docs/origin.md#heic-input): some decode.
    expect(outcomes).toContain('image/webp webp');
  });

  it('refuses a HEIC over the pixel limit from its header, before decoding (413 IMG_TOO_MANY_PIXELS)', async () => {
    const err = await refusal(HEIC, { maxInputPixels: 768 * 512 - 1 });
    expect([err.status, err.code]).toEqual([413, 'IMG_TOO_MANY_PIXELS']);
    expect(err.message).toContain('768×512');
  });

  it("gives libheif the same pixel limit as a second guard (its security limit, not the header's check)", () => {
    let err: unknown;
    try {
      decodeHeicToTiff(HEIC, { maxPixels: 1000 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HeifError);
    expect((err as HeifError).subcode).toBe(1000);
  });

  it('refuses a HEIC over the byte limit with IMG_TOO_LARGE', async () => {
    const err = await refusal(HEIC, { maxSourceBytes: HEIC.length - 1 });
    expect([err.status, err.code]).toEqual([413, 'IMG_TOO_LARGE']);
  });

  it('ends a decode that outlives heicTimeoutMs (its worker is terminated) with 413 IMG_TOO_COMPLEX', async () => {
    // 1 ms: less than starting the worker takes, so the limit always strikes first.
    const err = await refusal(HEIC, { heicTimeoutMs: 1 });
    expect([err.status, err.code]).toEqual([413, 'IMG_TOO_COMPLEX']);
    expect(err.message).toBe(
      'The HEIC image did not decode within 1 ms, the limit. Re-save it smaller or as JPEG.',
    );
    // The next decode, in a new worker, is unaffected.
    expect((await transformer.transform(HEIC, spec({ width: 256 }))).width).toBe(256);
  });
});
