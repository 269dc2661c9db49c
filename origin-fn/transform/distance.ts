/**
 * The in-process perceptual metric of the quality search: how far an encoded candidate looks
 * from the resized, not-yet-encoded pixels, in the units of butteraugli's 3-norm (0 = identical;
 * about 1 is the edge of "visibly different"). Pure TypeScript on raw 8-bit buffers.
 *
 * Modelled on what butteraugli does, cheaply (docs/quality.md has the calibration):
 *  - **masking**: an error hides in texture. Each luma error (less a dead zone of half a level)
 *    is divided by the reference's local fine-detail energy (|luma − its 3×3 binomial blur|,
 *    box-blurred, σ ≈ 1.4 px) plus a floor, to the power 0.7. Film grain and foliage tolerate
 *    coarse quantisation; a smooth wall or sky does not. SSIM, the metric this one replaced, had
 *    it the other way round on the corpus photos: it paid for grain nobody sees and missed
 *    banding on smooth, low-contrast scenes.
 *  - **low-frequency error**: the luma error blurred (σ ≈ 2.8 px) and not masked, so a shift of
 *    tone over an area (banding, blotches) counts wherever it happens.
 *  - **colour**: the Cb/Cr error at half size, blurred (σ ≈ 2.8 px) and lightly masked, for the
 *    chroma smearing of 4:2:0 encoders that a luma-only metric misses.
 * Per pixel the three add in quadrature. The map is pooled like the butteraugli figure it is
 * calibrated on (libjxl `ComputeDistanceP` at p = 3): the mean of its 3-, 6- and 12-norms (the
 * last two on the map smoothed to butteraugli's scale, see `pool`), so one small damaged area
 * counts about as much as butteraugli says it does instead of being diluted by the clean rest.
 *
 * **Documents** (text-map.ts): in an image with at least `DOCUMENT_SHARE` of text-like blocks,
 * the masked luma error of those blocks weighs `TEXT_WEIGHT` more (distance-reference.ts).
 *
 * Transparent pixels are composited onto mid-grey on both sides (a pixel nobody sees cannot
 * look different).
 *
 * The reference's side (planes, masks, seams) is prepared once per image and size
 * (distance-reference.ts, `comparatorFor`); per candidate, one full-size pass computes the luma
 * error, one half-size pass its low frequencies and the colour error, the three half-size planes
 * are blurred together, and the pooling pass builds the map.
 *
 * The constants are fitted to butteraugli on the corpus photos' quality ladders; how closely the
 * distance follows it (per set and format, and on localized damage) is measured by
 * `npm run eval:quality` in docs/quality.md.
 */

import { blur, blur3, halfMeans, halfSize } from './blur.ts';
import {
  CHROMA_RADIUS,
  type ComparatorOptions,
  DEAD_ZONE,
  LOW_FREQUENCY_RADIUS,
  opaque,
  PEAK_RADIUS,
  type PixelView,
  prepareReference,
  type Reference,
} from './distance-reference.ts';

export {
  type ComparatorOptions,
  type PixelView,
  prepareReference,
  type Reference,
  SEAM_MARGIN,
} from './distance-reference.ts';

/**
 * Puts the pooled map in butteraugli 3-norm units: the median of butteraugli ÷ the unscaled
 * distance over the corpus ladders where butteraugli is 0.8–1.4 (docs/quality.md, "Calibration").
 */
export const DISTANCE_SCALE = 0.77;

/** The p-norms of the per-pixel distance map (in butteraugli units, like the distance). */
export interface Norms {
  p3: number;
  p6: number;
  p12: number;
}

export interface Comparator {
  /** The reference's mean absolute luma gradient (detail), used for the search's first guess. */
  readonly activity: number;
  /** Share of the reference's blocks that are text-like (text-map.ts; documents weigh their text). */
  readonly textShare: number;
  /** Perceptual distance of a candidate of the reference's size (≥ 0; 0 = identical; ≈ butteraugli 3-norm). */
  distance(candidate: PixelView): number;
  /** The 3-, 6- and 12-norms whose mean is `distance` (evaluation: how the map is pooled). */
  norms(candidate: PixelView): Norms;
}

