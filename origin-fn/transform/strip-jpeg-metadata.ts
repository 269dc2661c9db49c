/**
 * A lossless metadata strip of a JPEG: only what decoding needs is kept, wherever it sits in the
 * stream (before the first scan, between progressive scans): frame and scan headers, Huffman,
 * arithmetic and quantisation tables, restart intervals, DNL, the entropy-coded data, the ICC
 * profile (APP2 `ICC_PROFILE`), Adobe APP14 (it says how to read the colour channels) and a
 * JFIF APP0 without a thumbnail. Every other APPn (EXIF and XMP in APP1, IPTC/Photoshop in APP13,
 * MPF, FlashPix, maker segments, JFIF thumbnails…), every COM and everything after EOI is
 * dropped. Used for every JPEG original served as is (never heavier): its pixels are served,
 * its GPS, serial numbers and comments are not.
 *
 * Returns the bytes themselves when nothing needs removing, and undefined when they do not walk
 * as a JPEG from SOI to EOI (the caller then serves the re-encode).
 */
import { ENTROPY_CODED, walkJpeg } from './jpeg-segments.ts';

const APP0 = 0xe0;
const APP2 = 0xe2;
const APP14 = 0xee;

const startsWith = (bytes: Buffer, at: number, text: string) =>
  bytes.toString('latin1', at, at + text.length) === text;

/** Frame, table and scan markers: SOF0–15 (but JPG, C8), DHT, DAC, DQT, DNL, DRI, SOS. */
function isDecodingMarker(marker: number): boolean {
  if (marker >= 0xc0 && marker <= 0xcf) return marker !== 0xc8;
  return marker === 0xda || marker === 0xdb || marker === 0xdc || marker === 0xdd;
}

function keeps(bytes: Buffer, marker: number, start: number, end: number): boolean {
  // Entropy-coded data, TEM, RST0–7, SOI, EOI.
  if (marker === ENTROPY_CODED || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) return true;
  if (isDecodingMarker(marker)) return true;
  const body = start + 4;
  switch (marker) {
    case APP0: {
      // "JFIF\0", version (2), units (1), densities (4), thumbnail width and height (1 + 1).
      const size = end - body;
      return size === 14 && startsWith(bytes, body, 'JFIF\0');
    }
    case APP2:
      return startsWith(bytes, body, 'ICC_PROFILE\0');
    case APP14:
      // "Adobe", version (2), flags (2 + 2), transform (1): nothing else.
      return end - body === 12 && startsWith(bytes, body, 'Adobe');
    default:
      return false;
  }
}

export function stripJpegMetadata(bytes: Buffer): Buffer | undefined {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  const outcome = walkJpeg(bytes, (marker, start, end) => {
    if (keeps(bytes, marker, start, end)) {
      kept.push(bytes.subarray(start, end));
      keptBytes += end - start;
    }
    return true;
  });
  if (outcome !== 'eoi') return undefined;
  return keptBytes === bytes.length ? bytes : Buffer.concat(kept, keptBytes);
}
