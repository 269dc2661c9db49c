/**
 * A minimal uncompressed TIFF around decoded HEIC pixels, so they enter sharp like any other
 * source: with their ICC profile attached, which sharp's raw-pixel input cannot carry. sharp
 * then converts them to sRGB (Display P3 from an iPhone, …) on the same path as a JPEG's or
 * PNG's embedded profile. No compression: writing it is one copy of the pixels.
 */

/** Layout of the TIFF written for one image: the header to fill in, where the pixels go. */
export interface TiffLayout {
  /** Total size of the file: header, ICC profile, then the pixel rows. */
  bytes: number;
  /** Offset of the first pixel row (8-bit interleaved RGB or RGBA, no padding). */
  pixelsOffset: number;
}

const TAG_COUNT_RGB = 10;
const SHORT = 3;
const LONG = 4;
const UNDEFINED = 7;

export function tiffLayout(width: number, height: number, channels: 3 | 4, iccBytes: number): TiffLayout {
  const tags = TAG_COUNT_RGB + (channels === 4 ? 1 : 0) + (iccBytes > 0 ? 1 : 0);
  const ifdEnd = 8 + 2 + tags * 12 + 4;
  const bitsOffset = ifdEnd;
  const iccOffset = bitsOffset + channels * 2;
  const pixelsOffset = iccOffset + iccBytes + ((iccOffset + iccBytes) % 2);
  return { bytes: pixelsOffset + width * height * channels, pixelsOffset };
}

/**
 * Writes the TIFF header (little-endian, one strip) and the ICC profile into `out`, which is
 * `tiffLayout(…).bytes` long; the caller copies the pixel rows from `pixelsOffset` on.
 */
export function writeTiffHeader(
  out: Uint8Array,
  width: number,
  height: number,
  channels: 3 | 4,
  icc: Uint8Array | undefined,
): TiffLayout {
  const iccBytes = icc?.length ?? 0;
  const layout = tiffLayout(width, height, channels, iccBytes);
  if (out.length !== layout.bytes)
    throw new RangeError(`TIFF buffer is ${out.length} bytes, expected ${layout.bytes}`);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.set([0x49, 0x49, 42, 0], 0);
  view.setUint32(4, 8, true);
  const tags = TAG_COUNT_RGB + (channels === 4 ? 1 : 0) + (iccBytes > 0 ? 1 : 0);
  const bitsOffset = 8 + 2 + tags * 12 + 4;
  const iccOffset = bitsOffset + channels * 2;
  view.setUint16(8, tags, true);
  let at = 10;
  // Tags in ascending order, as TIFF requires: [tag, type, count, value or offset].
  const entry = (tag: number, type: number, count: number, value: number) => {
    view.setUint16(at, tag, true);
    view.setUint16(at + 2, type, true);
    view.setUint32(at + 4, count, true);
    if (type === SHORT && count === 1) view.setUint16(at + 8, value, true);
    else view.setUint32(at + 8, value, true);
    at += 12;
  };
  entry(256, LONG, 1, width); // ImageWidth
  entry(257, LONG, 1, height); // ImageLength
  entry(258, SHORT, channels, bitsOffset); // BitsPerSample: 8 per channel, listed at bitsOffset
  entry(259, SHORT, 1, 1); // Compression: none
  entry(262, SHORT, 1, 2); // PhotometricInterpretation: RGB
  entry(273, LONG, 1, layout.pixelsOffset); // StripOffsets
  entry(277, SHORT, 1, channels); // SamplesPerPixel
  entry(278, LONG, 1, height); // RowsPerStrip: one strip
  entry(279, LONG, 1, width * height * channels); // StripByteCounts
  entry(284, SHORT, 1, 1); // PlanarConfiguration: interleaved
  if (channels === 4) entry(338, SHORT, 1, 2); // ExtraSamples: unassociated alpha
  if (icc !== undefined && iccBytes > 0) entry(34675, UNDEFINED, iccBytes, iccOffset); // ICC profile
  view.setUint32(at, 0, true); // no next IFD
  for (let c = 0; c < channels; c++) view.setUint16(bitsOffset + c * 2, 8, true);
  if (icc !== undefined) out.set(icc, iccOffset);
  return layout;
}
