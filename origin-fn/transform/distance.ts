/**
 * The in-process perceptual metric of the quality search: how far an encoded candidate looks
 * from the resized, not-yet-encoded pixels, in the units of butteraugli's 3-norm (0 = identical;
 * about 1 is the edge of "visibly different"). Pure TypeScript on raw 8-bit buffers; scratch
 * buffers are allocated once per reference and reused for every candidate.
 *
 * Modelled on what butteraugli does, cheaply (docs/quality.md has the calibration):
 *  - **masking**: an error hides in texture. Each luma error (less a dead zone of half a level)
 *    is divided by the reference's local fine-detail energy (|luma − its 3×3 binomial blur|, box-blurred, σ ≈ 1.4 px) plus a floor,
 *    to the power 0.7. Film grain and foliage tolerate coarse quantisation; a smooth wall or
 *    sky does not. SSIM, the metric this one replaced, had it the other way round on the corpus
 *    photos: it paid for grain nobody sees and missed banding on smooth, low-contrast scenes.
 *  - **low-frequency error**: the luma error blurred (σ ≈ 2.8 px) and not masked, so a shift of
 *    tone over an area (banding, blotches) counts wherever it happens.
 *  - **colour**: the Cb/Cr error at half size, blurred (σ ≈ 2.8 px) and lightly masked, for the
 *    chroma smearing of 4:2:0 encoders that a luma-only metric misses.
 * Per pixel the three add in quadrature. The map is pooled like the butteraugli figure it is
 * calibrated on (libjxl `ComputeDistanceP` at p = 3): the mean of its 3-, 6- and 12-norms (the
 * last two on the map smoothed to butteraugli's scale, see `pool`), so one small damaged area
 * counts about as much as butteraugli says it does instead of being diluted by the clean rest.
 *
 * Transparent pixels are composited onto mid-grey on both sides (a pixel nobody sees cannot
 * look different).
 *
 * The constants are fitted to butteraugli on the corpus photos' quality ladders; how closely the
 * distance follows it (per set and format, and on localized damage) is measured by
 * `npm run eval:quality` in docs/quality.md.
 */

import { blur, halfMeans, halfSize } from './blur.ts';

/** 8-bit interleaved pixels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
export interface PixelView {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** Floor of the masking term, in luma levels (0–255): how much a perfectly flat area masks. */
const MASK_FLOOR = 0.5;
/** Masking grows as a power of the detail energy (butteraugli's masking is similarly sub-linear). */
const MASK_POWER = 0.7;
/** Box radius of the detail-energy blur (three passes: σ ≈ 1.4 px). */
const MASK_RADIUS = 1;
/** Weight of the unmasked low-frequency luma error (blurred at half size: σ ≈ 2.8 px of the image). */
const LOW_FREQUENCY_WEIGHT = 2;
/** Weight, box radius at half size (σ ≈ 2.8 px of the image) and masking share of the colour error. */
const CHROMA_WEIGHT = 1;
const CHROMA_RADIUS = 1;
const CHROMA_MASKING = 0.5;
/**
 * Luma error (levels) ignored in every pixel: what an 8-bit round trip through YCbCr costs a flat
 * area. Without it, the ±1-level rounding of WebP's colour conversion on a flat graphic counted
 * like a visible defect.
 */
const DEAD_ZONE = 0.5;
/**
 * Puts the pooled map in butteraugli 3-norm units: the median of butteraugli ÷ the unscaled
 * distance over the corpus ladders where butteraugli is 0.8–1.4 (docs/quality.md, "Calibration").
 */
export const DISTANCE_SCALE = 0.77;

interface Planes {
  y: Float32Array;
  /** Half-size colour planes (each cell from the mean colour of 2×2 pixels); absent for grey images. */
  cb?: Float32Array | undefined;
  cr?: Float32Array | undefined;
}

/**
 * Reads luma (BT.601, 0–255) and half-size Cb/Cr (of the 2×2 mean colour: the transform is
 * linear) into the given planes. Transparent pixels are composited onto mid-grey first.
 */
