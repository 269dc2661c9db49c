/**
 * The in-process perceptual metric of the quality search: how close an encoded candidate looks
 * to the resized, not-yet-encoded pixels. Pure TypeScript on raw 8-bit buffers (no native code,
 * no allocation proportional to anything but the image).
 *
 * Score = SSIM (8×8 windows, stride 4) pooled with a 3-norm of the dissimilarity, so that a few
 * damaged areas (a blocky sky, a smeared edge) count far more than in a plain mean, the way
 * butteraugli's 3-norm does:
 *
 *     score = 1 − ( mean over windows of (1 − ssim)³ )^(1/3)
 *
 * computed on luma at the output size, and on the two chroma planes (BT.601 Cb/Cr) at half
 * size; the luma score weighs 0.8 and the lower chroma score 0.2 (chroma smearing, the typical
 * WebP/AVIF 4:2:0 artefact, is invisible to a luma-only metric). 1 = identical. Calibrated
 * against butteraugli and SSIMULACRA on the corpus: see docs/quality.md.
 *
 * Transparent pixels are composited onto mid-grey on both sides (a pixel nobody sees cannot
 * look different).
 */

/** 8-bit interleaved pixels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
export interface PixelView {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

interface Plane {
  data: Float32Array;
  width: number;
  height: number;
}

const LUMA_WEIGHT = 0.8;
/** Window 8×8 with stride 4: each window is 2×2 blocks of 4×4 pixels. */
const BLOCK = 4;
const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;
const POOL_P = 3;

/** Luma and chroma planes; chroma averaged over 2×2 pixels. */
function planes(view: PixelView): { y: Plane; cb: Plane; cr: Plane } | { y: Plane } {
  const { data, width, height, channels } = view;
  const n = width * height;
  const y = new Float32Array(n);
  const colour = channels >= 3;
  const hasAlpha = channels === 2 || channels === 4;
  const cw = Math.max(1, width >> 1);
  const ch = Math.max(1, height >> 1);
  const cb = colour ? new Float32Array(cw * ch) : undefined;
  const cr = colour ? new Float32Array(cw * ch) : undefined;
  for (let row = 0; row < height; row++) {
    const crow = Math.min(ch - 1, row >> 1);
    for (let col = 0; col < width; col++) {
      const i = row * width + col;
      const p = i * channels;
      let r: number;
      let g: number;
      let b: number;
      if (colour) {
        r = data[p] ?? 0;
        g = data[p + 1] ?? 0;
        b = data[p + 2] ?? 0;
      } else {
        r = data[p] ?? 0;
        g = r;
        b = r;
      }
      if (hasAlpha) {
        const a = (data[p + channels - 1] ?? 255) / 255;
        r = r * a + 128 * (1 - a);
        g = g * a + 128 * (1 - a);
        b = b * a + 128 * (1 - a);
      }
      y[i] = 0.299 * r + 0.587 * g + 0.114 * b;
      if (cb !== undefined && cr !== undefined) {
        const c = crow * cw + Math.min(cw - 1, col >> 1);
        cb[c] = (cb[c] ?? 0) + 0.25 * (-0.168736 * r - 0.331264 * g + 0.5 * b);
        cr[c] = (cr[c] ?? 0) + 0.25 * (0.5 * r - 0.418688 * g - 0.081312 * b);
      }
    }
  }
  const yPlane = { data: y, width, height };
  if (cb === undefined || cr === undefined) return { y: yPlane };
  return { y: yPlane, cb: { data: cb, width: cw, height: ch }, cr: { data: cr, width: cw, height: ch } };
}

/**
 * SSIM of two planes of the same size over 8×8 windows at stride 4, pooled as
 * 1 − (mean (1 − ssim)^3)^(1/3). Sums are gathered per 4×4 block, then each window adds 2×2
 * blocks. Planes smaller than one window are compared as one window.
 */
