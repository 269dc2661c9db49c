/**
 * The byte side of a budget (`maxkb`, `kb<n>` in the key): the highest encoder quality, within
 * `[min, ceiling]`, whose bytes are at most `maxBytes`. Bytes fall roughly exponentially as the
 * quality drops, so each next candidate is read off a straight line through the logarithm of
 * the bytes: the secant between the closest candidate that fits and the closest that does not,
 * or, with one end only, a prior slope (`LOG_BYTES_PER_STEP`).
 *
 * Bounded: at most `maxEncodes` encoder runs (the caller passes `BUDGET_ENCODES`); while nothing
 * has fitted, the last run is kept for the window's lowest quality, so the search always ends
 * knowing whether this size can fit at all. Every candidate is a real encode: the one returned
 * is never over the budget, whatever the line predicted.
 */

/** Encoder runs one size's byte search may spend (the quality search's own runs not counted). */
export const BUDGET_ENCODES = 6;

/**
 * Prior slope of ln(bytes) per quality step, before two candidates give the real one: about
 * 3.5 % of the bytes per step, between what mozjpeg, libwebp and libaom show at 40–90.
 */
const LOG_BYTES_PER_STEP = 0.035;
/** How far under the budget (in ln bytes: 3 %) a one-sided guess aims. */
const AIM = 0.03;

export interface BytesCandidate {
  quality: number;
  bytes: Buffer;
}

export interface BytesSearchRequest {
  /** Lowest quality allowed (the format's quality window). */
  min: number;
  /** Highest quality wanted (the perceptual search's choice, or a fixed `q<n>`). */
  ceiling: number;
  maxBytes: number;
  /** Candidates already encoded at this size (any quality), e.g. the perceptual search's choice. */
  known?: BytesCandidate[];
  maxEncodes: number;
  encodeAt(quality: number): Promise<Buffer>;
}

export interface BytesSearchResult {
  /** The highest-quality candidate that fits, or undefined when even `min` is over. */
  best: BytesCandidate | undefined;
  /** The candidate at `min` when it was encoded (the ladder search sizes its next step with it). */
  atMin: BytesCandidate | undefined;
  /** Encoder runs spent here. */
  encodes: number;
}

const fitsIn = (c: BytesCandidate, maxBytes: number) => c.bytes.length <= maxBytes;

/** Slope of ln(bytes) per quality step between two candidates, or the prior when it is not positive. */
function slopeOf(a: BytesCandidate | undefined, b: BytesCandidate | undefined): number {
  if (a === undefined || b === undefined || a.quality === b.quality) return LOG_BYTES_PER_STEP;
  const slope = (Math.log(b.bytes.length) - Math.log(a.bytes.length)) / (b.quality - a.quality);
  return slope > 0 ? slope : LOG_BYTES_PER_STEP;
}

/**
 * The next quality to try, strictly between `lo` and `hi`: the secant between the two ends, or,
 * with one end only, a line (through the last two candidates on that side, else the prior slope)
 * aimed `AIM` under the budget when coming down, so that the next candidate likely brackets it.
 */
function nextQuality(
  fits: BytesCandidate | undefined,
  over: BytesCandidate | undefined,
  before: BytesCandidate | undefined,
  request: BytesSearchRequest,
  lo: number,
  hi: number,
): number {
  const target = Math.log(request.maxBytes);
  let q: number;
  if (fits !== undefined && over !== undefined) {
    const a = Math.log(fits.bytes.length);
    const b = Math.log(over.bytes.length);
    const t = b > a ? (target - a) / (b - a) : 0.5;
    q = Math.floor(fits.quality + t * (over.quality - fits.quality));
  } else if (over !== undefined) {
    const slope = slopeOf(over, before);
    q = Math.floor(over.quality - (Math.log(over.bytes.length) - target + AIM) / slope);
  } else if (fits !== undefined) {
    const slope = slopeOf(before, fits);
    q = Math.floor(fits.quality + (target - Math.log(fits.bytes.length)) / slope);
  } else {
    q = request.ceiling;
  }
  return Math.min(hi - 1, Math.max(lo + 1, q));
}

export async function searchBytes(request: BytesSearchRequest): Promise<BytesSearchResult> {
  const { min, ceiling, maxBytes, maxEncodes } = request;
  let fits: BytesCandidate | undefined; // highest quality that fits
  let over: BytesCandidate | undefined; // lowest quality over the budget
  let atMin: BytesCandidate | undefined;
  let before: BytesCandidate | undefined; // the end replaced by the last candidate on its side
  const note = (c: BytesCandidate) => {
    if (c.quality === min) atMin = c;
    const side = fitsIn(c, maxBytes) ? fits : over;
    if (side !== undefined) before = side;
    if (fitsIn(c, maxBytes)) {
      if (c.quality <= ceiling && (fits === undefined || c.quality > fits.quality)) fits = c;
    } else if (over === undefined || c.quality < over.quality) over = c;
  };
  for (const c of request.known ?? []) note(c);
  let encodes = 0;
  for (;;) {
    const lo = fits?.quality ?? min - 1;
    const hi = Math.min(over?.quality ?? ceiling + 1, ceiling + 1);
    if (hi - lo <= 1 || encodes >= maxEncodes) break;
    // While nothing fits, the last run goes to the window's floor: whether this size can fit.
    const quality =
      fits === undefined && encodes === maxEncodes - 1
        ? min
        : nextQuality(fits, over, before, request, lo, hi);
    note({ quality, bytes: await request.encodeAt(quality) });
    encodes++;
  }
  return { best: fits, atMin, encodes };
}