function readPlanes(view: PixelView, out: Planes): void {
  const { data, width, height, channels } = view;
  const n = width * height;
  const hasAlpha = channels === 2 || channels === 4;
  const colour = channels >= 3;
  // Opaque RGB or grey: read in place. Otherwise composite onto mid-grey into a scratch copy.
  let rgb: ArrayLike<number> = data;
  let stride = channels;
  if (hasAlpha) {
    const flat = new Float32Array(n * 3);
    for (let i = 0, p = 0; i < n; i++, p += channels) {
      const a = (data[p + channels - 1] ?? 255) / 255;
      const r = data[p] ?? 0;
      const g = colour ? (data[p + 1] ?? 0) : r;
      const b = colour ? (data[p + 2] ?? 0) : r;
      flat[i * 3] = r * a + 128 * (1 - a);
      flat[i * 3 + 1] = g * a + 128 * (1 - a);
      flat[i * 3 + 2] = b * a + 128 * (1 - a);
    }
    rgb = flat;
    stride = 3;
  }
  const { y, cb, cr } = out;
  if (stride === 1) {
    for (let i = 0; i < n; i++) y[i] = rgb[i] ?? 0;
  } else {
    for (let i = 0, p = 0; i < n; i++, p += stride) {
      y[i] = 0.299 * (rgb[p] ?? 0) + 0.587 * (rgb[p + 1] ?? 0) + 0.114 * (rgb[p + 2] ?? 0);
    }
  }
  if (cb === undefined || cr === undefined) return;
  const cw = halfSize(width);
  const ch = halfSize(height);
  const g1 = stride === 1 ? 0 : 1;
  const b2 = stride === 1 ? 0 : 2;
  for (let crow = 0; crow < ch; crow++) {
    const r0 = Math.min(height - 1, 2 * crow) * width;
    const r1 = Math.min(height - 1, 2 * crow + 1) * width;
    for (let ccol = 0; ccol < cw; ccol++) {
      const p00 = (r0 + Math.min(width - 1, 2 * ccol)) * stride;
      const p01 = (r0 + Math.min(width - 1, 2 * ccol + 1)) * stride;
      const p10 = (r1 + Math.min(width - 1, 2 * ccol)) * stride;
      const p11 = (r1 + Math.min(width - 1, 2 * ccol + 1)) * stride;
      const r = ((rgb[p00] ?? 0) + (rgb[p01] ?? 0) + (rgb[p10] ?? 0) + (rgb[p11] ?? 0)) / 4;
      const g =
        ((rgb[p00 + g1] ?? 0) + (rgb[p01 + g1] ?? 0) + (rgb[p10 + g1] ?? 0) + (rgb[p11 + g1] ?? 0)) / 4;
      const b =
        ((rgb[p00 + b2] ?? 0) + (rgb[p01 + b2] ?? 0) + (rgb[p10 + b2] ?? 0) + (rgb[p11 + b2] ?? 0)) / 4;
      const c = crow * cw + ccol;
      cb[c] = -0.168736 * r - 0.331264 * g + 0.5 * b;
      cr[c] = 0.5 * r - 0.418688 * g - 0.081312 * b;
    }
  }
}

function allocPlanes(view: PixelView): Planes {
  const colour = view.channels >= 3;
  const half = halfSize(view.width) * halfSize(view.height);
  return {
    y: new Float32Array(view.width * view.height),
    cb: colour ? new Float32Array(half) : undefined,
    cr: colour ? new Float32Array(half) : undefined,
  };
}

/** Table step and range of `powerTable` (the detail energy rarely exceeds 30 levels). */
const TABLE_STEP = 1 / 32;
const TABLE_MAX = 64;

/**
 * x ↦ (MASK_FLOOR + scale × x)^exponent for x ≥ 0, by linear interpolation in a table (a
 * Math.pow per pixel cost more than the rest of the reference's preparation); exact beyond it.
 */
