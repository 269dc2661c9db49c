/**
 * Reads a source's header (never its pixels) and refuses what the transform must not decode:
 * too many bytes, too many pixels (decompression bombs), too many JPEG scans (decoder bombs),
 * unsupported formats, SVG when it is off. The format comes from the bytes, never from a file name or a content type.
 */
import sharp, { type Metadata } from 'sharp';
import { tooLarge, unsupported } from '../errors.ts';
import { hasImageSignature, type SourceFormat } from './formats.ts';
import { countJpegScans } from './jpeg-segments.ts';
import type { TransformLimits } from './limits.ts';
import { checkSvg, looksLikeSvg } from './svg-guard.ts';

export interface SourceInfo {
  format: SourceFormat;
  /** Size as displayed (EXIF orientation applied), of one frame. */
  width: number;
  height: number;
  /** EXIF orientation, 1 (upright) when absent. */
  orientation: number;
  /** Number of frames (1 for a still image). */
  frames: number;
  /** Animation loop count (0 = forever) and per-frame delays in ms, when the source has them. */
  loop?: number | undefined;
  delay?: number[] | undefined;
  hasAlpha: boolean;
  /** One colour channel (greyscale): kept as greyscale where the output format allows it. */
  greyscale: boolean;
  /** CMYK pixels: converted to sRGB, so the original bytes are never served as is. */
  cmyk: boolean;
}

const accepted = (limits: TransformLimits) =>
  `JPEG, PNG, WebP, AVIF, ${limits.allowHeic ? 'HEIC, ' : ''}GIF or TIFF`;
const megapixels = (pixels: number) => `${(pixels / 1e6).toFixed(1)} megapixels`;

function sourceFormat(meta: Metadata, limits: TransformLimits): SourceFormat | undefined {
  switch (meta.format) {
    case 'jpeg':
    case 'png':
    case 'webp':
    case 'gif':
    case 'tiff':
    case 'svg':
      return meta.format;
    case 'heif':
      // HEIF holds AVIF (AV1) or HEIC (HEVC); sharp's prebuilt libvips has no HEVC decoder,
      // libheif in WebAssembly decodes it (heic.ts) unless HEIC input is off.
      if (meta.compression === 'av1') return 'avif';
      return meta.compression === 'hevc' && limits.allowHeic ? 'heic' : undefined;
    default:
      return undefined;
  }
}

async function readHeader(input: Buffer, limits: TransformLimits): Promise<Metadata> {
  try {
    // Header only: no pixel is decoded, so no pixel limit is needed here; ours is applied below
    // on the dimensions, which avoids interpreting sharp's own limit error.
    return await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    if (hasImageSignature(input)) {
      throw unsupported(
        'IMG_CORRUPT',
        'The image is damaged: its header cannot be read. Re-export the file.',
        err,
      );
    }
    throw unsupported('IMG_UNSUPPORTED', `The file is not an image: expected ${accepted(limits)}.`, err);
  }
}

/**
 * A JPEG's decode cost grows with its scans (progressive passes), which its header does not
 * tell: they are counted by walking the markers (linear in the bytes, no pixel decoded).
 */
function checkJpegScans(input: Buffer, limits: TransformLimits): void {
  if (input[0] !== 0xff || input[1] !== 0xd8) return;
  const scans = countJpegScans(input, limits.maxJpegScans);
  if (scans > limits.maxJpegScans) {
    throw tooLarge(
      'IMG_TOO_COMPLEX',
      `The JPEG has more than ${limits.maxJpegScans} scans (progressive passes, each costing a full decode pass); ` +
        `the limit is ${limits.maxJpegScans} (a standard progressive JPEG has about 10). Re-save it as a standard baseline or progressive JPEG.`,
    );
  }
}

/** SVG off: refused unparsed; on: bounded before librsvg parses it (svg-guard.ts). */
function refuseOrCheckSvg(input: Buffer, limits: TransformLimits): void {
  if (!limits.allowSvg) {
    throw unsupported(
      'IMG_UNSUPPORTED',
      `SVG images are not served by this CDN: expected ${accepted(limits)}.`,
    );
  }
  checkSvg(input, limits);
}

