/**
 * Screenshots and flat graphics in WebP: a palette WebP (encode.ts `encodePaletteWebp`: at most
 * 256 colours, stored losslessly) is tried beside the lossy search's choice and served when it
 * is smaller and meets the same target. On the generated document screenshots at w=828 it is
 * 3–18 % smaller than q=auto's lossy WebP and about half as far from the pixels under
 * butteraugli (book page 124 KB at 0.34 against 122 KB at 1.12; docs/quality.md, "Documents"):
 * lossy WebP's 4:2:0 colour smears thin strokes at any quality, a palette keeps them.
 *
 * Tried only where it can win, for one extra encode: documents (a text share of at least
 * DOCUMENT_SHARE, distance-reference.ts) whose pixels are flat, i.e. at least `MIN_FLAT` of them
 * repeat their left neighbour exactly (rendered pages and UI; a photographed page's sensor
 * noise leaves almost none, and its palette would be twice the lossy bytes).
 */

import type { PixelView } from './distance-reference.ts';
import { DOCUMENT_SHARE } from './distance-reference.ts';

/** Least share of pixels equal to their left neighbour for a palette WebP to be tried. */
export const MIN_FLAT = 0.3;
/** libimagequant quality of the palette: fewer colours than 90, still well inside the targets. */
export const PALETTE_WEBP_QUALITY = 70;

/** Share (0–1) of pixels whose every channel equals the pixel to their left. */
export function flatShare(view: PixelView): number {
  const { data, width, height, channels } = view;
  if (width < 2) return 0;
  let same = 0;
  for (let row = 0; row < height; row++) {
    let p = row * width * channels + channels;
    for (let col = 1; col < width; col++, p += channels) {
      let equal = true;
      for (let c = 0; c < channels; c++) {
        if (data[p + c] !== data[p + c - channels]) {
          equal = false;
          break;
        }
      }
      if (equal) same++;
    }
  }
  return same / ((width - 1) * height);
}

/** Whether a palette WebP is worth trying for pixels with this text share. */
export function triesPaletteWebp(view: PixelView, textShare: number): boolean {
  return textShare >= DOCUMENT_SHARE && flatShare(view) >= MIN_FLAT;
}
