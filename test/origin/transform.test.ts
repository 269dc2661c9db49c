import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { perceptualDistance } from '../../origin-fn/transform/distance.ts';
import { createTransformer, DEFAULT_LIMITS, QUALITY_WINDOWS } from '../../origin-fn/transform/index.ts';
import { fixture, spec } from '../helpers/images.ts';
import { ssim } from '../helpers/perceptual.ts';

const transformer = createTransformer();
const topLeftPixel = (image: Buffer) =>
  sharp(image).extract({ left: 0, top: 0, width: 1, height: 1 }).raw().toBuffer();
const kodim03 = fixture('kodim03-q95.jpg');
const kodim23 = fixture('kodim23-q95.jpg');

describe('output formats and qualities (Kodak 768×512, JPEG q95 source of 116 KB)', () => {
  // Budgets with some room over what the defaults (visually lossless search) choose: JPEG ≈ 47 KB,
  // WebP ≈ 43 KB, AVIF ≈ 33 KB. WebP needs about q85 on this smooth, low-contrast image:
  // butteraugli puts q80 at 1.14 and q85 at 0.97.
  const budgets = [
    { format: 'jpeg', share: 0.45, contentType: 'image/jpeg', decoder: 'jpeg' },
    { format: 'webp', share: 0.42, contentType: 'image/webp', decoder: 'webp' },
    { format: 'avif', share: 0.32, contentType: 'image/avif', decoder: 'heif' },
  ] as const;

  for (const { format, share, contentType, decoder } of budgets) {
    it(`encodes ${format} at q=auto within ${Math.round(share * 100)}% of the source bytes and looks the same`, async () => {
      const result = await transformer.transform(kodim03, spec({ format }));
      const meta = await sharp(result.bytes).metadata();
      expect(meta.format).toBe(decoder);
      expect(result).toMatchObject({
        format,
        contentType,
        width: 768,
        height: 512,
        originalBytes: kodim03.length,
        servedOriginal: false,
        animated: false,
      });
      expect(result.qualityReport.mode).toBe('search');
      expect(result.quality).toBeGreaterThanOrEqual(QUALITY_WINDOWS[format].min);
      expect(result.quality).toBeLessThanOrEqual(QUALITY_WINDOWS[format].max);
      expect([meta.width, meta.height]).toEqual([768, 512]);
      expect(result.bytes.length).toBeLessThan(kodim03.length * share);
      expect(await ssim(kodim03, result.bytes, { maxSide: 768 })).toBeGreaterThan(0.93);
    });
  }

  it('writes progressive JPEG (mozjpeg)', async () => {
    const result = await transformer.transform(kodim23, spec({ format: 'jpeg' }));
    expect((await sharp(result.bytes).metadata()).isProgressive).toBe(true);
  });

  it('writes AVIF with 4:2:0 chroma subsampling', async () => {
    const result = await transformer.transform(kodim23, spec({ format: 'avif' }));
    expect((await sharp(result.bytes).metadata()).compression).toBe('av1');
    // sharp does not report AVIF subsampling: read the av1C box (byte 2 after its type holds
    // chroma_subsampling_x = 0x08 and chroma_subsampling_y = 0x04).
    const box = result.bytes.indexOf('av1C', 0, 'latin1');
    expect(box).toBeGreaterThan(0);
    expect((result.bytes[box + 6] ?? 0) & 0x0c).toBe(0x0c);
  });

  for (const format of ['jpeg', 'webp', 'avif'] as const) {
    it(`q=lite makes ${format} lighter than q=auto, still recognisably the same photo`, async () => {
      const auto = await transformer.transform(kodim23, spec({ format, quality: 'auto' }));
      const lite = await transformer.transform(kodim23, spec({ format, quality: 'lite' }));
      expect(lite.qualityReport.mode).toBe('search');
      expect(lite.quality).toBeLessThan(auto.quality);
      expect(lite.bytes.length).toBeLessThan(auto.bytes.length * 0.9);
      expect(await ssim(kodim23, lite.bytes, { maxSide: 768 })).toBeGreaterThan(0.9);
    });
  }

  it('uses a numeric quality as given: q=30 is lighter than q=90', async () => {
    const low = await transformer.transform(kodim23, spec({ format: 'webp', quality: 30 }));
    const high = await transformer.transform(kodim23, spec({ format: 'webp', quality: 90 }));
    expect([low.quality, high.quality]).toEqual([30, 90]);
    expect(low.bytes.length).toBeLessThan(high.bytes.length / 2);
  });

  it('PNG at q=auto is lossless when a palette would show (dithered smooth photo)', async () => {
    // A 256-colour palette of this photo scores about 0.91 (butteraugli 3-norm 1.9): visible.
    const result = await transformer.transform(kodim23, spec({ format: 'png' }));
    const meta = await sharp(result.bytes).metadata();
    expect(meta.format).toBe('png');
    expect(meta.isPalette).toBe(false);
    expect(result.quality).toBe(100);
    expect(result.contentType).toBe('image/png');
  });

  it('PNG keeps the palette when it meets a more lenient distance, and says so', async () => {
    const quality = { ...DEFAULT_LIMITS.quality, auto: { ...DEFAULT_LIMITS.quality.auto, distance: 3 } };
    const lenient = createTransformer({ ...DEFAULT_LIMITS, quality });
    const result = await lenient.transform(kodim23, spec({ format: 'png' }));
    expect((await sharp(result.bytes).metadata()).isPalette).toBe(true);
    expect(result.quality).toBe(DEFAULT_LIMITS.quality.auto.fallback.png);
    expect(result.qualityReport.distance).toBeLessThanOrEqual(3);
    expect(result.qualityReport.distance).toBeGreaterThan(DEFAULT_LIMITS.quality.auto.distance);
    expect(await ssim(kodim23, result.bytes, { maxSide: 768 })).toBeGreaterThan(0.9);
  });

  it('PNG above 1 MP measures its palette on the tile sample, like the whole image', async () => {
    // Lenient enough for a dithered palette of a photo (it reads about 3.3), so the palette is kept.
    const quality = { ...DEFAULT_LIMITS.quality, auto: { ...DEFAULT_LIMITS.quality.auto, distance: 4 } };
    const lenient = createTransformer({ ...DEFAULT_LIMITS, quality });
    const big = await sharp(kodim03).resize(1600).png().toBuffer();
    const result = await lenient.transform(big, spec({ format: 'png' }));
    expect([result.width, result.height]).toEqual([1600, 1067]);
    expect((await sharp(result.bytes).metadata()).isPalette).toBe(true);
    expect(result.qualityReport).toMatchObject({ mode: 'search', sampled: true, encodes: 2 });
    // The sample stands for the image: the whole palette, measured whole, is within 15 % of it.
    const raw = async (image: Buffer) => {
      const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height, channels: info.channels };
    };
    const whole = perceptualDistance(await raw(big), await raw(result.bytes));
    const sampled = result.qualityReport.distance ?? 0;
    expect(Math.abs(sampled - whole) / whole, `sample ${sampled}, whole ${whole}`).toBeLessThan(0.15);
  });

  it('PNG at q=100 is lossless truecolour', async () => {
    const result = await transformer.transform(kodim23, spec({ format: 'png', quality: 100 }));
    const meta = await sharp(result.bytes).metadata();
    expect(meta.isPalette).toBe(false);
    expect(result.quality).toBe(100);
    const [a, b] = await Promise.all([
      sharp(kodim23).raw().toBuffer(),
      sharp(result.bytes).removeAlpha().raw().toBuffer(),
    ]);
    expect(b.equals(a)).toBe(true);
  });

  it('a few-colour PNG stays lossless and shrinks', async () => {
    const source = fixture('png-palette-256-colors.png');
    const result = await transformer.transform(source, spec({ format: 'png' }));
    expect(result.bytes.length).toBeLessThan(source.length);
    expect(await ssim(source, result.bytes)).toBeGreaterThan(0.999);
  });

  it('keeps a greyscale JPEG greyscale (one channel)', async () => {
    const source = fixture('jpeg-grayscale.jpg');
    const result = await transformer.transform(source, spec({ format: 'jpeg' }));
    const meta = await sharp(result.bytes).metadata();
    expect(meta.channels).toBe(1);
    expect(result.bytes.length).toBeLessThan(source.length);
  });

  it('falls back from AVIF to WebP when the output has more pixels than avifMaxPixels', async () => {
    const small = createTransformer({ ...DEFAULT_LIMITS, avifMaxPixels: 768 * 512 - 1 });
    const result = await small.transform(kodim23, spec({ format: 'avif' }));
    expect(result.format).toBe('webp');
    expect(result.contentType).toBe('image/webp');
    expect(result.qualityReport.mode).toBe('search');
    expect((await sharp(result.bytes).metadata()).format).toBe('webp');
  });

  it('keeps AVIF when the output is within avifMaxPixels', async () => {
    const result = await transformer.transform(kodim23, spec({ format: 'avif', width: 320 }));
    expect(result.format).toBe('avif');
  });

  it('reads the format from the bytes, not from a name: a TIFF source is converted', async () => {
    const tiff = await sharp(kodim23).resize({ width: 200 }).tiff().toBuffer();
    const result = await transformer.transform(tiff, spec({ source: 'looks-like.jpg', format: 'webp' }));
    expect(result.format).toBe('webp');
    expect(result.width).toBe(200);
  });

  it('reports decode and encode timings', async () => {
    const result = await transformer.transform(kodim23, spec({ width: 320 }));
    expect(result.timings.decodeMs).toBeGreaterThan(0);
    expect(result.timings.encodeMs).toBeGreaterThan(0);
  });
});

