/**
 * Never heavier serves an original's own bytes: never its metadata. Metadata is planted where
 * a header probe does not look (between progressive scans, after EOI, PNG chunks after IDAT and
 * after IEND, WebP chunks the header does not announce), the source is made so its re-encode is
 * heavier (the original is passed through), and the served bytes are searched for it.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import { stripWebpMetadata } from '../../origin-fn/transform/strip-webp-metadata.ts';
import type { TransformResult } from '../../origin-fn/transform/types.ts';
import { animation, pngChunk } from '../helpers/hostile-files.ts';
import { fixture, spec } from '../helpers/images.ts';
import {
  appendWebpChunks,
  beforePngChunk,
  beforeScan,
  jpegSegment,
  pngInternationalText,
  pngText,
  riffChunk,
  sosOffsets,
} from '../helpers/plant-metadata.ts';

const transformer = createTransformer(DEFAULT_LIMITS);
const kodim23 = fixture('kodim23-q95.jpg');
const SECRETS = ['GPS-SECRET-1234', 'SERIAL-SECRET-5678', 'COMMENT-SECRET-9012', 'TRAILER-SECRET-3456'];

/** The planted private segments of a JPEG: EXIF, XMP, IPTC, a comment. */
const jpegPrivate = (secret: string) => [
  jpegSegment(0xe1, `Exif\0\0MM\0*\0\0\0\x08${secret}`),
  jpegSegment(0xe1, `http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>${secret}</x:xmpmeta>`),
  jpegSegment(0xed, `Photoshop 3.0\x008BIM\x04\x04\0\0\0\0\0\x10${secret}`),
  jpegSegment(0xfe, secret),
  // An APP0 that is not a plain JFIF (a JFXX extension) and a maker APP9.
  jpegSegment(0xe0, `JFXX\0\x10${secret}`),
  jpegSegment(0xe9, secret),
];

