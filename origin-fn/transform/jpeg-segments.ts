/**
 * A walk over the whole marker structure of a JPEG, every scan included: marker segments by
 * their length, entropy-coded data up to the next marker that is neither a stuffed 0xFF00 nor a
 * restart marker (RST0–7), and EOI. Linear in the bytes (every step moves forward; the search
 * for the next marker is Buffer.indexOf), so it is safe on any input.
 *
 * Used to strip metadata wherever it sits (strip-jpeg-metadata.ts) and to count scans before
 * decoding (probe-source.ts).
 */

/** The `marker` given for a run of entropy-coded data (after an SOS segment). */
export const ENTROPY_CODED = -1;
export const SOS = 0xda;
const SOI = 0xd8;
const EOI = 0xd9;

/** Markers without a length field: TEM and RST0–7. */
const isStandalone = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);

/**
 * Called for each piece in order: a marker (0xD8 SOI, 0xE1 APP1, …) or ENTROPY_CODED, with the
 * piece's byte range [start, end). Return false to stop the walk.
 */
export type JpegVisitor = (marker: number, start: number, end: number) => boolean | undefined;

/**
 * `eoi`: the walk reached EOI (anything after it is not part of the image); `stopped`: the
 * visitor asked to stop; `broken`: the structure is not a JPEG's (or it ends before EOI).
 * Strict (the default) stops at the first byte out of place; tolerant skips to the next 0xFF
 * the way libjpeg does ("extraneous bytes before marker"), to count what a decoder would see.
 */
export function walkJpeg(
  bytes: Buffer,
  visit: JpegVisitor,
  options: { tolerant?: boolean } = {},
): 'eoi' | 'stopped' | 'broken' {
  const length = bytes.length;
  if (length < 4 || bytes[0] !== 0xff || bytes[1] !== SOI) return 'broken';
  if (visit(SOI, 0, 2) === false) return 'stopped';
  let at = 2;
  while (at < length) {
    if (bytes[at] !== 0xff) {
      if (!options.tolerant) return 'broken';
      at = bytes.indexOf(0xff, at);
      if (at < 0) return 'broken';
    }
    let m = at + 1;
    while (m < length && bytes[m] === 0xff) m++; // fill bytes before a marker
    if (m >= length) return 'broken';
    const marker = bytes[m] as number;
    const start = m - 1;
    if (marker === EOI) return visit(EOI, start, m + 1) === false ? 'stopped' : 'eoi';
    if (marker === SOI || marker === 0x00) {
      if (!options.tolerant) return 'broken';
      at = m + 1;
      continue;
    }
    if (isStandalone(marker)) {
      if (visit(marker, start, m + 1) === false) return 'stopped';
      at = m + 1;
      continue;
    }
    if (m + 2 >= length) return 'broken';
    const end = m + 1 + (((bytes[m + 1] as number) << 8) | (bytes[m + 2] as number));
    if (end < m + 3 || end > length) return 'broken';
    if (visit(marker, start, end) === false) return 'stopped';
    at = end;
    if (marker === SOS) {
      const next = nextMarker(bytes, at);
      if (next < 0) return 'broken';
      if (next > at && visit(ENTROPY_CODED, at, next) === false) return 'stopped';
      at = next;
    }
  }
  return 'broken';
}

/**
 * Position of the 0xFF of the first marker at or after `from` that ends entropy-coded data, or
 * -1. 0xFF00 (a stuffed 0xFF) and RST0–7 belong to the data; fill 0xFFs before a marker too.
 */
function nextMarker(bytes: Buffer, from: number): number {
  let p = from;
  for (;;) {
    p = bytes.indexOf(0xff, p);
    if (p < 0) return -1;
    let q = p + 1;
    while (q < bytes.length && bytes[q] === 0xff) q++;
    if (q >= bytes.length) return -1;
    const next = bytes[q] as number;
    if (next !== 0x00 && !(next >= 0xd0 && next <= 0xd7)) return q - 1;
    p = q + 1;
  }
}

/**
 * The number of scans a decoder would run through, counted up to `limit + 1` at most (the walk
 * stops there): tolerant, so bytes a strict walk would refuse cannot hide scans from the count.
 */
export function countJpegScans(bytes: Buffer, limit: number): number {
  let scans = 0;
  walkJpeg(bytes, (marker) => (marker === SOS ? ++scans <= limit : true), { tolerant: true });
  return scans;
}
