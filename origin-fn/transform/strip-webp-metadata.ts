/**
 * A lossless metadata strip of a WebP: the chunks decoding needs are kept (VP8X, ICCP, ANIM,
 * ALPH, VP8, VP8L; inside each animation frame ANMF only its header, ALPH and the bitstream);
 * EXIF and XMP chunks (and their VP8X flags), unknown chunks and anything past the RIFF size
 * are dropped.
 *
 * Returns the bytes themselves when nothing needs removing, and undefined when they do not walk
 * as a RIFF WebP.
 */

const KEPT = new Set(['VP8X', 'ICCP', 'ANIM', 'ANMF', 'ALPH', 'VP8 ', 'VP8L']);
const IN_FRAME = new Set(['ALPH', 'VP8 ', 'VP8L']);
/** VP8X flags: EXIF (bit 3) and XMP (bit 2). */
const METADATA_FLAGS = 0x08 | 0x04;
/** ANMF: X, Y, width, height, duration (3 bytes each) and flags (1) before its chunks. */
const FRAME_HEADER = 16;

interface Chunk {
  type: string;
  /** The whole chunk: fourcc, size, data and the padding byte of an odd size. */
  bytes: Buffer;
}

/** The chunks in [start, end), or undefined when one runs past `end`. */
function chunks(bytes: Buffer, start: number, end: number): Chunk[] | undefined {
  const out: Chunk[] = [];
  let at = start;
  while (at < end) {
    if (at + 8 > end) return undefined;
    const size = bytes.readUInt32LE(at + 4);
    const next = at + 8 + size + (size % 2);
    if (next > end) return undefined;
    out.push({ type: bytes.toString('latin1', at, at + 4), bytes: bytes.subarray(at, next) });
    at = next;
  }
  return out;
}

function chunk(type: string, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(type, 0, 'latin1');
  header.writeUInt32LE(data.length, 4);
  return Buffer.concat(data.length % 2 === 1 ? [header, data, Buffer.alloc(1)] : [header, data]);
}

/** A whole WebP file around its chunks. */
function riff(body: Buffer[]): Buffer {
  const header = Buffer.from('RIFF\0\0\0\0WEBP', 'latin1');
  const data = Buffer.concat(body);
  header.writeUInt32LE(4 + data.length, 4);
  return Buffer.concat([header, data]);
}

/** An ANMF chunk with only its header, ALPH and bitstream, or undefined when malformed. */
function cleanFrame(frame: Buffer): Buffer | undefined {
  const size = frame.readUInt32LE(4);
  if (size < FRAME_HEADER) return undefined;
  const inner = chunks(frame, 8 + FRAME_HEADER, 8 + size);
  if (inner === undefined) return undefined;
  const kept = inner.filter((c) => IN_FRAME.has(c.type));
  if (kept.length === inner.length) return frame;
  return chunk('ANMF', Buffer.concat([frame.subarray(8, 8 + FRAME_HEADER), ...kept.map((c) => c.bytes)]));
}

export function stripWebpMetadata(bytes: Buffer): Buffer | undefined {
  if (bytes.length < 20 || bytes.toString('latin1', 0, 4) !== 'RIFF') return undefined;
  if (bytes.toString('latin1', 8, 12) !== 'WEBP') return undefined;
  const riffEnd = 8 + bytes.readUInt32LE(4);
  if (riffEnd > bytes.length) return undefined;
  const all = chunks(bytes, 12, riffEnd);
  const first = all?.[0];
  if (all === undefined || first === undefined) return undefined;
  // A simple file (lossy or lossless) is its one bitstream chunk: nothing may follow it.
  if (first.type === 'VP8 ' || first.type === 'VP8L') {
    if (all.length === 1 && riffEnd === bytes.length) return bytes;
    return riff([first.bytes]);
  }
  if (first.type !== 'VP8X' || first.bytes.length < 18) return undefined;
  const kept: Buffer[] = [];
  for (const c of all) {
    if (!KEPT.has(c.type)) continue;
    const clean = c.type === 'ANMF' ? cleanFrame(c.bytes) : c.bytes;
    if (clean === undefined) return undefined;
    kept.push(clean);
  }
  const flags = first.bytes[8] as number;
  const unchanged =
    (flags & METADATA_FLAGS) === 0 &&
    riffEnd === bytes.length &&
    kept.length === all.length &&
    kept.every((k, i) => k === all[i]?.bytes);
  if (unchanged) return bytes;
  const vp8x = Buffer.from(first.bytes);
  vp8x[8] = flags & ~METADATA_FLAGS;
  kept[0] = vp8x;
  return riff(kept);
}
