import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createTransformer } from '../../origin-fn/transform/index.ts';
import { fixture, spec } from '../helpers/images.ts';
import { alphaDifference, meanAbsoluteDifference, ssim } from '../helpers/perceptual.ts';

const transformer = createTransformer();

describe('EXIF orientation', () => {
  const upright = fixture('orientation/exif-orientation-1.jpg');

  for (const orientation of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`orientation ${orientation} comes out upright and without an orientation tag`, async () => {
      const source = fixture(`orientation/exif-orientation-${orientation}.jpg`);
      const result = await transformer.transform(source, spec());
      // 1–4 are stored 308×410, 5–8 are stored 308×231 and displayed 231×308.
      const expected = orientation <= 4 ? [308, 410] : [231, 308];
      expect([result.width, result.height]).toEqual(expected);
      const meta = await sharp(result.bytes).metadata();
      expect([meta.width, meta.height]).toEqual(expected);
      expect(meta.orientation).toBeUndefined();
      // Each test image carries its own digit, so upright copies score ~0.73–0.99, while the
      // stored pixels (orientation ignored) score below 0.2.
      expect(await ssim(upright, result.bytes)).toBeGreaterThan(0.7);
      if (orientation > 1) {
        const ignored = await sharp(source).jpeg().toBuffer();
        expect(await ssim(upright, ignored)).toBeLessThan(0.3);
      }
    });
  }
});

describe('colour management to sRGB', () => {
  const kodim23 = fixture('kodim23-q95.jpg');

  for (const format of ['jpeg', 'webp', 'avif', 'png'] as const) {
    it(`a Display P3 JPEG keeps its colours as ${format} (untagged sRGB)`, async () => {
      // Made from an sRGB photo, so the photo itself is the reference.
      const p3 = await sharp(kodim23).withIccProfile('p3').jpeg({ quality: 95 }).toBuffer();
      const naive = await sharp(p3, { ignoreIcc: true }).png().toBuffer();
      const result = await transformer.transform(p3, spec({ format }));
      const meta = await sharp(result.bytes).metadata();
      expect(meta.space).toBe('srgb');
      expect(meta.icc).toBeUndefined();
      const managed = await meanAbsoluteDifference(kodim23, result.bytes);
      expect(managed).toBeLessThan(2.5);
      expect(await meanAbsoluteDifference(naive, result.bytes)).toBeGreaterThan(managed + 2);
    });
  }

  const references = [
    { name: 'an Adobe RGB JPEG', file: 'jpeg-adobe-rgb-icc-300w.jpg', apart: 8 },
    { name: 'a Display P3 AVIF from an iPhone', file: 'avif-display-p3-iphone.avif', apart: 3 },
  ];
  // Lossless PNG output isolates the colour conversion from compression noise.
  for (const { name, file, apart } of references) {
    it(`${name} converts to sRGB like sharp's colour-managed conversion`, async () => {
      const source = fixture(file);
      const result = await transformer.transform(source, spec({ width: 480, format: 'png', quality: 100 }));
      const reference = await sharp(source)
        .resize({ width: 480, withoutEnlargement: true })
        .toColourspace('srgb')
        .png()
        .toBuffer();
      const naive = await sharp(source, { ignoreIcc: true })
        .resize({ width: 480, withoutEnlargement: true })
        .png()
        .toBuffer();
      const managed = await meanAbsoluteDifference(reference, result.bytes);
      expect(managed).toBeLessThan(0.5);
      expect(await meanAbsoluteDifference(naive, result.bytes)).toBeGreaterThan(managed + apart);
    });
  }

  it('a CMYK JPEG without a profile becomes 3-channel sRGB close to the reference', async () => {
    const source = fixture('jpeg-cmyk-no-icc.jpg');
    expect((await sharp(source).metadata()).space).toBe('cmyk');
    // A fixed quality: this checks the colour conversion, not how low q=auto may go on a flat image.
    const result = await transformer.transform(source, spec({ format: 'webp', quality: 90 }));
    const meta = await sharp(result.bytes).metadata();
    expect([meta.space, meta.channels]).toEqual(['srgb', 3]);
    const reference = await sharp(source).toColourspace('srgb').png().toBuffer();
    expect(await meanAbsoluteDifference(reference, result.bytes)).toBeLessThan(2);
  });

  it('a CMYK JPEG with an embedded profile becomes sRGB close to the reference, never served as is', async () => {
    const source = await sharp(kodim23)
      .resize({ width: 256 })
      .withIccProfile('cmyk')
      .jpeg({ quality: 90 })
      .toBuffer();
    expect((await sharp(source).metadata()).space).toBe('cmyk');
    const asJpeg = await transformer.transform(source, spec({ format: 'jpeg' }));
    expect(asJpeg.servedOriginal).toBe(false);
    const meta = await sharp(asJpeg.bytes).metadata();
    expect([meta.space, meta.channels]).toEqual(['srgb', 3]);
    const lossless = await transformer.transform(source, spec({ format: 'png', quality: 100 }));
    const reference = await sharp(source).toColourspace('srgb').png().toBuffer();
    expect(await meanAbsoluteDifference(reference, lossless.bytes)).toBeLessThan(0.5);
    expect(await meanAbsoluteDifference(reference, asJpeg.bytes)).toBeLessThan(3);
  });
});

describe('transparency', () => {
  it('a transparent PNG requested as JPEG is served as PNG with its alpha', async () => {
    const source = fixture('png-alpha-handwriting.png');
    const result = await transformer.transform(source, spec({ format: 'jpeg', width: 1024 }));
    expect(result.format).toBe('png');
    expect(result.contentType).toBe('image/png');
    const meta = await sharp(result.bytes).metadata();
    expect([meta.format, meta.hasAlpha, meta.width, meta.height]).toEqual(['png', true, 1024, 768]);
    expect(await alphaDifference(source, result.bytes)).toBeLessThan(2);
    expect(await ssim(source, result.bytes)).toBeGreaterThan(0.95);
  });

  for (const format of ['webp', 'avif'] as const) {
    it(`a transparent WebP keeps its alpha as ${format}`, async () => {
      const source = fixture('webp-lossy-alpha.webp');
      const result = await transformer.transform(source, spec({ format }));
      expect(result.format).toBe(format);
      expect((await sharp(result.bytes).metadata()).hasAlpha).toBe(true);
      expect(await alphaDifference(source, result.bytes)).toBeLessThan(3);
      // On black, colour errors hidden by transparency on white would show too.
      expect(await meanAbsoluteDifference(source, result.bytes, { background: '#000000' })).toBeLessThan(4);
    });
  }

  it('drops an alpha channel that is fully opaque, and keeps JPEG', async () => {
    const source = await sharp(fixture('kodim23-q95.jpg'))
      .resize({ width: 200 })
      .ensureAlpha(1)
      .png()
      .toBuffer();
    expect((await sharp(source).metadata()).hasAlpha).toBe(true);
    const asJpeg = await transformer.transform(source, spec({ format: 'jpeg' }));
    expect(asJpeg.format).toBe('jpeg');
    const asWebp = await transformer.transform(source, spec({ format: 'webp' }));
    expect((await sharp(asWebp.bytes).metadata()).hasAlpha).toBe(false);
  });
});
