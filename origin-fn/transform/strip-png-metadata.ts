/**
 * A lossless metadata strip of a PNG: the chunks decoding and colour need are kept (IHDR, PLTE,
 * IDAT, IEND, transparency, colour space and ICC profile, gamma, significant bits, background,
 * physical size: numbers only); text (tEXt, zTXt, iTXt), EXIF (eXIf), time stamps, APNG frames,
 * suggested palettes, every private or unknown chunk and everything after IEND are dropped.
 *
 * Returns the bytes themselves when nothing needs removing, and undefined when they do not walk
 * as PNG chunks from the signature to IEND.
 */

const SIGNATURE = Buffer.from('\x89PNG\r\n\x1a\n', 'latin1');
const KEPT = new Set([
  'IHDR',
  'PLTE',
  'IDAT',
  'IEND',
  'tRNS',
  'cHRM',
  'gAMA',
  'iCCP',
  'sBIT',
  'sRGB',
  'cICP',
  'mDCV',
  'cLLI',
  'bKGD',
  'pHYs',
]);
const CHUNK_TYPE = /^[A-Za-z]{4}$/;

export function stripPngMetadata(bytes: Buffer): Buffer | undefined {
  if (bytes.length < SIGNATURE.length || !bytes.subarray(0, SIGNATURE.length).equals(SIGNATURE)) {
    return undefined;
  }
  const kept: Buffer[] = [bytes.subarray(0, SIGNATURE.length)];
  let keptBytes = SIGNATURE.length;
  let at = SIGNATURE.length;
  while (at + 12 <= bytes.length) {
    // Length (4), type (4), data, CRC (4).
    const end = at + 12 + bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (end > bytes.length || !CHUNK_TYPE.test(type)) return undefined;
    if (at === SIGNATURE.length && type !== 'IHDR') return undefined;
    if (KEPT.has(type)) {
      kept.push(bytes.subarray(at, end));
      keptBytes += end - at;
    }
    if (type === 'IEND') return keptBytes === bytes.length ? bytes : Buffer.concat(kept, keptBytes);
    at = end;
  }
  return undefined;
}