function pooledSsim(a: Plane, b: Plane, tile = 0, margin = 0): number {
  const { width, height } = a;
  const nearSeam = (block: number) => {
    if (tile <= 0) return false;
    const r = (block * BLOCK) % tile;
    return r < margin || r + 2 * BLOCK > tile - margin;
  };
  const bw = Math.max(1, Math.floor(width / BLOCK));
  const bh = Math.max(1, Math.floor(height / BLOCK));
  const size = Math.min(BLOCK, width);
  const sizeY = Math.min(BLOCK, height);
  const sums = new Float64Array(bw * bh * 5);
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let y = by * BLOCK; y < by * BLOCK + sizeY; y++) {
        let i = y * width + bx * BLOCK;
        for (let x = 0; x < size; x++, i++) {
          const va = a.data[i] ?? 0;
          const vb = b.data[i] ?? 0;
          sa += va;
          sb += vb;
          saa += va * va;
          sbb += vb * vb;
          sab += va * vb;
        }
      }
      const o = (by * bw + bx) * 5;
      sums[o] = sa;
      sums[o + 1] = sb;
      sums[o + 2] = saa;
      sums[o + 3] = sbb;
      sums[o + 4] = sab;
    }
  }
  const span = bw > 1 && bh > 1 ? 2 : 1;
  let pooled = 0;
  let windows = 0;
  for (let by = 0; by + span <= bh; by++) {
    if (nearSeam(by)) continue;
    for (let bx = 0; bx + span <= bw; bx++) {
      if (nearSeam(bx)) continue;
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let dy = 0; dy < span; dy++) {
        for (let dx = 0; dx < span; dx++) {
          const o = ((by + dy) * bw + bx + dx) * 5;
          sa += sums[o] ?? 0;
          sb += sums[o + 1] ?? 0;
          saa += sums[o + 2] ?? 0;
          sbb += sums[o + 3] ?? 0;
          sab += sums[o + 4] ?? 0;
        }
      }
      const n = span * span * size * sizeY;
      const ma = sa / n;
      const mb = sb / n;
      const varA = saa / n - ma * ma;
      const varB = sbb / n - mb * mb;
      const cov = sab / n - ma * mb;
      const s = ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (varA + varB + C2));
      pooled += Math.max(0, 1 - s) ** POOL_P;
      windows++;
    }
  }
  return windows === 0 ? 1 : 1 - (pooled / windows) ** (1 / POOL_P);
}

/** Mean absolute luma gradient (0–255): ~1 for flat graphics, 10–25 for detailed photos. */
function activity(y: Plane): number {
  const { data, width, height } = y;
  let sum = 0;
  let count = 0;
  for (let row = 1; row < height; row++) {
    for (let col = 1; col < width; col++) {
      const i = row * width + col;
      const v = data[i] ?? 0;
      sum += Math.abs(v - (data[i - 1] ?? 0)) + Math.abs(v - (data[i - width] ?? 0));
      count += 2;
    }
  }
  return count === 0 ? 0 : sum / count;
}

/** Pixels either side of a tile seam whose windows a tile-sample comparison leaves out. */
export const SEAM_MARGIN = 8;

export interface ComparatorOptions {
  /**
   * The reference is a mosaic of `tile`×`tile` tiles (quality-search.ts `sampleTiles`): windows
   * within `seamMargin` pixels of a seam are left out, since what an encoder does across a seam
   * (WebP's loop filter smears one tile into the next) never happens in the whole image.
   */
  tile?: number;
  seamMargin?: number;
}

export interface Comparator {
  /** The reference's mean absolute luma gradient (detail), used for the search's first guess. */
  readonly activity: number;
  /** Similarity of a candidate of the reference's size, 0–1 (1 = identical). */
  score(candidate: PixelView): number;
}

/**
 * Prepares a reference once (its planes are reused for every candidate). `score` throws a
 * RangeError when a candidate's size differs from the reference's.
 */
export function createComparator(reference: PixelView, options: ComparatorOptions = {}): Comparator {
  const ref = planes(reference);
  const tile = options.tile ?? 0;
  const margin = options.seamMargin ?? SEAM_MARGIN;
  return {
    activity: activity(ref.y),
    score(candidate) {
      if (reference.width !== candidate.width || reference.height !== candidate.height) {
        throw new RangeError(
          `Cannot compare a ${candidate.width}×${candidate.height} candidate with a ` +
            `${reference.width}×${reference.height} reference`,
        );
      }
      const cand = planes(candidate);
      const luma = pooledSsim(ref.y, cand.y, tile, margin);
      if (!('cb' in ref) || !('cb' in cand)) return luma;
      const chroma = Math.min(
        pooledSsim(ref.cb, cand.cb, tile / 2, margin / 2),
        pooledSsim(ref.cr, cand.cr, tile / 2, margin / 2),
      );
      return LUMA_WEIGHT * luma + (1 - LUMA_WEIGHT) * chroma;
    },
  };
}

/** One-off comparison (tests, eval): `createComparator(reference).score(candidate)`. */
export function similarity(reference: PixelView, candidate: PixelView): number {
  return createComparator(reference).score(candidate);
}
