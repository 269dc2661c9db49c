/**
 * The reference side of the perceptual distance (distance.ts): the model's constants, how pixels
 * are read into planes, and everything about the reference that every candidate is measured
 * against (its planes, its masking normalisers, which pixels count), prepared once per image
 * and size (`referenceFor` keeps it for as long as the pixels live) and shared by every
 * candidate of every format searched at that size.
 */
import { blur, halfMeans, halfSize } from './blur.ts';
import { TEXT_BLOCK, textMapOfLuma } from './text-map.ts';

/** 8-bit interleaved pixels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
export interface PixelView {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** Floor of the masking term, in luma levels (0–255): how much a perfectly flat area masks. */
export const MASK_FLOOR = 0.5;
/** Masking grows as a power of the detail energy (butteraugli's masking is similarly sub-linear). */
export const MASK_POWER = 0.7;
/** Box radius of the detail-energy blur (three passes: σ ≈ 1.4 px). */
const MASK_RADIUS = 1;
/** Weight of the unmasked low-frequency luma error (blurred at half size: σ ≈ 2.8 px of the image). */
export const LOW_FREQUENCY_WEIGHT = 2;
/** Box radius at half size of the low-frequency luma error (three passes: σ ≈ 2.8 px of the image). */
export const LOW_FREQUENCY_RADIUS = 1;
/** Weight, box radius at half size (σ ≈ 2.8 px of the image) and masking share of the colour error. */
const CHROMA_WEIGHT = 1;
export const CHROMA_RADIUS = 1;
const CHROMA_MASKING = 0.5;
/** Box radius at half size of the map the 6- and 12-norms see (three passes: σ ≈ 5 px of the image). */
export const PEAK_RADIUS = 2;
/**
 * Luma error (levels) ignored in every pixel: what an 8-bit round trip through YCbCr costs a flat
 * area. Without it, the ±1-level rounding of WebP's colour conversion on a flat graphic counted
 * like a visible defect.
 */
export const DEAD_ZONE = 0.5;

export interface Planes {
  y: Float32Array;
  /** Half-size colour planes (each cell from the mean colour of 2×2 pixels); absent for grey images. */
  cb?: Float32Array | undefined;
  cr?: Float32Array | undefined;
}

/**
 * The pixels as RGB (or grey) values with their stride: opaque pixels as they are, transparent
 * ones composited onto mid-grey (a pixel nobody sees cannot look different) into `scratch`
 * (n × 3 long; allocated when not given).
 */
export function opaque(
  view: PixelView,
  scratch?: Float32Array,
): { rgb: ArrayLike<number>; stride: number; colour: boolean } {
  const { data, width, height, channels } = view;
  const n = width * height;
  const colour = channels >= 3;
  if (channels !== 2 && channels !== 4) return { rgb: data, stride: channels, colour };
  const flat = scratch ?? new Float32Array(n * 3);
  for (let i = 0, p = 0; i < n; i++, p += channels) {
    const a = (data[p + channels - 1] ?? 255) / 255;
    const r = data[p] ?? 0;
    const g = colour ? (data[p + 1] ?? 0) : r;
    const b = colour ? (data[p + 2] ?? 0) : r;
    flat[i * 3] = r * a + 128 * (1 - a);
    flat[i * 3 + 1] = g * a + 128 * (1 - a);
    flat[i * 3 + 2] = b * a + 128 * (1 - a);
  }
  return { rgb: flat, stride: 3, colour };
}

/**
 * Reads luma (BT.601, 0–255) and half-size Cb/Cr (of the 2×2 mean colour: the transform is
 * linear) into the given planes. Transparent pixels are composited onto mid-grey first.
 */