function powerTable(scale: number, exponent: number): (x: number) => number {
  const size = Math.round(TABLE_MAX / TABLE_STEP) + 1;
  const table = new Float64Array(size + 1);
  for (let i = 0; i <= size; i++) table[i] = (MASK_FLOOR + scale * i * TABLE_STEP) ** exponent;
  return (x) => {
    const t = x / TABLE_STEP;
    const i = Math.floor(t);
    if (i >= size) return (MASK_FLOOR + scale * x) ** exponent;
    const a = table[i] ?? 0;
    return a + ((table[i + 1] ?? 0) - a) * (t - i);
  };
}

/** |luma − its 3×3 binomial blur|: the fine detail that masks errors. */
function detail(y: Float32Array, width: number, height: number): Float32Array {
  const h = new Float32Array(y.length);
  const out = new Float32Array(y.length);
  for (let row = 0; row < height; row++) {
    const o = row * width;
    for (let col = 0; col < width; col++) {
      const l = y[o + Math.max(0, col - 1)] ?? 0;
      const r = y[o + Math.min(width - 1, col + 1)] ?? 0;
      h[o + col] = 0.25 * l + 0.5 * (y[o + col] ?? 0) + 0.25 * r;
    }
  }
  for (let row = 0; row < height; row++) {
    const up = Math.max(0, row - 1) * width;
    const down = Math.min(height - 1, row + 1) * width;
    const o = row * width;
    for (let col = 0; col < width; col++) {
      const smooth = 0.25 * (h[up + col] ?? 0) + 0.5 * (h[o + col] ?? 0) + 0.25 * (h[down + col] ?? 0);
      out[o + col] = Math.abs((y[o + col] ?? 0) - smooth);
    }
  }
  return out;
}

/** Mean absolute luma gradient (0–255): ~1 for flat graphics, 10–25 for detailed photos. */
function activity(y: Float32Array, width: number, height: number): number {
  let sum = 0;
  let count = 0;
  for (let row = 1; row < height; row++) {
    for (let col = 1; col < width; col++) {
      const i = row * width + col;
      const v = y[i] ?? 0;
      sum += Math.abs(v - (y[i - 1] ?? 0)) + Math.abs(v - (y[i - width] ?? 0));
      count += 2;
    }
  }
  return count === 0 ? 0 : sum / count;
}

/** The luma and colour normalisers, tabulated once per process (not per comparison). */
const lumaPower = powerTable(1, -MASK_POWER);
const chromaPower = powerTable(CHROMA_MASKING, -2 * MASK_POWER);

/** Pixels either side of a tile seam that a tile-sample comparison leaves out. */
export const SEAM_MARGIN = 8;

export interface ComparatorOptions {
  /**
   * The reference is a mosaic of `tile`×`tile` tiles (quality-search.ts `sampleTiles`): pixels
   * within `seamMargin` pixels of a seam are left out, since what an encoder does across a seam
   * (WebP's loop filter smears one tile into the next) never happens in the whole image.
   */
  tile?: number;
  seamMargin?: number;
}

/** The p-norms of the per-pixel distance map (in butteraugli units, like the distance). */
export interface Norms {
  p3: number;
  p6: number;
  p12: number;
}

export interface Comparator {
  /** The reference's mean absolute luma gradient (detail), used for the search's first guess. */
  readonly activity: number;
  /** Perceptual distance of a candidate of the reference's size (≥ 0; 0 = identical; ≈ butteraugli 3-norm). */
  distance(candidate: PixelView): number;
  /** The 3-, 6- and 12-norms whose mean is `distance` (evaluation: how the map is pooled). */
  norms(candidate: PixelView): Norms;
}

/**
 * Prepares a reference once (its planes and masks are reused for every candidate). `distance`
 * throws a RangeError when a candidate's size differs from the reference's.
 */
