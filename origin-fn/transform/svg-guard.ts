/**
 * SVG without librsvg: a byte sniff that tells an SVG before sharp sees it (so SVG is refused
 * with nothing parsed when it is off), the cheap checks that bound what librsvg is given when it
 * is on, and the density that renders it at most at the output size.
 */
import { tooLarge, unsupported } from '../errors.ts';
import type { TransformLimits } from './limits.ts';
import type { ResizePlan, Size } from './resize-plan.ts';

const LT = 0x3c;

/** Index of the first NUL byte, or the length: libvips's SVG sniff stops at the first NUL. */
const textEnd = (bytes: Buffer) => {
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes.length : nul;
};

/** True when `bytes` at `at` spell `word` (lower-case ASCII), in any case. */
function spellsAt(bytes: Buffer, at: number, word: string): boolean {
  if (at + word.length > bytes.length) return false;
  for (let i = 0; i < word.length; i++) {
    if (((bytes[at + i] as number) | 0x20) !== word.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * True when libvips would hand the bytes to librsvg: a `<svg`, in any case, anywhere before the
 * first NUL byte (libvips looks that far in a UTF-8 prefix; looking further is only stricter),
 * or gzip data (SVGZ, which libvips inflates to look inside). Linear: one pass over the `<`.
 */
export function looksLikeSvg(bytes: Buffer): boolean {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return true;
  const end = textEnd(bytes);
  for (let at = bytes.indexOf(LT); at >= 0 && at < end; at = bytes.indexOf(LT, at + 1)) {
    if (spellsAt(bytes, at + 1, 'svg')) return true;
  }
  return false;
}

/** Start tags (`<` then a letter): every element of the document, drawn or not. */
function countElements(bytes: Buffer, stopAfter: number): number {
  let count = 0;
  for (let at = bytes.indexOf(LT); at >= 0 && count <= stopAfter; at = bytes.indexOf(LT, at + 1)) {
    const next = (bytes[at + 1] ?? 0) | 0x20;
    if (next >= 0x61 && next <= 0x7a) count++;
  }
  return count;
}

/**
 * Filters (`<filter>`, `fe*` primitives, the `filter` attribute or CSS property, whose
 * functions such as blur() need no `<filter>` element): their cost grows with the rendered
 * area times the blur radius, without bound.
 */
const FILTER = /<filter\b|<fe[a-z]|\bfilter\s*[=:]/i;
/** Entity declarations expand text the cheap checks never see (and nest: "billion laughs"). */
const ENTITY = /<!entity/i;

/** Refuses, before librsvg parses anything, an SVG beyond the limits (limits.ts). */
export function checkSvg(bytes: Buffer, limits: TransformLimits): void {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw unsupported(
      'IMG_UNSUPPORTED',
      'Compressed SVG (SVGZ) is not accepted: its size cannot be checked before it is inflated. Upload the plain SVG.',
    );
  }
  if (bytes.length > limits.maxSvgBytes) {
    throw tooLarge(
      'IMG_TOO_LARGE',
      `The SVG is ${bytes.length} bytes; the limit for SVG is ${limits.maxSvgBytes} bytes. Simplify it or upload a raster image.`,
    );
  }
  const elements = countElements(bytes, limits.maxSvgElements);
  if (elements > limits.maxSvgElements) {
    throw tooLarge(
      'IMG_TOO_COMPLEX',
      `The SVG has more than ${limits.maxSvgElements} elements; the limit is ${limits.maxSvgElements}. Simplify it or upload a raster image.`,
    );
  }
  const text = bytes.toString('latin1');
  if (FILTER.test(text)) {
    throw tooLarge(
      'IMG_TOO_COMPLEX',
      'The SVG uses filters (<filter>, fe* effects or the filter property), which are not rendered: their cost has no bound. Remove them or upload a raster image.',
    );
  }
  if (ENTITY.test(text)) {
    throw unsupported(
      'IMG_UNSUPPORTED',
      'The SVG declares XML entities (<!ENTITY), which are not accepted. Remove the DOCTYPE or upload a raster image.',
    );
  }
}

/**
 * The density (dpi; 72 renders the SVG at its own size) that renders `size` just large enough
 * for `plan`, never larger than its own size: rendering costs the rendered area, so a
 * 10000×10000 document asked for at 256 px is rendered at about 256 px, not at 100 MP.
 */
export function svgDensity(size: Size, plan: ResizePlan | undefined): number {
  if (plan === undefined) return 72;
  // One pixel of margin so the render is never a pixel short of the box after rounding.
  const sx = (plan.width + 1) / size.width;
  const sy = (plan.height + 1) / size.height;
  const covers = plan.fit === 'cover' || plan.fit === 'fill';
  const scale = Math.min(1, covers ? Math.max(sx, sy) : Math.min(sx, sy));
  // sharp accepts 1–100000 dpi.
  return Math.max(1, 72 * scale);
}