async function expectClean(result: TransformResult, width: number, height: number, format: string) {
  // The original is what was served (else this test proves nothing about pass-through).
  expect(result.servedOriginal).toBe(true);
  for (const secret of SECRETS) expect(result.bytes.includes(secret), secret).toBe(false);
  const meta = await sharp(result.bytes).metadata();
  expect(meta).toMatchObject({ format, width, height });
  expect(meta.exif).toBeUndefined();
  expect(meta.xmp).toBeUndefined();
  // Still a whole image under strict decoding.
  const { info } = await sharp(result.bytes, { failOn: 'warning' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  expect([info.width, info.height]).toEqual([width, height]);
}

describe('never heavier serves no metadata, wherever it sits', () => {
  it('drops EXIF, XMP, IPTC, COM and maker segments between progressive scans and after EOI', async () => {
    const clean = await sharp(kodim23)
      .resize({ width: 256 })
      .jpeg({ quality: 40, mozjpeg: true, progressive: true })
      .toBuffer();
    expect(sosOffsets(clean).length).toBeGreaterThan(3);
    let source = beforeScan(clean, 2, jpegPrivate(SECRETS[0] as string));
    source = beforeScan(source, 1, jpegPrivate(SECRETS[1] as string));
    source = beforeScan(source, 0, [jpegSegment(0xfe, SECRETS[2] as string)]);
    source = Buffer.concat([
      source,
      jpegSegment(0xe1, `Exif\0\0${SECRETS[3]}`),
      Buffer.from('\xff\xd9', 'latin1'),
    ]);
    const result = await transformer.transform(source, spec({ format: 'jpeg', quality: 90 }));
    await expectClean(result, 256, 171, 'jpeg');
    // Lossless: the very same pixels as the file without the planted segments.
    const [a, b] = await Promise.all([sharp(clean).raw().toBuffer(), sharp(result.bytes).raw().toBuffer()]);
    expect(b.equals(a)).toBe(true);
  });

  it('drops private segments before the scan of a baseline JPEG and whatever follows EOI', async () => {
    const clean = await sharp(kodim23)
      .resize({ width: 256 })
      .jpeg({ quality: 40, optimiseCoding: true })
      .toBuffer();
    expect(sosOffsets(clean)).toHaveLength(1);
    const source = Buffer.concat([
      beforeScan(clean, 0, jpegPrivate(SECRETS[0] as string)),
      Buffer.from(`<html>${SECRETS[3]}</html>`),
    ]);
    const result = await transformer.transform(source, spec({ format: 'jpeg', quality: 95 }));
    await expectClean(result, 256, 171, 'jpeg');
  });

  it('drops PNG text and EXIF chunks before and after IDAT, unknown chunks, and what follows IEND', async () => {
    const clean = await sharp(kodim23).resize({ width: 64 }).png({ palette: true, colours: 8 }).toBuffer();
    const planted = (secret: string) => [
      pngText('Comment', secret),
      pngInternationalText('XML:com.adobe.xmp', `<x:xmpmeta>${secret}</x:xmpmeta>`),
      pngChunk('eXIf', Buffer.from(`MM\0*\0\0\0\x08${secret}`, 'latin1')),
      pngChunk('prVt', Buffer.from(secret)),
    ];
    let source = beforePngChunk(clean, 'IDAT', planted(SECRETS[0] as string));
    source = beforePngChunk(source, 'IEND', planted(SECRETS[1] as string));
    source = Buffer.concat([source, pngText('Trailer', SECRETS[3] as string)]);
    const result = await transformer.transform(source, spec({ format: 'png', quality: 100 }));
    await expectClean(result, 64, 43, 'png');
  });

  it('drops WebP EXIF and XMP chunks, unknown chunks and bytes past the RIFF size', async () => {
    const withExif = await sharp(kodim23)
      .resize({ width: 256 })
      .webp({ quality: 30 })
      .withExif({ IFD0: { Make: SECRETS[0] as string } })
      .withXmp(`<x:xmpmeta xmlns:x="adobe:ns:meta/">${SECRETS[1]}</x:xmpmeta>`)
      .toBuffer();
    expect(withExif.toString('latin1', 12, 16)).toBe('VP8X');
    const source = Buffer.concat([
      appendWebpChunks(withExif, [riffChunk('SECR', SECRETS[2] as string)]),
      Buffer.from(SECRETS[3] as string),
    ]);
    const result = await transformer.transform(source, spec({ format: 'webp', quality: 90 }));
    await expectClean(result, 256, 171, 'webp');
  });

  it('drops chunks a simple (VP8) WebP carries after its bitstream', async () => {
    const simple = await sharp(kodim23).resize({ width: 256 }).webp({ quality: 30 }).toBuffer();
    expect(simple.toString('latin1', 12, 16)).toBe('VP8 ');
    const source = appendWebpChunks(simple, [riffChunk('EXIF', `MM\0*${SECRETS[0]}`)]);
    const result = await transformer.transform(source, spec({ format: 'webp', quality: 90 }));
    await expectClean(result, 256, 171, 'webp');
  });

  it('never passes an AVIF original through, so its EXIF never reaches the viewer', async () => {
    const source = await sharp(kodim23)
      .resize({ width: 64 })
      .avif({ quality: 30, effort: 0 })
      .withExif({ IFD0: { Make: SECRETS[0] as string } })
      .toBuffer();
    expect(source.includes(SECRETS[0] as string)).toBe(true);
    const result = await transformer.transform(source, spec({ format: 'avif', quality: 90 }));
    expect(result.servedOriginal).toBe(false);
    expect(result.bytes.includes(SECRETS[0] as string)).toBe(false);
    expect(result).toMatchObject({ format: 'avif', width: 64, height: 43 });
  });
});

describe('stripWebpMetadata on an animation', () => {
  it('keeps every frame and drops a chunk hidden inside a frame (ANMF)', async () => {
    const anim = await animation('webp', 3);
    const at = anim.indexOf('ANMF', 12, 'latin1');
    expect(at).toBeGreaterThan(0);
    // Grow the first frame by a private chunk at its end.
    const size = anim.readUInt32LE(at + 4);
    const hidden = riffChunk('SECR', SECRETS[0] as string);
    const frameEnd = at + 8 + size;
    const planted = Buffer.concat([anim.subarray(0, frameEnd), hidden, anim.subarray(frameEnd)]);
    planted.writeUInt32LE(size + hidden.length, at + 4);
    planted.writeUInt32LE(planted.length - 8, 4);
    expect((await sharp(planted, { animated: true }).metadata()).pages).toBe(3);
    const stripped = stripWebpMetadata(planted);
    if (stripped === undefined) throw new Error('the animation did not walk');
    expect(stripped.includes(SECRETS[0] as string)).toBe(false);
    const meta = await sharp(stripped, { animated: true }).metadata();
    expect(meta).toMatchObject({ format: 'webp', pages: 3, width: 16 });
    const [a, b] = await Promise.all([
      sharp(anim, { animated: true }).raw().toBuffer(),
      sharp(stripped, { animated: true, failOn: 'warning' }).raw().toBuffer(),
    ]);
    expect(b.equals(a)).toBe(true);
  });
});