export function createComparator(reference: PixelView, options: ComparatorOptions = {}): Comparator {
  const { width, height } = reference;
  const n = width * height;
  const cw = halfSize(width);
  const ch = halfSize(height);
  const ref = allocPlanes(reference);
  readPlanes(reference, ref);
  const scratch = new Float32Array(n);
  const sums = new Float64Array(width);

  // Per-pixel luma normaliser 1 / (floor + detail)^power, and the squared one of the colour error.
  const mask = detail(ref.y, width, height);
  blur(mask, scratch, width, height, MASK_RADIUS, sums);
  const lumaNorm = new Float32Array(n);
  for (let i = 0; i < n; i++) lumaNorm[i] = lumaPower(mask[i] ?? 0);
  const colour = ref.cb !== undefined && ref.cr !== undefined;
  const chromaNorm = colour ? new Float32Array(cw * ch) : undefined;
  if (chromaNorm !== undefined) {
    halfMeans(mask, width, height, chromaNorm);
    for (let c = 0; c < cw * ch; c++) chromaNorm[c] = CHROMA_WEIGHT * chromaPower(chromaNorm[c] ?? 0);
  }
  const lowFrequencyNorm = LOW_FREQUENCY_WEIGHT * MASK_FLOOR ** (-2 * MASK_POWER);

  // Which columns/rows count (all, or all but the tile seams of a sample mosaic).
  const tile = options.tile ?? 0;
  const margin = options.seamMargin ?? SEAM_MARGIN;
  const counts = (size: number) => {
    const keep = new Uint8Array(size).fill(1);
    if (tile > 0) {
      for (let x = 0; x < size; x++) {
        const r = x % tile;
        if (r < margin || r >= tile - margin) keep[x] = 0;
      }
    }
    return keep;
  };
  const keepCol = counts(width);
  const keepRow = counts(height);

  const cand = allocPlanes(reference);
  const lumaError = new Float32Array(n);
  // Half-size planes: the low-frequency luma error, then the colour and low-frequency terms.
  const halfError = new Float32Array(cw * ch);
  const halfScratch = new Float32Array(cw * ch);
  const halfPeaks = new Float32Array(cw * ch);
  const cellOfColumn = new Int32Array(width);
  for (let col = 0; col < width; col++) cellOfColumn[col] = Math.min(cw - 1, col >> 1);

  const norms = (candidate: PixelView): Norms => {
    if (width !== candidate.width || height !== candidate.height) {
      throw new RangeError(
        `Cannot compare a ${candidate.width}×${candidate.height} candidate with a ` +
          `${width}×${height} reference`,
      );
    }
    // Planes follow the reference: a grey candidate of a colour reference reads as zero colour.
    readPlanes(candidate, cand);
    deadZoneDifference(cand.y, ref.y, lumaError);
    // Low frequencies at half size (2×2 means, three box passes of radius 1: σ ≈ 2.8 px).
    halfMeans(lumaError, width, height, halfError);
    blur(halfError, halfScratch, cw, ch, 1, sums);
    for (let c = 0; c < cw * ch; c++) {
      const lf = halfError[c] ?? 0;
      halfError[c] = lowFrequencyNorm * lf * lf;
    }
    if (chromaNorm !== undefined && cand.cb && cand.cr && ref.cb && ref.cr) {
      const { cb, cr } = cand;
      for (let c = 0; c < cw * ch; c++) {
        cb[c] = (cb[c] ?? 0) - (ref.cb[c] ?? 0);
        cr[c] = (cr[c] ?? 0) - (ref.cr[c] ?? 0);
      }
      blur(cb, halfScratch, cw, ch, CHROMA_RADIUS, sums);
      blur(cr, halfScratch, cw, ch, CHROMA_RADIUS, sums);
      for (let c = 0; c < cw * ch; c++) {
        const b = cb[c] ?? 0;
        const r = cr[c] ?? 0;
        halfError[c] = (halfError[c] ?? 0) + (b * b + r * r) * (chromaNorm[c] ?? 0);
      }
    }
    const { p3, p6, p12 } = pool(
      lumaError,
      lumaNorm,
      halfError,
      keepRow,
      keepCol,
      cellOfColumn,
      lumaError,
      halfPeaks,
      halfScratch,
      sums,
    );
    return { p3: DISTANCE_SCALE * p3, p6: DISTANCE_SCALE * p6, p12: DISTANCE_SCALE * p12 };
  };
  return {
    activity: activity(ref.y, width, height),
    norms,
    distance(candidate) {
      const { p3, p6, p12 } = norms(candidate);
      return (p3 + p6 + p12) / 3;
    },
  };
}

