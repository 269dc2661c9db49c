/**
 * The transform core: source bytes + variant spec → variant bytes + metadata, through sharp.
 * No storage, no HTTP: adapters call it and map its ImageErrors to responses.
 *
 *  1. probe the header (format sniffed from the bytes; byte, pixel, format and SVG limits);
 *  2. decode: EXIF orientation, the crop's region (decode.ts), resize (never enlarging),
 *     colour-manage to sRGB, raw pixels;
 *  3. choose the served format: JPEG → PNG when the image has real transparency, AVIF → WebP
 *     beyond `avifMaxPixels`; an alpha channel that is fully opaque is dropped;
 *  4. encode (metadata stripped: nothing is copied from the source); `q=auto`/`q=lite` search
 *     the lowest quality that meets a perceptual target (quality.ts);
 *  5. never heavier: serve the source's own bytes when the encode is not lighter and the
 *     source would look the same (same size, same format, upright, not CMYK), always as its
 *     metadata-free copy (JPEG, PNG, WebP stripped losslessly; AVIF never passed through).
 *
 * Animations (GIF or WebP with more than one frame) keep every frame when the output is WebP.
 * For JPEG, AVIF or PNG output only the first frame is served: those outputs are stills here
 * (sharp has no animated AVIF or APNG encoder), and a still is what such a request asks for.
 */
import sharp from 'sharp';
import { DEFAULT_LADDER } from '../../edge-fn/grammar/config.ts';
import type { OutputFormat, VariantSpec } from '../../edge-fn/grammar/types.ts';
import { unsupported } from '../errors.ts';
import { encodeWithinBudget } from './budget.ts';
import { type Decoded, decode } from './decode.ts';
import { CONTENT_TYPES, servableAs } from './formats.ts';
import { decodeHeic } from './heic.ts';
import { DEFAULT_LIMITS, type TransformLimits, validateLimits } from './limits.ts';
import { checkAnimation, probeSource, type SourceInfo } from './probe-source.ts';
import { encodeWithQuality } from './quality.ts';
import type { QualityHints } from './quality-hints.ts';
import { cropRegion, type Geometry, planGeometry, wholeAtCropScale } from './resize-plan.ts';
import { withoutMetadata } from './strip-metadata.ts';
import { svgDensity } from './svg-guard.ts';
import { transformMany } from './transform-many.ts';
import type { Transformer, TransformResult } from './types.ts';
import { validateSpec } from './validate-spec.ts';

const elapsedSince = (start: number) => Math.round((performance.now() - start) * 100) / 100;

/** What an SVG is rendered for: its plan, or with a crop the whole document at the crop's scale. */
function svgRender(source: SourceInfo, geometry: Geometry): Geometry['plan'] {
  if (geometry.region === undefined) return geometry.plan;
  return { ...wholeAtCropScale(source, geometry.region, geometry.plan), fit: 'fill' };
}

async function decodeOrRefuse(
  input: Buffer,
  source: SourceInfo,
  spec: VariantSpec,
  animated: boolean,
  limits: TransformLimits,
): Promise<Decoded> {
  const geometry = planGeometry(source, spec, limits.maxOutputDimension);
  try {
    return await decode(input, {
      plan: geometry.plan,
      region: geometry.region,
      source,
      animated,
      maxInputPixels: limits.maxInputPixels,
      format: spec.format,
      density: source.format === 'svg' ? svgDensity(source, svgRender(source, geometry)) : undefined,
    });
  } catch (err) {
    // The header was read and is within limits, so a failure while decoding its pixels means
    // damaged data (truncated, corrupt entropy-coded data, trailing garbage…).
    throw unsupported(
      'IMG_CORRUPT',
      'The image is damaged (truncated or corrupt data). Re-export the file.',
      err,
    );
  }
}

/** True when the image has an alpha channel that some pixel actually uses. */
export async function isTransparent(decoded: Decoded): Promise<boolean> {
  const { data, width, height, channels } = decoded.pixels;
  if (channels !== 2 && channels !== 4) return false;
  const stats = await sharp(data, { raw: { width, height, channels } }).stats();
  return !stats.isOpaque;
}

function servedFormatFor(
  requested: OutputFormat,
  transparent: boolean,
  pixels: number,
  limits: TransformLimits,
): OutputFormat {
  if (requested === 'jpeg' && transparent) return 'png';
  if (requested === 'avif' && pixels > limits.avifMaxPixels) return 'webp';
  return requested;
}

/**
 * The source's own bytes when they look exactly like the variant would (minus encoding loss),
 * or undefined. Metadata is stripped from every variant: an original is offered only as its
 * metadata-free copy (strip-metadata.ts: every EXIF/XMP/IPTC/comment/text segment removed
 * losslessly, wherever it sits, and nothing after the end of the image).
 */
function servableOriginal(
  input: Buffer,
  source: SourceInfo,
  format: OutputFormat,
  decoded: Decoded,
  animated: boolean,
): Buffer | undefined {
  const same =
    servableAs(source.format) === format &&
    decoded.width === source.width &&
    decoded.height === source.height &&
    source.orientation === 1 &&
    !source.cmyk &&
    animated === source.frames > 1;
  return same ? withoutMetadata(input, source.format) : undefined;
}

/**
 * What sharp decodes for a probed source: its own bytes, or for HEIC (which this sharp cannot
 * decode) a TIFF of its pixels from libheif (heic.ts), made once and shared by every variant.
 */