export function readPlanes(view: PixelView, out: Planes): void {
  const { width, height } = view;
  const n = width * height;
  const { rgb, stride } = opaque(view);
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

export function allocPlanes(view: PixelView): Planes {
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
  /** Masking weight in text blocks of a document (default `TEXT_WEIGHT`; 1 = none; evaluation). */
  textWeight?: number;
}

/**
 * Documents: an image whose text-like blocks (text-map.ts) make up at least this share is
 * measured strictly where its text is. The corpus photos stay below 0.11 (Kodak 0.01–0.09,
 * the camera photos 0.01–0.11, a book cover and a stone plaque included), the generated
 * documents and screenshots at w=828 above 0.19 (docs/quality.md, "Documents").
 */
export const DOCUMENT_SHARE = 0.15;
/**
 * In a document's (dilated) text blocks the masked luma error counts this many times: the
 * detail energy of thin high-contrast strokes masks ringing and smearing around them that
 * butteraugli sees (and a reader trips on). Fitted on the generated document ladders
 * (docs/quality.md, "Documents").
 */
export const TEXT_WEIGHT = 1.25;

/** Everything candidates are measured against; read-only once prepared. */
export interface Reference {
  readonly width: number;
  readonly height: number;
  /** The reference's planes (colour planes absent for grey images). */
  readonly planes: Planes;
  /** The reference's mean absolute luma gradient (detail), used for the search's first guess. */
  readonly activity: number;
  /** Per pixel: 1 / (floor + detail)^power, the masking of the luma error. */
  readonly lumaNorm: Float32Array;
  /** Per half-size cell: the weighted, squared masking of the colour error (absent for grey images). */
  readonly chromaNorm: Float32Array | undefined;
  /** Weight of the squared low-frequency luma error (unmasked: the floor's normaliser). */
  readonly lowFrequencyNorm: number;
  /** 1 for the rows / columns that count (all, or all but a sample mosaic's tile seams). */
  readonly keepRow: Uint8Array;
  readonly keepCol: Uint8Array;
  /** True when every pixel counts (no seams left out). */
  readonly keepAll: boolean;
  /** Share of text-like blocks (text-map.ts); at least `DOCUMENT_SHARE`: weighted as a document. */
  readonly textShare: number;
}

export function prepareReference(reference: PixelView, options: ComparatorOptions = {}): Reference {
  const { width, height } = reference;
  const n = width * height;
  const cw = halfSize(width);
  const ch = halfSize(height);
  const planes = allocPlanes(reference);
  readPlanes(reference, planes);

  // Per-pixel luma normaliser 1 / (floor + detail)^power, and the squared one of the colour error.
  const mask = detail(planes.y, width, height);
  blur(mask, new Float32Array(n), width, height, MASK_RADIUS, new Float64Array(width));
  const lumaNorm = new Float32Array(n);
  for (let i = 0; i < n; i++) lumaNorm[i] = lumaPower(mask[i] ?? 0);
  const text = textMapOfLuma(planes.y, width, height);
  const weight = options.textWeight ?? TEXT_WEIGHT;
  if (text.share >= DOCUMENT_SHARE && weight !== 1) {
    for (let br = 0; br < text.rows; br++) {
      for (let bc = 0; bc < text.cols; bc++) {
        if (text.mask[br * text.cols + bc] === 0) continue;
        const x1 = Math.min(width, (bc + 1) * TEXT_BLOCK);
        for (let row = br * TEXT_BLOCK; row < Math.min(height, (br + 1) * TEXT_BLOCK); row++) {
          for (let i = row * width + bc * TEXT_BLOCK; i < row * width + x1; i++) {
            lumaNorm[i] = Math.fround(weight * (lumaNorm[i] ?? 0));
          }
        }
      }
    }
  }
  const colour = planes.cb !== undefined && planes.cr !== undefined;
  const chromaNorm = colour ? new Float32Array(cw * ch) : undefined;
  if (chromaNorm !== undefined) {
    halfMeans(mask, width, height, chromaNorm);
    for (let c = 0; c < cw * ch; c++) chromaNorm[c] = CHROMA_WEIGHT * chromaPower(chromaNorm[c] ?? 0);
  }

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
  return {
    width,
    height,
    planes,
    activity: activity(planes.y, width, height),
    lumaNorm,
    chromaNorm,
    lowFrequencyNorm: LOW_FREQUENCY_WEIGHT * MASK_FLOOR ** (-2 * MASK_POWER),
    keepRow,
    keepCol,
    keepAll: keepRow.every((k) => k === 1) && keepCol.every((k) => k === 1),
    textShare: text.share,
  };
}