describe('resizing', () => {
  it('never enlarges: w=4096 on a 768 px image stays 768×512', async () => {
    const result = await transformer.transform(kodim23, spec({ width: 4096 }));
    expect([result.width, result.height]).toEqual([768, 512]);
    const meta = await sharp(result.bytes).metadata();
    expect([meta.width, meta.height]).toEqual([768, 512]);
  });

  it('scales inside the width, keeping the aspect ratio', async () => {
    const result = await transformer.transform(kodim23, spec({ width: 384, format: 'webp' }));
    expect([result.width, result.height]).toEqual([384, 256]);
  });

  it('scales inside the height alone', async () => {
    const result = await transformer.transform(kodim23, spec({ height: 128 }));
    expect([result.width, result.height]).toEqual([192, 128]);
  });

  it('fit=cover gives exactly w×h', async () => {
    const result = await transformer.transform(kodim23, spec({ width: 300, height: 300, fit: 'cover' }));
    const meta = await sharp(result.bytes).metadata();
    expect([meta.width, meta.height]).toEqual([300, 300]);
  });

  it('fit=cover with a box larger than the source keeps the box aspect ratio without enlarging', async () => {
    const result = await transformer.transform(kodim23, spec({ width: 1000, height: 1000, fit: 'cover' }));
    expect([result.width, result.height]).toEqual([512, 512]);
  });

  it('fit=fill gives exactly w×h (distorting)', async () => {
    const result = await transformer.transform(kodim23, spec({ width: 200, height: 200, fit: 'fill' }));
    expect([result.width, result.height]).toEqual([200, 200]);
  });

  it('fit=contain letterboxes with transparency for WebP', async () => {
    const result = await transformer.transform(
      kodim23,
      spec({ width: 300, height: 300, fit: 'contain', format: 'webp' }),
    );
    const meta = await sharp(result.bytes).metadata();
    expect([meta.width, meta.height, meta.hasAlpha]).toEqual([300, 300, true]);
    expect((await topLeftPixel(result.bytes))[3]).toBe(0);
  });

  it('fit=contain letterboxes with white for JPEG', async () => {
    const result = await transformer.transform(kodim23, spec({ width: 300, height: 300, fit: 'contain' }));
    expect(result.format).toBe('jpeg');
    expect(Math.min(...(await topLeftPixel(result.bytes)))).toBeGreaterThan(245);
  });

  it('fit=contain with a box larger than the source pads only to the box aspect ratio', async () => {
    const result = await transformer.transform(kodim23, spec({ width: 1000, height: 1000, fit: 'contain' }));
    expect([result.width, result.height]).toEqual([768, 768]);
  });

  it('fit=outside covers the box and keeps the aspect ratio', async () => {
    const result = await transformer.transform(kodim23, spec({ width: 300, height: 300, fit: 'outside' }));
    expect([result.width, result.height]).toEqual([450, 300]);
  });

  it('caps every output at maxOutputDimension, proportionally', async () => {
    const capped = createTransformer({ ...DEFAULT_LIMITS, maxOutputDimension: 256 });
    const none = await capped.transform(kodim23, spec());
    expect([none.width, none.height]).toEqual([256, 171]);
    const cover = await capped.transform(kodim23, spec({ width: 512, height: 256, fit: 'cover' }));
    expect([cover.width, cover.height]).toEqual([256, 128]);
  });
});