/** Per-candidate scratch planes of one comparator. */
interface Scratch {
  /** Full size: the candidate's luma error, less the dead zone. */
  lumaError: Float32Array;
  /** Half size: the low-frequency luma error, then the terms the pooling adds per cell. */
  halfError: Float32Array;
  /** Half size: the Cb/Cr errors (colour references only). */
  cb: Float32Array;
  cr: Float32Array;
  halfScratch: Float32Array;
  /** Half size: the map the 6- and 12-norms see. */
  halfPeaks: Float32Array;
  /** Three half-size scratch planes and their column sums (colour references only). */
  halfScratch3: [Float32Array, Float32Array, Float32Array];
  sums: Float64Array;
  sums3: Float64Array;
  /** RGB of a transparent candidate composited onto grey (allocated on first use). */
  flat: Float32Array | undefined;
}

/**
 * A comparator against a reference (pixels, prepared once here, or an already prepared
 * `Reference`). `distance` throws a RangeError when a candidate's size differs from the
 * reference's. Comparisons are synchronous, so one comparator may serve concurrent searches.
 */
export function createComparator(
  reference: PixelView | Reference,
  options: ComparatorOptions = {},
): Comparator {
  const ref = 'lumaNorm' in reference ? reference : prepareReference(reference, options);
  const { width, height } = ref;
  const half = halfSize(width) * halfSize(height);
  const colour = ref.chromaNorm !== undefined;
  const scratch: Scratch = {
    lumaError: new Float32Array(width * height),
    halfError: new Float32Array(half),
    cb: new Float32Array(colour ? half : 0),
    cr: new Float32Array(colour ? half : 0),
    halfScratch: new Float32Array(half),
    halfPeaks: new Float32Array(half),
    halfScratch3: [0, 1, 2].map(() => new Float32Array(colour ? half : 0)) as [
      Float32Array,
      Float32Array,
      Float32Array,
    ],
    sums: new Float64Array(width),
    sums3: new Float64Array(colour ? 3 * width : 0),
    flat: undefined,
  };
  const norms = (candidate: PixelView): Norms => {
    if (width !== candidate.width || height !== candidate.height) {
      throw new RangeError(
        `Cannot compare a ${candidate.width}×${candidate.height} candidate with a ` +
          `${width}×${height} reference`,
      );
    }
    errorPlanes(candidate, ref, scratch);
    const { p3, p6, p12 } = pool(ref, scratch);
    return { p3: DISTANCE_SCALE * p3, p6: DISTANCE_SCALE * p6, p12: DISTANCE_SCALE * p12 };
  };
  return {
    activity: ref.activity,
    textShare: ref.textShare,
    norms,
    distance(candidate) {
      const { p3, p6, p12 } = norms(candidate);
      return (p3 + p6 + p12) / 3;
    },
  };
}

const comparators = new WeakMap<Uint8Array, Map<string, Comparator>>();

/**
 * The comparator of these pixels, built once per pixel buffer and options and kept for as long
 * as the buffer lives: every format searched at one size shares its reference's preparation.
 * The pixels must not change afterwards.
 */
export function comparatorFor(reference: PixelView, options: ComparatorOptions = {}): Comparator {
  const key = `${reference.width}×${reference.height}×${reference.channels}/${options.tile ?? 0}/${options.seamMargin ?? ''}/${options.textWeight ?? ''}`;
  let byKey = comparators.get(reference.data);
  if (byKey === undefined) {
    byKey = new Map();
    comparators.set(reference.data, byKey);
  }
  let comparator = byKey.get(key);
  if (comparator === undefined) {
    comparator = createComparator(reference, options);
    byKey.set(key, comparator);
  }
  return comparator;
}

/**
 * The candidate's error planes: the full-size luma error less the dead zone (`lumaError`), its
 * low frequencies at half size (`halfError`, blurred) and the colour error at half size (`cb`,
 * `cr`, blurred); then `halfError` becomes the per-cell terms the pooling adds (the squared
 * low-frequency error and the masked colour error). The same arithmetic, in the same order and
 * float32 roundings, as reading the candidate's planes and differencing them pass by pass.
 */
