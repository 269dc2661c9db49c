import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { stripJpegMetadata } from '../../origin-fn/transform/strip-jpeg-metadata.ts';
import { fixture } from '../helpers/images.ts';

describe('stripJpegMetadata', () => {
  it('drops APP1 (EXIF) and keeps the ICC profile and the pixels', async () => {
    const source = fixture('jpeg-adobe-rgb-icc-300w.jpg');
    const tagged = await sharp(source)
      .keepIccProfile()
      .withExif({ IFD0: { Make: 'Secret maker' } })
      .jpeg()
      .toBuffer();
    expect((await sharp(tagged).metadata()).exif).toBeDefined();
    const stripped = stripJpegMetadata(tagged);
    expect(stripped).toBeDefined();
    if (stripped === undefined) return;
    const meta = await sharp(stripped).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.icc).toBeDefined();
    expect(stripped.includes('Secret maker')).toBe(false);
    const [a, b] = await Promise.all([sharp(tagged).raw().toBuffer(), sharp(stripped).raw().toBuffer()]);
    expect(b.equals(a)).toBe(true);
  });

  it.each([
    ['not a JPEG', Buffer.from('hello, I am text')],
    ['a JPEG cut inside its headers', fixture('kodim23-q95.jpg').subarray(0, 40)],
    ['a segment length running past the end', Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0x7f, 0xff, 0x00])],
  ])('returns undefined for %s', (_, bytes) => {
    expect(stripJpegMetadata(bytes)).toBeUndefined();
  });
});

describe('stripJpegMetadata keeps what decoding needs', () => {
  it('keeps JFIF without a thumbnail and Adobe APP14, and returns the very bytes when nothing is private', async () => {
    const cmyk = fixture('jpeg-cmyk-no-icc.jpg');
    const stripped = stripJpegMetadata(cmyk);
    if (stripped === undefined) throw new Error('the CMYK JPEG did not walk');
    expect(stripped.includes('Adobe')).toBe(true);
    const [a, b] = await Promise.all([sharp(cmyk).raw().toBuffer(), sharp(stripped).raw().toBuffer()]);
    expect(b.equals(a)).toBe(true);
    const plain = await sharp(fixture('kodim23-q95.jpg')).resize(32).jpeg().toBuffer();
    expect(stripJpegMetadata(plain)).toBe(plain);
  });

  it('returns undefined for a JPEG that ends before EOI', async () => {
    const plain = await sharp(fixture('kodim23-q95.jpg')).resize(32).jpeg().toBuffer();
    expect(stripJpegMetadata(plain.subarray(0, plain.length - 2))).toBeUndefined();
  });
});