describe('metadata', () => {
  it('strips EXIF, ICC and XMP from the output', async () => {
    const source = fixture('orientation/exif-orientation-6.jpg');
    const before = await sharp(source).metadata();
    expect(before.exif).toBeDefined();
    expect(before.icc).toBeDefined();
    const result = await transformer.transform(source, spec({ width: 160 }));
    const after = await sharp(result.bytes).metadata();
    expect(after.exif).toBeUndefined();
    expect(after.icc).toBeUndefined();
    expect(after.xmp).toBeUndefined();
    expect(after.orientation).toBeUndefined();
  });

  it('decodes a 1×1 JPEG with a broken EXIF tag', async () => {
    const result = await transformer.transform(
      fixture('jpeg-1x1-broken-exif-tag.jpg'),
      spec({ format: 'webp' }),
    );
    expect([result.width, result.height]).toEqual([1, 1]);
  });
});

describe('never heavier than the original', () => {
  const tinyJpeg = () =>
    sharp(kodim23).resize({ width: 256 }).jpeg({ quality: 40, mozjpeg: true }).toBuffer();

  it('serves the original bytes when the JPEG re-encode at the same size is not smaller', async () => {
    const source = await tinyJpeg();
    const result = await transformer.transform(source, spec({ format: 'jpeg', quality: 90 }));
    expect(result.servedOriginal).toBe(true);
    expect(result.bytes.equals(source)).toBe(true);
    expect(result).toMatchObject({ format: 'jpeg', contentType: 'image/jpeg', width: 256, height: 171 });
  });

  it('q=auto never re-encodes an already well-compressed JPEG into a larger file', async () => {
    for (const quality of [40, 60, 75]) {
      const source = await sharp(kodim23).jpeg({ quality, mozjpeg: true }).toBuffer();
      for (const q of ['auto', 'lite'] as const) {
        const result = await transformer.transform(source, spec({ format: 'jpeg', quality: q }));
        expect(result.bytes.length, `source q${quality}, q=${q}`).toBeLessThanOrEqual(source.length);
      }
    }
  });

  it('serves a lighter JPEG original with EXIF, XMP and IPTC stripped losslessly, never the metadata', async () => {
    const source = await sharp(kodim23)
      .resize({ width: 256 })
      .jpeg({ quality: 40, mozjpeg: true })
      .withExif({ IFD0: { Copyright: 'someone', Make: 'Camera maker' }, IFD3: { GPSLatitudeRef: 'N' } })
      .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>')
      .toBuffer();
    const before = await sharp(source).metadata();
    expect(before.exif).toBeDefined();
    expect(before.xmp).toBeDefined();
    const result = await transformer.transform(source, spec({ format: 'jpeg', quality: 90 }));
    expect(result.servedOriginal).toBe(true);
    expect(result.bytes.length).toBeLessThan(source.length);
    const after = await sharp(result.bytes).metadata();
    expect(after.exif).toBeUndefined();
    expect(after.xmp).toBeUndefined();
    expect(result.bytes.includes('Camera maker')).toBe(false);
    // Lossless: the very same pixels.
    const [a, b] = await Promise.all([sharp(source).raw().toBuffer(), sharp(result.bytes).raw().toBuffer()]);
    expect(b.equals(a)).toBe(true);
  });

  it('serves the 329-byte minimal JPEG as it is', async () => {
    const source = fixture('jpeg-minimal-329-bytes.jpg');
    const result = await transformer.transform(source, spec({ format: 'jpeg' }));
    expect(result.servedOriginal).toBe(true);
    expect(result.bytes.length).toBe(329);
  });

  it('returns the encode when the format differs, even if it is heavier', async () => {
    const source = await tinyJpeg();
    const result = await transformer.transform(source, spec({ format: 'png', quality: 100 }));
    expect(result.servedOriginal).toBe(false);
    expect(result.format).toBe('png');
    expect(result.bytes.length).toBeGreaterThan(source.length);
  });

  it('returns the encode when the size differs', async () => {
    const source = await tinyJpeg();
    const result = await transformer.transform(source, spec({ format: 'jpeg', width: 128, quality: 100 }));
    expect(result.servedOriginal).toBe(false);
    expect(result.width).toBe(128);
  });

  it('never serves an original that needs EXIF rotation', async () => {
    const source = await sharp(kodim23)
      .resize({ width: 256 })
      .jpeg({ quality: 40, mozjpeg: true })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const result = await transformer.transform(source, spec({ format: 'jpeg' }));
    expect(result.servedOriginal).toBe(false);
    expect([result.width, result.height]).toEqual([171, 256]);
  });

  it('serves a PNG original when its re-encode is not smaller', async () => {
    const source = await sharp(kodim23).resize({ width: 64 }).png({ palette: true, colours: 8 }).toBuffer();
    const result = await transformer.transform(source, spec({ format: 'png', quality: 100 }));
    expect(result.servedOriginal).toBe(true);
    expect(result.bytes.equals(source)).toBe(true);
    expect(result.contentType).toBe('image/png');
  });
});
