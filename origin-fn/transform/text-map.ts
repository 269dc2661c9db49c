/**
 * Where an image holds text (or text-like line art: table rules, chart labels, UI glyphs): the
 * places where the perceptual distance must not let texture masking hide an encoder's ringing
 * and smearing, since a thin stroke that blurs becomes a letter nobody can read.
 *
 * Per block of `TEXT_BLOCK`² pixels of luma, a block is text-like when three things hold:
 *  - **contrast**: its luma spans at least `MIN_RANGE` levels (ink on paper, a glyph on a UI);
 *  - **edge density**: at least `MIN_EDGES` of its pixels sit on a strong step (a neighbour
 *    differs by more than a quarter of the range): thin strokes are edges on both sides;
 *  - **two tones**: at least `MIN_TWO_TONE` of its pixels lie near its darkest or brightest
 *    level (within a fifth of the range): a glyph on a flat ground, not a photo's gradients.
 * Photos' texture (foliage, fabric, hair) has the edges but not the two flat tones; a photo's
 * hard silhouette against a sky has the tones but few edges per block. The mask is then
 * dilated by one block, since ringing reaches past the block a stroke sits in.
 *
 * Pure and cheap: one pass over the luma plane and one over the blocks.
 */
import type { PixelView } from './distance-reference.ts';

/** Side of a block (pixels): about a line of small print at display size. */
export const TEXT_BLOCK = 16;
/** Least luma range (0–255) of a text-like block. */
const MIN_RANGE = 80;
/** Least share of a block's pixels on a strong step. */
const MIN_EDGES = 0.08;
/** Least share of a block's pixels near its darkest or brightest level. */
const MIN_TWO_TONE = 0.7;

export interface TextMap {
  /** Blocks across and down. */
  cols: number;
  rows: number;
  /** 1 where a block is text-like or next to one (dilated), per block, row by row. */
  mask: Uint8Array;
  /** Share (0–1) of blocks that are text-like themselves (before the dilation). */
  share: number;
}

/** The text map of a luma plane (0–255, `width` × `height`). */
export function textMapOfLuma(y: ArrayLike<number>, width: number, height: number): TextMap {
  const cols = Math.ceil(width / TEXT_BLOCK);
  const rows = Math.ceil(height / TEXT_BLOCK);
  const text = new Uint8Array(cols * rows);
  let found = 0;
  for (let br = 0; br < rows; br++) {
    const y0 = br * TEXT_BLOCK;
    const y1 = Math.min(height, y0 + TEXT_BLOCK);
    for (let bc = 0; bc < cols; bc++) {
      const x0 = bc * TEXT_BLOCK;
      const x1 = Math.min(width, x0 + TEXT_BLOCK);
      let lo = 255;
      let hi = 0;
      for (let row = y0; row < y1; row++) {
        for (let col = x0, i = row * width + x0; col < x1; col++, i++) {
          const v = y[i] ?? 0;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
      const range = hi - lo;
      if (range < MIN_RANGE) continue;
      const step = range / 4;
      const near = range / 5;
      let edges = 0;
      let tones = 0;
      for (let row = y0; row < y1; row++) {
        for (let col = x0, i = row * width + x0; col < x1; col++, i++) {
          const v = y[i] ?? 0;
          if (v - lo <= near || hi - v <= near) tones++;
          const right = col + 1 < width ? (y[i + 1] ?? 0) : v;
          const down = row + 1 < height ? (y[i + width] ?? 0) : v;
          if (Math.abs(v - right) > step || Math.abs(v - down) > step) edges++;
        }
      }
      const count = (x1 - x0) * (y1 - y0);
      if (edges >= MIN_EDGES * count && tones >= MIN_TWO_TONE * count) {
        text[br * cols + bc] = 1;
        found++;
      }
    }
  }
  const mask = new Uint8Array(cols * rows);
  for (let br = 0; br < rows; br++) {
    for (let bc = 0; bc < cols; bc++) {
      if (text[br * cols + bc] === 0) continue;
      for (let r = Math.max(0, br - 1); r <= Math.min(rows - 1, br + 1); r++) {
        for (let c = Math.max(0, bc - 1); c <= Math.min(cols - 1, bc + 1); c++) mask[r * cols + c] = 1;
      }
    }
  }
  return { cols, rows, mask, share: cols * rows === 0 ? 0 : found / (cols * rows) };
}

/** The text map of 8-bit pixels (grey, grey+alpha, RGB or RGBA; alpha ignored). */
export function textMap(view: PixelView): TextMap {
  const { data, width, height, channels } = view;
  const n = width * height;
  const y = new Float32Array(n);
  if (channels < 3) {
    for (let i = 0; i < n; i++) y[i] = data[i * channels] ?? 0;
  } else {
    for (let i = 0, p = 0; i < n; i++, p += channels) {
      y[i] = 0.299 * (data[p] ?? 0) + 0.587 * (data[p + 1] ?? 0) + 0.114 * (data[p + 2] ?? 0);
    }
  }
  return textMapOfLuma(y, width, height);
}

/** Whether pixel (col, row) lies in a (dilated) text block of `map`. */
export function inText(map: TextMap, col: number, row: number): boolean {
  return map.mask[Math.floor(row / TEXT_BLOCK) * map.cols + Math.floor(col / TEXT_BLOCK)] === 1;
}