export async function decodableInput(
  input: Buffer,
  source: SourceInfo,
  limits: TransformLimits,
): Promise<Buffer> {
  return source.format === 'heic' ? decodeHeic(input, limits) : input;
}

/** Decoded pixels of one size, ready to encode in any format. */
export interface Prepared {
  decoded: Decoded;
  transparent: boolean;
  decodeMs: number;
}

/** Decodes (and resizes) a probed source for a spec; shared by every spec of the same size. */
export async function prepareFor(
  input: Buffer,
  source: SourceInfo,
  spec: VariantSpec,
  animated: boolean,
  limits: TransformLimits,
): Promise<Prepared> {
  const start = performance.now();
  const decoded = await decodeOrRefuse(input, source, spec, animated, limits);
  const transparent = await isTransparent(decoded);
  return { decoded, transparent, decodeMs: elapsedSince(start) };
}

/** True when a spec keeps every frame (WebP output of an animation); checks the animation limits. */
export function keepsAnimation(source: SourceInfo, spec: VariantSpec, limits: TransformLimits): boolean {
  const animated = spec.format === 'webp' && source.frames > 1;
  if (animated) checkAnimation(source, limits);
  return animated;
}

/**
 * Encodes prepared pixels for a spec: served format, quality search (started from `hints` when
 * other variants of the same image were searched), byte budget (budget.ts: quality, then the
 * size `ladder`, come down until the bytes fit), never heavier.
 */
export async function finishVariant(
  input: Buffer,
  source: SourceInfo,
  spec: VariantSpec,
  prepared: Prepared,
  animated: boolean,
  limits: TransformLimits,
  hints?: QualityHints,
  ladder: readonly number[] = DEFAULT_LADDER,
): Promise<TransformResult> {
  const { transparent, decodeMs } = prepared;
  let { decoded } = prepared;
  const format = servedFormatFor(spec.format, transparent, decoded.width * decoded.height, limits);
  const encodeStart = performance.now();
  const base = {
    format,
    dropAlpha: !transparent && (decoded.pixels.channels === 2 || decoded.pixels.channels === 4),
    greyscale: source.greyscale,
    animation: animated ? { frameHeight: decoded.height, loop: source.loop, delay: source.delay } : undefined,
  };
  // Like with like: a crop's output is compared with (and scaled from) the crop's width.
  const context = {
    hints,
    sourceWidth: spec.crop === undefined ? source.width : cropRegion(source, spec.crop).width,
  };
  let made: Awaited<ReturnType<typeof encodeWithQuality>>;
  if (spec.maxKb === undefined) {
    made = await encodeWithQuality(decoded.pixels, base, spec.quality, limits.quality, undefined, context);
  } else {
    const budgeted = await encodeWithinBudget({
      pixels: decoded.pixels,
      base,
      quality: spec.quality,
      settings: limits.quality,
      maxKb: spec.maxKb,
      ladder,
      side: spec.width !== undefined ? 'width' : spec.height !== undefined ? 'height' : 'longer',
      context,
    });
    made = budgeted;
    const { pixels } = budgeted;
    // A step down the ladder: the variant's size is the step's (animations are never stepped).
    if (pixels !== decoded.pixels) decoded = { pixels, width: pixels.width, height: pixels.height };
  }
  const { encoded, report, decoded: searchDecoded } = made;
  const encodeMs = elapsedSince(encodeStart);

  const common = {
    width: decoded.width,
    height: decoded.height,
    originalBytes: input.length,
    animated,
    qualityReport: report,
    timings: { decodeMs, encodeMs },
  };
  const original = servableOriginal(input, source, format, decoded, animated);
  if (original !== undefined && encoded.bytes.length >= original.length) {
    // Never heavier than the original: its bytes passed the same strict decode.
    return {
      ...common,
      bytes: original,
      format,
      contentType: CONTENT_TYPES[format],
      quality: encoded.quality,
      servedOriginal: true,
      decodedInProcess: false,
    };
  }
  return {
    ...common,
    bytes: encoded.bytes,
    format,
    contentType: CONTENT_TYPES[format],
    quality: encoded.quality,
    servedOriginal: false,
    decodedInProcess: searchDecoded === true,
  };
}

async function run(
  input: Buffer,
  spec: VariantSpec,
  limits: TransformLimits,
  ladder: readonly number[],
): Promise<TransformResult> {
  validateSpec(spec);
  const probeStart = performance.now();
  const source = await probeSource(input, limits);
  const animated = keepsAnimation(source, spec, limits);
  const decodable = await decodableInput(input, source, limits);
  const prepared = await prepareFor(decodable, source, spec, animated, limits);
  // The probe counts as decoding time, as it always has.
  return finishVariant(
    input,
    source,
    spec,
    { ...prepared, decodeMs: elapsedSince(probeStart) },
    animated,
    limits,
    undefined,
    ladder,
  );
}

export interface TransformerOptions {
  /** The grammar's size ladder, which byte budgets step down (default: the default grammar's). */
  ladder?: readonly number[] | undefined;
}

/**
 * Builds the transformer once per cold start. Throws a RangeError naming the setting when the
 * limits are invalid.
 */
export function createTransformer(
  limits: TransformLimits = DEFAULT_LIMITS,
  options: TransformerOptions = {},
): Transformer {
  validateLimits(limits);
  const ladder = options.ladder ?? DEFAULT_LADDER;
  return {
    transform: (input, spec) => run(input, spec, limits, ladder),
    transformMany: (input, specs, many) => transformMany(input, specs, limits, { ...many, ladder }),
  };
}