/** a − b per pixel, shrunk towards 0 by the dead zone. */
function deadZoneDifference(a: Float32Array, b: Float32Array, out: Float32Array): void {
  for (let i = 0; i < out.length; i++) {
    const e = (a[i] ?? 0) - (b[i] ?? 0);
    out[i] = e - Math.max(-DEAD_ZONE, Math.min(DEAD_ZONE, e)); // branch-free
  }
}

/** Box radius at half size of the map the 6- and 12-norms see (three passes: σ ≈ 5 px of the image). */
const PEAK_RADIUS = 2;

/**
 * Butteraugli's pooling (libjxl `ComputeDistanceP` at p = 3: the mean of the 3-, 6- and 12-norms)
 * of d = √(masked luma error² + the half-size terms of its cell) over the kept pixels, unscaled.
 * The 3-norm is taken per pixel; the 6- and 12-norms, which follow the worst places, on d
 * averaged at half size and blurred to about butteraugli's own smoothness (σ ≈ 5 px): per
 * pixel, one-pixel spikes along edges (JPEG ringing on a flat graphic) read as damage that
 * butteraugli does not see. Pixels left out count as 0 in the half-size map. `plane` (full
 * size; `lumaError` may be passed), `half`, `halfScratch` and `sums` are scratch.
 */
function pool(
  lumaError: Float32Array,
  lumaNorm: Float32Array,
  halfTerms: Float32Array,
  keepRow: Uint8Array,
  keepCol: Uint8Array,
  cellOfColumn: Int32Array,
  plane: Float32Array,
  half: Float32Array,
  halfScratch: Float32Array,
  sums: Float64Array,
): Norms {
  const width = keepCol.length;
  const height = keepRow.length;
  const cw = halfSize(width);
  const ch = halfSize(height);
  let sum3 = 0;
  let counted = 0;
  for (let row = 0; row < height; row++) {
    const crow = Math.min(ch - 1, row >> 1) * cw;
    const o = row * width;
    for (let col = 0; col < width; col++) {
      if (keepRow[row] === 0 || keepCol[col] === 0) {
        plane[o + col] = 0;
        continue;
      }
      const e = (lumaError[o + col] ?? 0) * (lumaNorm[o + col] ?? 0);
      const d2 = e * e + (halfTerms[crow + (cellOfColumn[col] ?? 0)] ?? 0);
      const d = Math.sqrt(d2);
      plane[o + col] = d;
      sum3 += d2 * d;
      counted++;
    }
  }
  if (counted === 0) return { p3: 0, p6: 0, p12: 0 };
  halfMeans(plane, width, height, half);
  blur(half, halfScratch, cw, ch, PEAK_RADIUS, sums);
  let sum6 = 0;
  let sum12 = 0;
  let cells = 0;
  for (let crow = 0; crow < ch; crow++) {
    if (keepRow[Math.min(height - 1, 2 * crow)] === 0) continue;
    for (let ccol = 0; ccol < cw; ccol++) {
      if (keepCol[Math.min(width - 1, 2 * ccol)] === 0) continue;
      const d = half[crow * cw + ccol] ?? 0;
      const d3 = d * d * d;
      const d6 = d3 * d3;
      sum6 += d6;
      sum12 += d6 * d6;
      cells++;
    }
  }
  return {
    p3: (sum3 / counted) ** (1 / 3),
    p6: (sum6 / Math.max(1, cells)) ** (1 / 6),
    p12: (sum12 / Math.max(1, cells)) ** (1 / 12),
  };
}

/** One-off comparison (tests, eval): `createComparator(reference).distance(candidate)`. */
export function perceptualDistance(reference: PixelView, candidate: PixelView): number {
  return createComparator(reference).distance(candidate);
}