function errorPlanes(candidate: PixelView, ref: Reference, s: Scratch): void {
  const { width, height, planes, chromaNorm, lowFrequencyNorm } = ref;
  if (s.flat === undefined && (candidate.channels === 2 || candidate.channels === 4)) {
    s.flat = new Float32Array(width * height * 3);
  }
  const { rgb, stride } = opaque(candidate, s.flat);
  lumaError(rgb, stride, planes.y, s.lumaError);
  const cw = halfSize(width);
  const ch = halfSize(height);
  if (chromaNorm !== undefined && planes.cb !== undefined && planes.cr !== undefined) {
    halfErrors(rgb, stride, width, height, s.lumaError, planes.cb, planes.cr, s);
    // Low frequencies and the colour error: three box passes of radius 1 at half size (σ ≈ 2.8 px).
    if (LOW_FREQUENCY_RADIUS === CHROMA_RADIUS) {
      blur3([s.halfError, s.cb, s.cr], s.halfScratch3, cw, ch, CHROMA_RADIUS, s.sums3);
    } else {
      blur(s.halfError, s.halfScratch, cw, ch, LOW_FREQUENCY_RADIUS, s.sums);
      blur(s.cb, s.halfScratch, cw, ch, CHROMA_RADIUS, s.sums);
      blur(s.cr, s.halfScratch, cw, ch, CHROMA_RADIUS, s.sums);
    }
    const { halfError, cb, cr } = s;
    for (let c = 0; c < cw * ch; c++) {
      const lf = halfError[c] ?? 0;
      const b = cb[c] ?? 0;
      const r = cr[c] ?? 0;
      halfError[c] = Math.fround(lowFrequencyNorm * lf * lf) + (b * b + r * r) * (chromaNorm[c] ?? 0);
    }
  } else {
    halfMeans(s.lumaError, width, height, s.halfError);
    blur(s.halfError, s.halfScratch, cw, ch, LOW_FREQUENCY_RADIUS, s.sums);
    const { halfError } = s;
    for (let c = 0; c < cw * ch; c++) {
      const lf = halfError[c] ?? 0;
      halfError[c] = lowFrequencyNorm * lf * lf;
    }
  }
}

/** Luma (as the planes store it: float32) less the reference's, shrunk towards 0 by the dead zone. */
export function lumaError(
  rgb: ArrayLike<number>,
  stride: number,
  refY: Float32Array,
  out: Float32Array,
): void {
  const n = out.length;
  if (stride === 1) {
    for (let i = 0; i < n; i++) {
      const e = (rgb[i] ?? 0) - (refY[i] ?? 0);
      out[i] = e - 0.5 * (Math.abs(e + DEAD_ZONE) - Math.abs(e - DEAD_ZONE));
    }
    return;
  }
  for (let i = 0, p = 0; i < n; i++, p += stride) {
    const y = Math.fround(0.299 * (rgb[p] ?? 0) + 0.587 * (rgb[p + 1] ?? 0) + 0.114 * (rgb[p + 2] ?? 0));
    const e = y - (refY[i] ?? 0);
    out[i] = e - 0.5 * (Math.abs(e + DEAD_ZONE) - Math.abs(e - DEAD_ZONE));
  }
}

/**
 * One half-size pass for a colour candidate: the 2×2 means of the luma error into `halfError`,
 * and Cb/Cr of the 2×2 mean colour less the reference's into `cb`/`cr` (odd last rows and
 * columns left out, a 1-pixel side doubled, as `halfMeans` does).
 */