/** Checks bytes, format, pixel count and JPEG scans from the header; throws ImageError 413/415. */
export async function probeSource(input: Buffer, limits: TransformLimits): Promise<SourceInfo> {
  if (input.length === 0) {
    throw unsupported('IMG_UNSUPPORTED', `The file is empty: expected ${accepted(limits)}.`);
  }
  if (input.length > limits.maxSourceBytes) {
    throw tooLarge(
      'IMG_TOO_LARGE',
      `The image is ${input.length} bytes; the limit is ${limits.maxSourceBytes} bytes. Upload a smaller file.`,
    );
  }
  checkJpegScans(input, limits);
  // A raster signature wins, as in libvips's loader order: a JPEG or GIF whose metadata holds
  // the text "<svg" is still that raster (and were librsvg ever to get it, the format check
  // below still refuses SVG when it is off).
  const svg = !hasImageSignature(input) && looksLikeSvg(input);
  if (svg) refuseOrCheckSvg(input, limits);
  const meta = await readHeader(input, limits);
  const format = sourceFormat(meta, limits);
  if (format === undefined) {
    if (meta.format === 'heif' && meta.compression === 'hevc') {
      throw unsupported(
        'IMG_UNSUPPORTED',
        `HEIC images are not served by this CDN (HEIC input is off): expected ${accepted(limits)}.`,
      );
    }
    const what =
      meta.format === 'heif' ? `HEIF (${meta.compression ?? 'unknown'})` : meta.format.toUpperCase();
    throw unsupported('IMG_UNSUPPORTED', `${what} images are not supported: expected ${accepted(limits)}.`);
  }
  // The sniff is a superset of libvips's own: this only holds if it ever was not.
  if (format === 'svg' && !svg) refuseOrCheckSvg(input, limits);
  const pixels = meta.width * meta.height;
  if (pixels > limits.maxInputPixels) {
    throw tooLarge(
      'IMG_TOO_MANY_PIXELS',
      `The image is ${meta.width}×${meta.height} (${megapixels(pixels)}); the limit is ` +
        `${megapixels(limits.maxInputPixels)}. Resize it before uploading.`,
    );
  }
  // HEIC: libheif applies the irot/imir transforms while decoding (the header's size is already
  // the upright one) and an EXIF orientation in the file is informative only: never applied.
  const heic = format === 'heic';
  const orientation = heic ? 1 : (meta.orientation ?? 1);
  return {
    format,
    width: heic ? meta.width : meta.autoOrient.width,
    height: heic ? meta.height : meta.autoOrient.height,
    orientation,
    frames: meta.pages !== undefined && (format === 'gif' || format === 'webp') ? meta.pages : 1,
    loop: meta.loop,
    delay: meta.delay,
    hasAlpha: meta.hasAlpha,
    greyscale: meta.channels === 1 && (meta.space === 'b-w' || meta.space === 'grey16'),
    cmyk: meta.space === 'cmyk',
  };
}

/**
 * An animation is decoded in full only when it is kept (WebP output); then its frame count and
 * total pixels are checked here, before decoding.
 */
export function checkAnimation(source: SourceInfo, limits: TransformLimits): void {
  if (source.frames > limits.maxFrames) {
    throw tooLarge(
      'IMG_TOO_MANY_FRAMES',
      `The animation has ${source.frames} frames; the limit is ${limits.maxFrames}. Shorten it or request a still format.`,
    );
  }
  const pixels = source.width * source.height * source.frames;
  if (pixels > limits.maxInputPixels) {
    throw tooLarge(
      'IMG_TOO_MANY_PIXELS',
      `The animation is ${source.frames} frames of ${source.width}×${source.height} (${megapixels(pixels)} in all); ` +
        `the limit is ${megapixels(limits.maxInputPixels)}. Make it smaller or shorter, or request a still format.`,
    );
  }
}
