/**
 * The perceptual quality search behind `q=auto` and `q=lite`: the lowest encoder quality whose
 * decoded result stays within a perceptual-distance target of the resized, not-yet-encoded
 * pixels (distance.ts: butteraugli-like units, lower is closer).
 *
 * Bounded three ways: candidates lie in a per-format quality window; at most `maxEncodes`
 * encoder runs per variant (the first guess comes from the image's detail, then the bracket is
 * bisected); and a time budget, checked before every encode. When the budget runs out before
 * any candidate met the target, the format's safe default (a fixed quality) is encoded instead.
 *
 * Outputs of more than `SAMPLE_PIXELS` (1 MP) are searched on a sample: a mosaic of evenly
 * spread 128×128 tiles (aligned to the 8/16/64-pixel blocks of the JPEG, WebP and AVIF
 * encoders, so no tile straddles a block) of at most `SAMPLE_PIXELS`; the full image is then
 * encoded once at the chosen quality, so a 12 MP variant costs its one full-size encode plus a
 * search on 1 MP. Smaller outputs (a w=828 photo is 0.46 MP) are searched whole: on smaller
 * samples the tile edges bias the distances (WebP's filters smear across them).
 */
import { comparatorFor, type PixelView } from './distance.ts';

export interface QualityWindow {
  min: number;
  max: number;
}

export interface SearchRequest {
  /** The pixels candidates are compared with (full image or its tile sample). */
  reference: PixelView;
  /** Tile side when `reference` is a `sampleTiles` mosaic: pixels near its seams are not counted. */
  tile?: number;
  window: QualityWindow;
  /** The quality this profile typically lands on for this format (the first guess's base). */
  typical: number;
  /** Quality steps the first guess moves per unit of the image's detail (see `firstGuess`); 0 = none. */
  detailSlope?: number;
  /**
   * The first candidate, instead of the detail-based guess: what the search of another variant
   * of the same image chose (quality-hints.ts). Every candidate is still encoded, decoded and
   * measured against the target.
   */
  start?: number | undefined;
  /** Largest perceptual distance (distance.ts) a candidate may have. */
  target: number;
  /** Quality encoded when the search cannot finish (budget spent, nothing met the target). */
  fallback: number;
  /** Encoder runs the search may use (≥ 1); a final full-size encode, when needed, is one of them. */
  maxEncodes: number;
  /** True when `reference` is a sample: the chosen quality is then encoded once more in full. */
  finalEncode: boolean;
  /** The search stops starting encodes when `now()` reaches this. */
  deadline: number;
  now: () => number;
  /** Encodes the search's pixels at quality q. */
  encodeAt(quality: number): Promise<Buffer>;
  /** Decodes a candidate to raw pixels (same size as the reference). */
  decodeRaw(bytes: Buffer): Promise<PixelView>;
}

export interface SearchResult {
  quality: number;
  /** Distance of the chosen candidate (on the sample when sampled); undefined when not measured. */
  distance: number | undefined;
  /** The chosen candidate's bytes when it was encoded from the searched pixels. */
  bytes: Buffer | undefined;
  /** Encoder runs so far (the final full-size encode, when needed, is not done here). */
  encodes: number;
  /** True when the safe default was used: budget spent before any candidate met the target. */
  fallback: boolean;
}

/**
 * Distance shed per quality step near the targets (the corpus ladders' median is in
 * docs/quality.md, "Calibration"): sizes the first jump from the guess.
 * Later jumps use the slope between the last two candidates, overshooting by half so the target
 * is bracketed.
 */
export const SLOPE = 0.028;
const OVERSHOOT = 1.5;
/**
 * A passing candidate this close under the target (8 % of a distance of 1, about three quality
 * steps) is taken at once: fewer encodes for a few percent more bytes (docs/quality.md, "Time").
 */
const CLOSE_ENOUGH = 0.08;
const MIN_JUMP = 2;
const MAX_JUMP = 20;

interface Candidate {
  quality: number;
  distance: number;
  bytes: Buffer;
}

const clamp = (q: number, w: QualityWindow) => Math.min(w.max, Math.max(w.min, Math.round(q)));

/**
 * The first guess: the quality this profile typically lands on for the format, moved by the
 * image's detail (mean luma gradient; about 6 for a typical photo at display size) times a
 * per-format slope, at most 8 steps either way. Fitted on the corpus photos at display size
 * (bench/fit-first-guess.ts): JPEG needs more quality for detailed images (+0.4 a unit), WebP
 * less (−0.45: its artefacts show on smooth areas and hide in texture), AVIF a little more (+0.25).
 */
export function firstGuess(activity: number, typical: number, window: QualityWindow, slope = 0): number {
  return clamp(typical + Math.min(8, Math.max(-8, slope * (activity - 6))), window);
}

/**
 * The next candidate: a jump sized by the distance gap until the target is bracketed, then the
 * secant between the bracket's ends (kept strictly inside the bracket).
 */
function nextQuality(
  quality: number,
  distance: number,
  target: number,
  window: QualityWindow,
  failing: Candidate | undefined,
  passing: Candidate | undefined,
  previous: Candidate | undefined,
): number {
  if (failing === undefined || passing === undefined) {
    // Distance shed per quality step, as observed between the last two candidates.
    const observed =
      previous !== undefined ? (previous.distance - distance) / (quality - previous.quality) : 0;
    const gap = observed > 0 ? (OVERSHOOT * (distance - target)) / observed : (distance - target) / SLOPE;
    const jump = Math.sign(gap) * Math.min(MAX_JUMP, Math.max(MIN_JUMP, Math.ceil(Math.abs(gap))));
    return clamp(quality + jump, window);
  }
  const span = failing.distance - passing.distance;
  const t = span > 0 ? (failing.distance - target) / span : 0.5;
  const q = Math.ceil(failing.quality + t * (passing.quality - failing.quality));
  return Math.min(passing.quality - 1, Math.max(failing.quality + 1, q));
}

