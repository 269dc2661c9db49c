/**
 * Decoding: source bytes → upright, cropped, resized, 8-bit sRGB pixels. Colour management
 * happens here: sharp converts any embedded ICC profile (Display P3, Adobe RGB, CMYK, …) and
 * CMYK without a profile (through its built-in CMYK profile) to sRGB before resizing.
 *
 * A crop is a region of the displayed (upright) original. sharp decodes a JPEG at 1/2, 1/4 or
 * 1/8 of its size when the resize allows (shrink-on-load), but never when the pipeline also
 * extracts a region of an auto-oriented image. So a crop that is also shrunk at least 3 times
 * (below that, sharp's libjpeg rounding guard keeps the full decode anyway) is decoded in two
 * steps: the whole image straight to the crop's final scale (shrink-on-load does the bulk), then
 * the region cut from those pixels and resized (an identity scale: only `cover`'s crop and
 * `contain`'s padding remain). Other crops, and every crop of a non-JPEG source, extract the
 * region first and resize it.
 */
import sharp, { type Sharp } from 'sharp';
import type { OutputFormat, Position } from '../../edge-fn/grammar/types.ts';
import type { RawPixels } from './encode.ts';
import type { SourceFormat } from './formats.ts';
import { planScale, type Region, type ResizePlan, type Size, wholeAtCropScale } from './resize-plan.ts';

export interface DecodeRequest {
  /** The resize (of the region, when there is one). */
  plan: ResizePlan | undefined;
  /** The crop's region of the displayed original (resize-plan.ts `cropRegion`). */
  region?: Region | undefined;
  /** The displayed size and format of the whole original (probe-source.ts); needed with a region. */
  source?: (Size & { format: SourceFormat }) | undefined;
  /** Decode every frame (the caller has checked the frame and pixel limits). */
  animated: boolean;
  /** Pixel limit passed to sharp as a second guard (the header was already checked). */
  maxInputPixels: number;
  /** The requested format: `contain` pads with white for JPEG, with transparency otherwise. */
  format: OutputFormat;
  /** SVG only: the density it is rendered at (svg-guard.ts `svgDensity`). */
  density?: number | undefined;
}

export interface Decoded {
  pixels: RawPixels;
  /** Size of the output (one frame). */
  width: number;
  height: number;
}

const WHITE = { r: 255, g: 255, b: 255, alpha: 1 };
const TRANSPARENT = { r: 0, g: 0, b: 0, alpha: 0 };

/** The grammar's positions in sharp's names (gravities, and the two `cover` strategies). */
const SHARP_POSITION: Readonly<Record<Position, string>> = Object.freeze({
  top: 'north',
  right: 'east',
  bottom: 'south',
  left: 'west',
  'top-left': 'northwest',
  'top-right': 'northeast',
  'bottom-left': 'southwest',
  'bottom-right': 'southeast',
  attention: 'attention',
  entropy: 'entropy',
});

/** Crops shrunk at least this much take the two-step decode (see above). */
export const SHRINK_ON_LOAD_FROM = 3;

function resize(image: Sharp, plan: ResizePlan, format: OutputFormat): Sharp {
  return image.resize({
    width: plan.width,
    height: plan.height,
    fit: plan.fit,
    withoutEnlargement: true,
    background: format === 'jpeg' ? WHITE : TRANSPARENT,
    ...(plan.position !== undefined ? { position: SHARP_POSITION[plan.position] } : {}),
  });
}

async function toDecoded(image: Sharp, animated: boolean): Promise<Decoded> {
  const { data, info } = await image
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const frameHeight = animated && info.pageHeight !== undefined ? info.pageHeight : info.height;
  return {
    pixels: { data, width: info.width, height: info.height, channels: info.channels },
    width: info.width,
    height: frameHeight,
  };
}

function open(input: Buffer, request: DecodeRequest): Sharp {
  return sharp(input, {
    // Strict: truncated or corrupt data is an error, never a grey or garbage half image.
    failOn: 'warning',
    limitInputPixels: request.maxInputPixels,
    animated: request.animated,
    ...(request.density !== undefined ? { density: request.density } : {}),
  }).autoOrient();
}

/** True when a crop is decoded in two steps (a JPEG or SVG shrunk at least 3 times). */
export function decodesInTwoSteps(
  request: Pick<DecodeRequest, 'plan' | 'region' | 'source' | 'animated'>,
): boolean {
  const { region, source, plan } = request;
  if (region === undefined || source === undefined || request.animated) return false;
  if (source.format === 'svg') return true;
  const scale = planScale(region, plan);
  return source.format === 'jpeg' && 1 / Math.max(scale.x, scale.y) >= SHRINK_ON_LOAD_FROM;
}

/**
 * The two-step crop: the whole original resized to the crop's scale (so sharp may shrink on
 * load, or render an SVG at that size), then the region of it, then the plan's resize.
 */
async function decodeCropAtScale(
  input: Buffer,
  request: DecodeRequest,
  region: Region,
  source: Size,
): Promise<Decoded> {
  const { plan } = request;
  const scale = planScale(region, plan);
  const full = wholeAtCropScale(source, region, plan);
  let width = Math.min(full.width, Math.max(1, Math.round(region.width * scale.x)));
  let height = Math.min(full.height, Math.max(1, Math.round(region.height * scale.y)));
  if (plan?.fit === 'cover') {
    // The scaled region must still cover the box (rounding could leave it a pixel short).
    width = Math.min(full.width, Math.max(width, plan.width));
    height = Math.min(full.height, Math.max(height, plan.height));
  }
  const whole = await open(input, request)
    .resize({ width: full.width, height: full.height, fit: 'fill' })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const { info } = whole;
  const channels = info.channels;
  let image = sharp(whole.data, { raw: { width: info.width, height: info.height, channels } }).extract({
    left: Math.max(0, Math.min(Math.round(region.left * scale.x), info.width - width)),
    top: Math.max(0, Math.min(Math.round(region.top * scale.y), info.height - height)),
    width,
    height,
  });
  if (plan !== undefined) image = resize(image, plan, request.format);
  return toDecoded(image, false);
}

/** Throws whatever sharp throws; the caller classifies it. */
export async function decode(input: Buffer, request: DecodeRequest): Promise<Decoded> {
  const { region, plan, source } = request;
  if (region !== undefined && source !== undefined && decodesInTwoSteps(request))
    return decodeCropAtScale(input, request, region, source);
  let image = open(input, request);
  if (region !== undefined) image = image.extract(region);
  if (plan !== undefined) image = resize(image, plan, request.format);
  return toDecoded(image, request.animated);
}
