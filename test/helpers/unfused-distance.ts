/**
 * The perceptual distance computed the plain way, one pass per step (the candidate's planes
 * read, then differenced, then averaged, then blurred, then combined, then pooled), as
 * origin-fn/transform/distance.ts did before its passes were fused. The oracle the fused
 * computation is tested against (test/origin/quality-metric-fused.test.ts) and the baseline of
 * `npx tsx bench/metric.ts`.
 */
import { blur, halfMeans, halfSize } from '../../origin-fn/transform/blur.ts';
import { DISTANCE_SCALE, type Norms, peakNorms } from '../../origin-fn/transform/distance.ts';
import {
  allocPlanes,
  CHROMA_RADIUS,
  DEAD_ZONE,
  LOW_FREQUENCY_RADIUS,
  type PixelView,
  type Reference,
  readPlanes,
} from '../../origin-fn/transform/distance-reference.ts';

/** distance(candidate) against a prepared reference, with its own scratch planes. */
export function unfusedComparator(ref: Reference): (candidate: PixelView) => number {
  const { width, height, planes, lumaNorm, chromaNorm, lowFrequencyNorm, keepRow, keepCol } = ref;
  const n = width * height;
  const cw = halfSize(width);
  const ch = halfSize(height);
  const cand = allocPlanes({ data: new Uint8Array(0), width, height, channels: planes.cb ? 3 : 1 });
  const lumaError = new Float32Array(n);
  const halfError = new Float32Array(cw * ch);
  const halfScratch = new Float32Array(cw * ch);
  const sums = new Float64Array(width);
  const halfPeaks = new Float32Array(cw * ch);
  const cellOfColumn = new Int32Array(width);
  for (let col = 0; col < width; col++) cellOfColumn[col] = Math.min(cw - 1, col >> 1);
  return (candidate) => {
    readPlanes(candidate, cand);
    for (let i = 0; i < n; i++) {
      const e = (cand.y[i] ?? 0) - (planes.y[i] ?? 0);
      lumaError[i] = e - Math.max(-DEAD_ZONE, Math.min(DEAD_ZONE, e));
    }
    halfMeans(lumaError, width, height, halfError);
    blur(halfError, halfScratch, cw, ch, LOW_FREQUENCY_RADIUS, sums);
    for (let c = 0; c < cw * ch; c++) {
      const lf = halfError[c] ?? 0;
      halfError[c] = lowFrequencyNorm * lf * lf;
    }
    if (chromaNorm !== undefined && cand.cb && cand.cr && planes.cb && planes.cr) {
      const { cb, cr } = cand;
      for (let c = 0; c < cw * ch; c++) {
        cb[c] = (cb[c] ?? 0) - (planes.cb[c] ?? 0);
        cr[c] = (cr[c] ?? 0) - (planes.cr[c] ?? 0);
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
    return (DISTANCE_SCALE * (p3 + p6 + p12)) / 3;
  };
}

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
  return peakNorms(plane, width, height, keepRow, keepCol, half, halfScratch, sums, sum3 / counted);
}