export async function searchQuality(request: SearchRequest): Promise<SearchResult> {
  const { window, target, maxEncodes, finalEncode, now, deadline } = request;
  const comparator = comparatorFor(
    request.reference,
    request.tile !== undefined ? { tile: request.tile } : {},
  );
  let encodes = 0;
  let failing: Candidate | undefined; // highest quality that missed the target
  let passing: Candidate | undefined; // lowest quality that met it
  let previous: Candidate | undefined; // the candidate before the last one
  let quality =
    request.start !== undefined
      ? clamp(request.start, window)
      : firstGuess(comparator.activity, request.typical, window, request.detailSlope);
  // Keep one encoder run for the final full-size encode, or (full-size search) for the safe
  // default while nothing has met the target yet.
  const reserve = () => (finalEncode || passing === undefined ? 1 : 0);

  while (encodes + reserve() < maxEncodes && now() < deadline) {
    const bytes = await request.encodeAt(quality);
    encodes++;
    const distance = comparator.distance(await request.decodeRaw(bytes));
    const candidate = { quality, distance, bytes };
    if (distance <= target) passing = candidate;
    else failing = candidate;
    const lo = failing?.quality ?? window.min - 1;
    const hi = passing?.quality ?? window.max + 1;
    if (hi - lo <= 1) break; // bracketed to one step: `passing` is the lowest that passes
    if (passing !== undefined && target - passing.distance <= CLOSE_ENOUGH) break;
    quality = nextQuality(quality, distance, target, window, failing, passing, previous);
    previous = candidate;
  }

  if (passing !== undefined) {
    return {
      quality: passing.quality,
      distance: passing.distance,
      bytes: passing.bytes,
      encodes,
      fallback: false,
    };
  }
  if (failing !== undefined && failing.quality >= window.max) {
    // Even the window's top misses the target (noise, film grain): that is the best on offer.
    return {
      quality: failing.quality,
      distance: failing.distance,
      bytes: failing.bytes,
      encodes,
      fallback: false,
    };
  }
  if (failing !== undefined && failing.quality >= request.fallback) {
    return {
      quality: failing.quality,
      distance: failing.distance,
      bytes: failing.bytes,
      encodes,
      fallback: true,
    };
  }
  if (finalEncode)
    return { quality: request.fallback, distance: undefined, bytes: undefined, encodes, fallback: true };
  const bytes = await request.encodeAt(request.fallback);
  encodes++;
  const distance = comparator.distance(await request.decodeRaw(bytes));
  return { quality: request.fallback, distance, bytes, encodes, fallback: true };
}

/** Tile side of the search sample: a multiple of every encoder's block size (8, 16, 64). */
export const SAMPLE_TILE = 128;
/** Outputs above this many pixels are searched on a tile sample of about this size. */
export const SAMPLE_PIXELS = 1_000_000;

const samples = new WeakMap<Uint8Array, PixelView | undefined>();

/**
 * A mosaic of evenly spread, block-aligned tiles of `pixels` (one frame), or undefined when the
 * image is small enough to search whole. Cut once per pixel buffer: every format searched at
 * one size gets the same sample, and so shares its prepared reference (distance.ts `comparatorFor`).
 */
export function sampleTiles(pixels: PixelView): PixelView | undefined {
  if (samples.has(pixels.data)) return samples.get(pixels.data);
  const sample = cutTiles(pixels);
  samples.set(pixels.data, sample);
  return sample;
}

function cutTiles(pixels: PixelView): PixelView | undefined {
  const { width, height, channels, data } = pixels;
  if (width * height <= SAMPLE_PIXELS) return undefined;
  const across = Math.floor(width / SAMPLE_TILE);
  const down = Math.floor(height / SAMPLE_TILE);
  const available = across * down;
  const wanted = Math.floor(SAMPLE_PIXELS / (SAMPLE_TILE * SAMPLE_TILE));
  if (available < 4) return undefined; // a thin strip: search it whole
  const count = Math.min(wanted, available);
  const cols = Math.max(1, Math.floor(Math.sqrt(count)));
  const rows = Math.max(1, Math.floor(count / cols));
  const tiles = cols * rows;
  const outWidth = cols * SAMPLE_TILE;
  const outHeight = rows * SAMPLE_TILE;
  const out = Buffer.alloc(outWidth * outHeight * channels);
  const rowBytes = SAMPLE_TILE * channels;
  for (let t = 0; t < tiles; t++) {
    // Stratified: tile t of the sample is tile floor((t + ½) × available / tiles) of the image.
    const index = Math.min(available - 1, Math.floor(((t + 0.5) * available) / tiles));
    const srcX = (index % across) * SAMPLE_TILE;
    const srcY = Math.floor(index / across) * SAMPLE_TILE;
    const dstX = (t % cols) * SAMPLE_TILE;
    const dstY = Math.floor(t / cols) * SAMPLE_TILE;
    for (let y = 0; y < SAMPLE_TILE; y++) {
      const from = ((srcY + y) * width + srcX) * channels;
      const to = ((dstY + y) * outWidth + dstX) * channels;
      out.set(data.subarray(from, from + rowBytes), to);
    }
  }
  return { data: out, width: outWidth, height: outHeight, channels };
}
