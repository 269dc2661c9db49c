/** Separable box blurs and 2×2 means on float planes (the perceptual distance's filters). */

export const halfSize = (n: number) => Math.max(1, n >> 1);

/** One box-blur pass of radius r along each row, edges replicated. */
function blurRows(src: Float32Array, dst: Float32Array, width: number, height: number, r: number): void {
  const norm = 1 / (2 * r + 1);
  const last = width - 1;
  for (let y = 0; y < height; y++) {
    const o = y * width;
    let sum = 0;
    for (let k = -r; k <= r; k++) sum += src[o + (k < 0 ? 0 : k > last ? last : k)] ?? 0;
    for (let x = 0; x < width; x++) {
      dst[o + x] = sum * norm;
      const add = x + r + 1;
      const sub = x - r;
      sum += (src[o + (add > last ? last : add)] ?? 0) - (src[o + (sub < 0 ? 0 : sub)] ?? 0);
    }
  }
}

/**
 * One box-blur pass of radius r down each column, edges replicated. Walks the plane row by row
 * with one running sum per column (`sums`, at least `width` long), which keeps memory access
 * sequential.
 */
function blurColumns(
  src: Float32Array,
  dst: Float32Array,
  width: number,
  height: number,
  r: number,
  sums: Float64Array,
): void {
  const norm = 1 / (2 * r + 1);
  const last = height - 1;
  sums.fill(0, 0, width);
  for (let k = -r; k <= r; k++) {
    const row = (k < 0 ? 0 : k > last ? last : k) * width;
    for (let x = 0; x < width; x++) sums[x] = (sums[x] ?? 0) + (src[row + x] ?? 0);
  }
  for (let y = 0; y < height; y++) {
    const o = y * width;
    const add = Math.min(last, y + r + 1) * width;
    const sub = Math.max(0, y - r) * width;
    for (let x = 0; x < width; x++) {
      const sum = sums[x] ?? 0;
      dst[o + x] = sum * norm;
      sums[x] = sum + (src[add + x] ?? 0) - (src[sub + x] ?? 0);
    }
  }
}

/** Three box-blur passes (≈ Gaussian, σ² = r(r + 1)) of `plane`, in place; `tmp` and `sums` are scratch. */
export function blur(
  plane: Float32Array,
  tmp: Float32Array,
  width: number,
  height: number,
  r: number,
  sums: Float64Array,
): void {
  for (let pass = 0; pass < 3; pass++) {
    blurRows(plane, tmp, width, height, r);
    blurColumns(tmp, plane, width, height, r, sums);
  }
}

/** 2×2 means of a full-size plane into a half-size one (odd last rows/columns clamped). */
export function halfMeans(src: Float32Array, width: number, height: number, dst: Float32Array): void {
  const cw = halfSize(width);
  const ch = halfSize(height);
  for (let crow = 0; crow < ch; crow++) {
    const r0 = Math.min(height - 1, 2 * crow) * width;
    const r1 = Math.min(height - 1, 2 * crow + 1) * width;
    for (let ccol = 0; ccol < cw; ccol++) {
      const c0 = Math.min(width - 1, 2 * ccol);
      const c1 = Math.min(width - 1, 2 * ccol + 1);
      dst[crow * cw + ccol] =
        ((src[r0 + c0] ?? 0) + (src[r0 + c1] ?? 0) + (src[r1 + c0] ?? 0) + (src[r1 + c1] ?? 0)) / 4;
    }
  }
}

/** `blurRows` of three planes at once (independent running sums, so the CPU overlaps them). */
function blurRows3(
  src: readonly [Float32Array, Float32Array, Float32Array],
  dst: readonly [Float32Array, Float32Array, Float32Array],
  width: number,
  height: number,
  r: number,
): void {
  const [a, b, c] = src;
  const [da, db, dc] = dst;
  const norm = 1 / (2 * r + 1);
  const last = width - 1;
  for (let y = 0; y < height; y++) {
    const o = y * width;
    let sa = 0;
    let sb = 0;
    let sc = 0;
    for (let k = -r; k <= r; k++) {
      const i = o + (k < 0 ? 0 : k > last ? last : k);
      sa += a[i] ?? 0;
      sb += b[i] ?? 0;
      sc += c[i] ?? 0;
    }
    for (let x = 0; x < width; x++) {
      da[o + x] = sa * norm;
      db[o + x] = sb * norm;
      dc[o + x] = sc * norm;
      const add = x + r + 1;
      const sub = x - r;
      const i = o + (add > last ? last : add);
      const j = o + (sub < 0 ? 0 : sub);
      sa += (a[i] ?? 0) - (a[j] ?? 0);
      sb += (b[i] ?? 0) - (b[j] ?? 0);
      sc += (c[i] ?? 0) - (c[j] ?? 0);
    }
  }
}

/** `blurColumns` of three planes at once (`sums` at least 3 × `width` long). */
function blurColumns3(
  src: readonly [Float32Array, Float32Array, Float32Array],
  dst: readonly [Float32Array, Float32Array, Float32Array],
  width: number,
  height: number,
  r: number,
  sums: Float64Array,
): void {
  const [a, b, c] = src;
  const [da, db, dc] = dst;
  const norm = 1 / (2 * r + 1);
  const last = height - 1;
  const w2 = 2 * width;
  sums.fill(0, 0, 3 * width);
  for (let k = -r; k <= r; k++) {
    const row = (k < 0 ? 0 : k > last ? last : k) * width;
    for (let x = 0; x < width; x++) {
      sums[x] = (sums[x] ?? 0) + (a[row + x] ?? 0);
      sums[width + x] = (sums[width + x] ?? 0) + (b[row + x] ?? 0);
      sums[w2 + x] = (sums[w2 + x] ?? 0) + (c[row + x] ?? 0);
    }
  }
  for (let y = 0; y < height; y++) {
    const o = y * width;
    const add = Math.min(last, y + r + 1) * width;
    const sub = Math.max(0, y - r) * width;
    for (let x = 0; x < width; x++) {
      const s0 = sums[x] ?? 0;
      const s1 = sums[width + x] ?? 0;
      const s2 = sums[w2 + x] ?? 0;
      da[o + x] = s0 * norm;
      db[o + x] = s1 * norm;
      dc[o + x] = s2 * norm;
      sums[x] = s0 + (a[add + x] ?? 0) - (a[sub + x] ?? 0);
      sums[width + x] = s1 + (b[add + x] ?? 0) - (b[sub + x] ?? 0);
      sums[w2 + x] = s2 + (c[add + x] ?? 0) - (c[sub + x] ?? 0);
    }
  }
}

/**
 * `blur` of three planes of one size with one radius, in place; the same values as three
 * `blur` calls. `tmp` holds three scratch planes; `sums` is at least 3 × `width` long.
 */
export function blur3(
  planes: readonly [Float32Array, Float32Array, Float32Array],
  tmp: readonly [Float32Array, Float32Array, Float32Array],
  width: number,
  height: number,
  r: number,
  sums: Float64Array,
): void {
  for (let pass = 0; pass < 3; pass++) {
    blurRows3(planes, tmp, width, height, r);
    blurColumns3(tmp, planes, width, height, r, sums);
  }
}
