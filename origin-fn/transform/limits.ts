/**
 * The limits and quality profiles of the transform core, with their defaults. Configuration
 * code parses env/flags into a `TransformLimits`; `createTransformer` validates it once.
 */

/** Qualities (1–100) used for one profile of `q=auto` / `q=lite`. */
export interface FormatQualities {
  jpeg: number;
  webp: number;
  avif: number;
  /** Target quality of the PNG palette (libimagequant) attempt; the truecolour attempt is lossless. */
  png: number;
}

export interface TransformLimits {
  /** Largest accepted source, in bytes (413 IMG_TOO_LARGE beyond). */
  maxSourceBytes: number;
  /**
   * Largest accepted source, in pixels (width × height, × frames for an animation decoded in
   * full), read from the header before any pixel is decoded (413 IMG_TOO_MANY_PIXELS beyond):
   * the guard against decompression bombs.
   */
  maxInputPixels: number;
  /** Longest side of any output, in pixels; larger requests are scaled down proportionally. */
  maxOutputDimension: number;
  /** Most frames an animation may have when it is decoded in full (413 IMG_TOO_MANY_FRAMES beyond). */
  maxFrames: number;
  /** Render SVG sources (librsvg, nothing fetched). Off by default: SVG is refused with 415. */
  allowSvg: boolean;
  /**
   * Output pixels (width × height) beyond which a requested AVIF is encoded as WebP instead.
   * AVIF encoding time grows much faster than WebP's with size (about 0.3 s for 0.4 MP at effort
   * 2 on one core); past ~6 MP a cold transform would take seconds, longer than a viewer should
   * wait for the first request. Every browser that accepts AVIF also accepts WebP.
   */
  avifMaxPixels: number;
  /** Qualities for `q=auto` (the default, visually lossless target) and `q=lite` (Save-Data). */
  qualities: { auto: FormatQualities; lite: FormatQualities };
}

/**
 * Defaults. The qualities were tuned on six Kodak photos (768×512): at these values the
 * average luma SSIM against the lossless original is about 0.95 for every format (JPEG 78:
 * 64 KB, WebP 76: 62 KB, AVIF 55: 40 KB per image, from a 500–700 KB PNG). `lite` costs about a
 * quarter to a third of the bytes less (JPEG 65: 47 KB, WebP 58: 49 KB, AVIF 45: 28 KB) at an
 * SSIM of about 0.92–0.95: slightly softer, still clean. A later issue replaces fixed values
 * with a perceptual search.
 */
export const DEFAULT_LIMITS: TransformLimits = Object.freeze({
  maxSourceBytes: 40 * 1024 * 1024,
  maxInputPixels: 100_000_000,
  maxOutputDimension: 4096,
  maxFrames: 200,
  allowSvg: false,
  avifMaxPixels: 6_000_000,
  qualities: Object.freeze({
    auto: Object.freeze({ jpeg: 78, webp: 76, avif: 55, png: 90 }),
    lite: Object.freeze({ jpeg: 65, webp: 58, avif: 45, png: 70 }),
  }),
});

/** libvips/sharp cannot address images wider or taller than this. */
const SHARP_MAX_DIMENSION = 16383;

function integerIn(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Invalid ${name} ${JSON.stringify(value)}: expected an integer from ${min} to ${max}`,
    );
  }
}

function checkQualities(profile: string, q: FormatQualities): void {
  for (const format of ['jpeg', 'webp', 'avif', 'png'] as const) {
    integerIn(`qualities.${profile}.${format}`, q[format], 1, 100);
  }
}

/**
 * Validates limits (a configuration fault, thrown at start-up as a RangeError naming the
 * setting and its allowed range) and returns them unchanged.
 */
export function validateLimits(limits: TransformLimits): TransformLimits {
  integerIn('maxSourceBytes', limits.maxSourceBytes, 1, 2 ** 31 - 1);
  integerIn('maxInputPixels', limits.maxInputPixels, 1, SHARP_MAX_DIMENSION * SHARP_MAX_DIMENSION * 4);
  integerIn('maxOutputDimension', limits.maxOutputDimension, 1, SHARP_MAX_DIMENSION);
  integerIn('maxFrames', limits.maxFrames, 1, 100_000);
  integerIn('avifMaxPixels', limits.avifMaxPixels, 0, SHARP_MAX_DIMENSION * SHARP_MAX_DIMENSION);
  if (typeof limits.allowSvg !== 'boolean') {
    throw new RangeError(`Invalid allowSvg ${JSON.stringify(limits.allowSvg)}: expected true or false`);
  }
  checkQualities('auto', limits.qualities.auto);
  checkQualities('lite', limits.qualities.lite);
  return limits;
}