function halfErrors(
  rgb: ArrayLike<number>,
  stride: number,
  width: number,
  height: number,
  lumaError: Float32Array,
  refCb: Float32Array,
  refCr: Float32Array,
  s: Scratch,
): void {
  const { halfError, cb, cr } = s;
  const cw = halfSize(width);
  const ch = halfSize(height);
  const down = height > 1 ? width : 0;
  const right = width > 1 ? 1 : 0;
  const g1 = stride === 1 ? 0 : 1;
  const b2 = stride === 1 ? 0 : 2;
  const pr = right * stride;
  const pd = down * stride;
  for (let crow = 0; crow < ch; crow++) {
    const r0 = 2 * crow * width;
    for (let ccol = 0, c = crow * cw; ccol < cw; ccol++, c++) {
      const i = r0 + 2 * ccol;
      halfError[c] =
        ((lumaError[i] ?? 0) +
          (lumaError[i + right] ?? 0) +
          (lumaError[i + down] ?? 0) +
          (lumaError[i + down + right] ?? 0)) /
        4;
      const p = i * stride;
      const r = ((rgb[p] ?? 0) + (rgb[p + pr] ?? 0) + (rgb[p + pd] ?? 0) + (rgb[p + pd + pr] ?? 0)) / 4;
      const q = p + g1;
      const g = ((rgb[q] ?? 0) + (rgb[q + pr] ?? 0) + (rgb[q + pd] ?? 0) + (rgb[q + pd + pr] ?? 0)) / 4;
      const t = p + b2;
      const b = ((rgb[t] ?? 0) + (rgb[t + pr] ?? 0) + (rgb[t + pd] ?? 0) + (rgb[t + pd + pr] ?? 0)) / 4;
      cb[c] = Math.fround(-0.168736 * r - 0.331264 * g + 0.5 * b) - (refCb[c] ?? 0);
      cr[c] = Math.fround(0.5 * r - 0.418688 * g - 0.081312 * b) - (refCr[c] ?? 0);
    }
  }
}

/**
 * Butteraugli's pooling (libjxl `ComputeDistanceP` at p = 3: the mean of the 3-, 6- and 12-norms)
 * of d = √(masked luma error² + the half-size terms of its cell) over the kept pixels, unscaled.
 * The 3-norm is taken per pixel; the 6- and 12-norms, which follow the worst places, on d
 * averaged at half size and blurred to about butteraugli's own smoothness (σ ≈ 5 px): per
 * pixel, one-pixel spikes along edges (JPEG ringing on a flat graphic) read as damage that
 * butteraugli does not see. Pixels left out count as 0 in the half-size map. The luma error's
 * plane is reused for d.
 */
function pool(ref: Reference, s: Scratch): Norms {
  const { width, height, lumaNorm, keepRow, keepCol, keepAll } = ref;
  const { lumaError, halfError: halfTerms, halfPeaks: half, halfScratch, sums } = s;
  const plane = lumaError;
  const cw = halfSize(width);
  const ch = halfSize(height);
  let sum3 = 0;
  let counted = 0;
  for (let row = 0; row < height; row++) {
    const crow = Math.min(ch - 1, row >> 1) * cw;
    const o = row * width;
    for (let col = 0; col < width; col++) {
      if (!keepAll && (keepRow[row] === 0 || keepCol[col] === 0)) {
        plane[o + col] = 0;
        continue;
      }
      const e = (lumaError[o + col] ?? 0) * (lumaNorm[o + col] ?? 0);
      const d2 = e * e + (halfTerms[crow + (col >> 1 < cw ? col >> 1 : cw - 1)] ?? 0);
      const d = Math.sqrt(d2);
      plane[o + col] = d;
      sum3 += d2 * d;
      counted++;
    }
  }
  if (counted === 0) return { p3: 0, p6: 0, p12: 0 };
  return peakNorms(plane, width, height, keepRow, keepCol, half, halfScratch, sums, sum3 / counted);
}

/**
 * The 6- and 12-norms of the per-pixel map `plane` (its kept pixels) averaged at half size and
 * blurred, with the 3-norm from its mean cube `mean3`: the last step of `pool`, shared with the
 * pass-per-step test oracle. `half`, `halfScratch` and `sums` are scratch.
 */
export function peakNorms(
  plane: Float32Array,
  width: number,
  height: number,
  keepRow: Uint8Array,
  keepCol: Uint8Array,
  half: Float32Array,
  halfScratch: Float32Array,
  sums: Float64Array,
  mean3: number,
): Norms {
  const cw = halfSize(width);
  const ch = halfSize(height);
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
    p3: mean3 ** (1 / 3),
    p6: (sum6 / Math.max(1, cells)) ** (1 / 6),
    p12: (sum12 / Math.max(1, cells)) ** (1 / 12),
  };
}

/** One-off comparison (tests, eval): `createComparator(reference).distance(candidate)`. */
export function perceptualDistance(reference: PixelView, candidate: PixelView): number {
  return createComparator(reference).distance(candidate);
}
