/**
 * A lossless metadata strip of a JPEG: the bytes with their EXIF/XMP (APP1), IPTC/Photoshop
 * (APP13) and comment (COM) segments removed, everything else copied as is (JFIF, the ICC
 * profile in APP2, Adobe APP14, tables, the entropy-coded data). Used when an original is
 * lighter than any re-encode but carries private metadata: its pixels are served, its GPS and
 * serial numbers are not.
 *
 * Returns undefined when the bytes do not parse as a JPEG up to its first scan (the caller then
 * serves the re-encode).
 */

/** APP1 (EXIF, XMP), APP13 (IPTC, Photoshop), COM. */
const PRIVATE_MARKERS = new Set([0xe1, 0xed, 0xfe]);
/** Markers without a length field: TEM and RST0–7 (SOI is handled before the loop). */
const STANDALONE = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);

export function stripJpegMetadata(bytes: Buffer): Buffer | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  const kept: Buffer[] = [bytes.subarray(0, 2)];
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1] ?? 0;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (STANDALONE(marker)) {
      kept.push(bytes.subarray(at, at + 2));
      at += 2;
      continue;
    }
    const length = ((bytes[at + 2] ?? 0) << 8) | (bytes[at + 3] ?? 0);
    if (length < 2 || at + 2 + length > bytes.length) return undefined;
    if (marker === 0xda) {
      // Start of scan: the rest (entropy-coded data, later scans, EOI) is copied verbatim.
      kept.push(bytes.subarray(at));
      return Buffer.concat(kept);
    }
    if (!PRIVATE_MARKERS.has(marker)) kept.push(bytes.subarray(at, at + 2 + length));
    at += 2 + length;
  }
  return undefined;
}
