/**
 * The limits and quality profiles of the transform core, with their defaults. Configuration
 * code parses env/flags into a `TransformLimits`; `createTransformer` validates it once.
 */

/** Fixed qualities (1–100), one per output format. */
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
  /**
   * Most scans (SOS segments) a JPEG may have, counted by walking its markers before any pixel
   * is decoded (413 IMG_TOO_COMPLEX beyond). Each scan of a progressive JPEG is one more pass
   * over every coefficient: a small file of 96 MP with 883 scans costs ~20 s of decode. libjpeg
   * writes 10 scans for a progressive colour JPEG (24 for CMYK), mozjpeg about 5–12.
   */
  maxJpegScans: number;
  /**
   * Render SVG sources (librsvg, nothing fetched). Off by default: SVG is refused with 415 from
   * a byte sniff, before anything parses it. On, an SVG is checked before librsvg sees it
   * (svg-guard.ts): its bytes, its elements, no filters, no entities; and it is rendered at
   * most at the output size.
   */
  allowSvg: boolean;
  /**
   * Decode HEIC (HEVC) sources, through libheif + libde265 in WebAssembly (heic.ts). Off, HEIC
   * is refused with 415 from its header, for deployments that cannot accept HEVC's patent
   * licensing (README, docs/origin.md#heic-input).
   */
  allowHeic: boolean;
  /**
   * Longest a HEIC decode may take, in ms, in its worker thread; past it the worker is ended and
   * the answer is 413 IMG_TOO_COMPLEX. About 45 ms of CPU per megapixel (bench/heic.ts).
   */
  heicTimeoutMs: number;
  /** Largest SVG source, in bytes (413 IMG_TOO_LARGE beyond); librsvg's memory grows with it. */
  maxSvgBytes: number;
  /** Most elements (start tags) an SVG may have (413 IMG_TOO_COMPLEX beyond). */
  maxSvgElements: number;
  /**
   * Output pixels (width × height) beyond which a requested AVIF is encoded as WebP instead.
   * AVIF encoding time grows much faster than WebP's with size (about 0.3 s for 0.4 MP at effort
   * 2 on one core); past ~6 MP a cold transform would take seconds, longer than a viewer should
   * wait for the first request. Every browser that accepts AVIF also accepts WebP.
   */
  avifMaxPixels: number;
  /** The perceptual quality search behind `q=auto` and `q=lite`. */
  quality: QualitySettings;
}

/** One profile of the search: `auto` (visually lossless, the default) or `lite` (Save-Data). */
export interface QualityProfile {
  /**
   * Largest perceptual distance (distance.ts: butteraugli 3-norm units, 0 = identical) the chosen
   * candidate may have.
   */
  distance: number;
  /** The safe defaults, encoded when the search falls back, and for animations (not searched). */
  fallback: FormatQualities;
}

export interface QualitySettings {
  auto: QualityProfile;
  lite: QualityProfile;
  /** Encoder runs per variant, the final full-size one included (1 = the fixed fallback only). */
  maxEncodes: number;
  /** Time (ms) after which the search starts no new encode; 0 = always the fallback. */
  budgetMs: number;
}

/**
 * Defaults, calibrated on the corpus against butteraugli and SSIMULACRA (docs/quality.md,
 * `npm run eval:quality`): the `auto` distance keeps butteraugli's 3-norm around 1.0 (visually
 * lossless; mozjpeg needs q≈80–85 for that on Kodak), `lite` lets it reach about 1.5
 * (slightly softer, still clean). The fallbacks are the fixed qualities at which Kodak's
 * butteraugli p90 is about 1.1 (auto) and 1.5 (lite).
 */
export const DEFAULT_LIMITS: TransformLimits = Object.freeze({
  maxSourceBytes: 40 * 1024 * 1024,
  maxInputPixels: 100_000_000,
  maxOutputDimension: 4096,
  maxFrames: 200,
  maxJpegScans: 64,
  allowSvg: false,
  allowHeic: true,
  heicTimeoutMs: 15_000,
  maxSvgBytes: 1024 * 1024,
  maxSvgElements: 10_000,
  avifMaxPixels: 6_000_000,
  quality: Object.freeze({
    auto: Object.freeze({
      distance: 1.0,
      fallback: Object.freeze({ jpeg: 85, webp: 85, avif: 65, png: 90 }),
    }),
    lite: Object.freeze({
      distance: 1.5,
      fallback: Object.freeze({ jpeg: 70, webp: 70, avif: 55, png: 70 }),
    }),
    maxEncodes: 5,
    budgetMs: 2000,
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

/** Most encoder runs a variant may cost. */
export const MAX_ENCODES = 8;
/**
 * Allowed distances: 0.2 is about mozjpeg q97 on a photo (stricter only buys bytes), beyond 4
 * the artefacts are plain to anyone.
 */
export const DISTANCE_RANGE = { min: 0.2, max: 4 } as const;

function checkProfile(profile: string, p: QualityProfile): void {
  const { distance } = p;
  const { min, max } = DISTANCE_RANGE;
  if (typeof distance !== 'number' || !(distance >= min && distance <= max)) {
    throw new RangeError(
      `Invalid quality.${profile}.distance ${JSON.stringify(distance)}: expected a number from ${min} to ${max}`,
    );
  }
  for (const format of ['jpeg', 'webp', 'avif', 'png'] as const) {
    integerIn(`quality.${profile}.fallback.${format}`, p.fallback[format], 1, 100);
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
  integerIn('maxJpegScans', limits.maxJpegScans, 1, 100_000);
  integerIn('avifMaxPixels', limits.avifMaxPixels, 0, SHARP_MAX_DIMENSION * SHARP_MAX_DIMENSION);
  if (typeof limits.allowSvg !== 'boolean') {
    throw new RangeError(`Invalid allowSvg ${JSON.stringify(limits.allowSvg)}: expected true or false`);
  }
  if (typeof limits.allowHeic !== 'boolean') {
    throw new RangeError(`Invalid allowHeic ${JSON.stringify(limits.allowHeic)}: expected true or false`);
  }
  integerIn('heicTimeoutMs', limits.heicTimeoutMs, 1, 900_000);
  integerIn('maxSvgBytes', limits.maxSvgBytes, 1, 2 ** 31 - 1);
  integerIn('maxSvgElements', limits.maxSvgElements, 1, 1_000_000);
  checkProfile('auto', limits.quality.auto);
  checkProfile('lite', limits.quality.lite);
  integerIn('quality.maxEncodes', limits.quality.maxEncodes, 1, MAX_ENCODES);
  integerIn('quality.budgetMs', limits.quality.budgetMs, 0, 60_000);
  return limits;
}
