/**
 * Byte splicers that plant metadata where a header probe does not look: JPEG segments between
 * progressive scans and after EOI, PNG text and EXIF chunks after IDAT and after IEND, WebP
 * chunks the VP8X header does not announce. Independent of the code under test: they find
 * their splice points by plain byte search in files sharp wrote.
 */
import { pngChunk, sosOffsets } from './hostile-files.ts';

export { sosOffsets };

/** A JPEG marker segment: 0xFF, `marker`, length (2 bytes, itself included), `payload`. */
export function jpegSegment(marker: number, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const header = Buffer.from([0xff, marker, 0, 0]);
  header.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([header, body]);
}

/** `jpeg` with `segments` inserted before its `nth` SOS marker (0 = before the first scan). */
export function beforeScan(jpeg: Buffer, nth: number, segments: Buffer[]): Buffer {
  const at = sosOffsets(jpeg)[nth];
  if (at === undefined) throw new Error(`the JPEG has no scan ${nth}`);
  return Buffer.concat([jpeg.subarray(0, at), ...segments, jpeg.subarray(at)]);
}

/** `png` with `chunks` inserted before the chunk of type `type` (its first occurrence). */
export function beforePngChunk(png: Buffer, type: string, chunks: Buffer[]): Buffer {
  const at = png.indexOf(type, 8, 'latin1') - 4;
  if (at < 8) throw new Error(`the PNG has no ${type} chunk`);
  return Buffer.concat([png.subarray(0, at), ...chunks, png.subarray(at)]);
}

export const pngText = (keyword: string, text: string) =>
  pngChunk('tEXt', Buffer.from(`${keyword}\0${text}`, 'latin1'));
/** iTXt: keyword, no compression, no language, no translated keyword, UTF-8 text. */
export const pngInternationalText = (keyword: string, text: string) =>
  pngChunk('iTXt', Buffer.from(`${keyword}\0\0\0\0\0${text}`, 'utf8'));

/** A RIFF chunk: fourcc, size (LE), data, padding to an even size. */
export function riffChunk(type: string, data: string | Buffer): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const header = Buffer.alloc(8);
  header.write(type, 0, 'latin1');
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat(body.length % 2 === 1 ? [header, body, Buffer.alloc(1)] : [header, body]);
}

/** `webp` with `chunks` appended inside its RIFF (the RIFF size updated). */
export function appendWebpChunks(webp: Buffer, chunks: Buffer[]): Buffer {
  const out = Buffer.concat([webp, ...chunks]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}
