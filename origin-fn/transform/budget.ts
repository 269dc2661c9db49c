/**
 * Byte budgets (`maxKb`, `kb<n>` in the key): the best-looking variant whose bytes are at most
 * `maxKb × 1024`, never the original and never anything over.
 *
 *  1. the variant as it would be without a budget (q=auto/lite: the perceptual search; `q<n>`:
 *     one encode at n). If it fits, it is served: the constraint that won is `quality`;
 *  2. otherwise the highest quality below that choice whose bytes fit, down to the format's
 *     window floor (budget-search.ts, at most `BUDGET_ENCODES` runs): won by the `budget`;
 *  3. when even the floor is over, a smaller size: the largest step of the grammar's width
 *     ladder (or height ladder, when only the height was asked) below the current one that fits
 *     at the floor, aspect ratio kept (for w+h boxes too). Steps are probed with one encode at
 *     the floor each, the first one guessed from the bytes (they scale about with the area),
 *     until the step that fits and the one above it that does not are found; then step 2 runs
 *     at that size, with the first choice's quality as the ceiling;
 *  4. when even the ladder's smallest step is over: 413 IMG_OVER_BUDGET, nothing stored.
 *
 * Encoder runs, at most: the first choice's (`maxEncodes`, 5 by default), 6 more at the asked
 * size, one per ladder step probed, and 5 more at the chosen step. Smaller steps are resized
 * from the pixels of the asked size (one step down: a pyramid step, as pre-warm's).
 * Animations are not resized: their budget is met by quality alone, or refused.
 */
import sharp from 'sharp';
import type { Quality } from '../../edge-fn/grammar/types.ts';
import { tooLarge } from '../errors.ts';
import { BUDGET_ENCODES, type BytesCandidate, searchBytes } from './budget-search.ts';
import { comparatorFor } from './distance.ts';
import { encode, type RawPixels } from './encode.ts';
import type { QualitySettings } from './limits.ts';
import {
  decodeRaw,
  type EncodeBase,
  encodeWithQuality,
  QUALITY_WINDOWS,
  type QualityEncoded,
  type SearchContext,
} from './quality.ts';
import { SAMPLE_PIXELS, SAMPLE_TILE, sampleTiles } from './quality-search.ts';

/** What the budget did (metadata, log and the x-litepix-quality header). */
export interface BudgetReport {
  /** The budget, KB (1 KB = 1024 bytes). */
  kb: number;
  /** `quality`: the variant without a budget fitted; `budget`: the budget lowered quality or size. */
  won: 'quality' | 'budget';
  /** The side the ladder stepped (the one the spec sized, else the longer), before and after. */
  stepped?: { from: number; to: number } | undefined;
}

export interface BudgetRequest {
  pixels: RawPixels;
  base: EncodeBase;
  quality: Quality;
  settings: QualitySettings;
  maxKb: number;
  /** The grammar's size ladder (ascending). */
  ladder: readonly number[];
  /** Which side the ladder sizes: the one the spec asked for (width when both). */
  side: 'width' | 'height' | 'longer';
  context?: SearchContext | undefined;
  now?: (() => number) | undefined;
}

export interface BudgetEncoded extends QualityEncoded {
  /** The pixels that were encoded: the asked size, or the ladder step it came down to. */
  pixels: RawPixels;
}

const sideOf = (p: { width: number; height: number }, side: BudgetRequest['side']) =>
  side === 'width' || (side === 'longer' && p.width >= p.height) ? p.width : p.height;

/** The pixels resized so that `side` is `value`, the other side in proportion. */
async function resizeSide(pixels: RawPixels, side: BudgetRequest['side'], value: number): Promise<RawPixels> {
  const scale = value / sideOf(pixels, side);
  const width = Math.max(1, Math.round(pixels.width * scale));
  const height = Math.max(1, Math.round(pixels.height * scale));
  const { data, info } = await sharp(pixels.data, {
    raw: { width: pixels.width, height: pixels.height, channels: pixels.channels },
  })
    .resize({ width, height, fit: 'fill' })
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: pixels.channels };
}

/** Perceptual distance of `bytes` from `pixels` (on the tile sample above 1 MP), and whether sampled. */
async function measure(pixels: RawPixels, bytes: Buffer): Promise<{ distance: number; sampled: boolean }> {
  const decoded = await decodeRaw(bytes);
  if (pixels.width * pixels.height > SAMPLE_PIXELS) {
    const sample = sampleTiles(pixels);
    const candidate = sampleTiles(decoded);
    if (sample !== undefined && candidate !== undefined)
      return { distance: comparatorFor(sample, { tile: SAMPLE_TILE }).distance(candidate), sampled: true };
  }
  return { distance: comparatorFor(pixels).distance(decoded), sampled: false };
}

function overBudget(request: BudgetRequest, smallest: string, bytes: number): Error {
  const kb = (bytes / 1024).toFixed(1);
  return tooLarge(
    'IMG_OVER_BUDGET',
    `The image cannot be made within the byte budget of ${request.maxKb} KB: even at ${smallest} and the lowest quality it is ${kb} KB. Ask for a larger maxkb or a smaller size.`,
  );
}

export async function encodeWithinBudget(request: BudgetRequest): Promise<BudgetEncoded> {
  const { pixels, base, settings, side } = request;
  const maxBytes = request.maxKb * 1024;
  const first = await encodeWithQuality(
    pixels,
    base,
    request.quality,
    settings,
    request.now,
    request.context,
  );
  if (first.encoded.bytes.length <= maxBytes) {
    return { ...first, pixels, report: { ...first.report, budget: { kb: request.maxKb, won: 'quality' } } };
  }
  const png = base.format === 'png';
  const window = QUALITY_WINDOWS[base.format];
  // A lossless PNG (quality 100) comes down through palettes; a fixed q below the window is its own floor.
  const ceiling = png ? Math.min(first.encoded.quality, window.max) : first.encoded.quality;
  const min = Math.min(window.min, ceiling);
  const known: BytesCandidate[] = first.encoded.quality === ceiling ? [{ ...first.encoded }] : [];
  const at = (p: RawPixels) => async (quality: number) =>
    (await encode(p, { ...base, quality, ...(png ? { png: 'palette' as const } : {}) })).bytes;
  let encodes = first.report.encodes;
  const searched = await searchBytes({
    min,
    ceiling,
    maxBytes,
    known,
    maxEncodes: BUDGET_ENCODES,
    encodeAt: at(pixels),
  });
  encodes += searched.encodes;
  let chosen: { pixels: RawPixels; best: BytesCandidate } | undefined =
    searched.best !== undefined ? { pixels, best: searched.best } : undefined;
  let stepped: BudgetReport['stepped'];

  if (chosen === undefined) {
    const floor = searched.atMin as BytesCandidate; // searchBytes ends on `min` when nothing fits
    const shown = `${pixels.width}×${base.animation?.frameHeight ?? pixels.height}`;
    if (base.animation !== undefined)
      throw overBudget(request, `${shown} (animations keep their size)`, floor.bytes.length);
    const from = sideOf(pixels, side);
    const steps = request.ladder.filter((v) => v < from);
    // Known: steps[lo] fits at the floor, steps[hi] (or the asked size) does not.
    let lo = -1;
    let hi = steps.length;
    let fit: { pixels: RawPixels; best: BytesCandidate } | undefined;
    let probe = { side: from, bytes: floor.bytes.length };
    let smallestBytes = floor.bytes.length;
    while (hi - lo > 1) {
      // Bytes grow a little slower than the area: aim at the side whose area shrinks by the ratio^(1/0.85).
      const aim = probe.side * (maxBytes / probe.bytes) ** (0.5 / 0.85);
      let i = steps.length - 1;
      while (i > 0 && (steps[i] as number) > aim) i--;
      i = Math.min(hi - 1, Math.max(lo + 1, i));
      const value = steps[i] as number;
      const smaller = await resizeSide(pixels, side, value);
      const bytes = await at(smaller)(min);
      encodes++;
      if (bytes.length <= maxBytes) {
        lo = i;
        fit = { pixels: smaller, best: { quality: min, bytes } };
      } else {
        hi = i;
        smallestBytes = bytes.length;
      }
      probe = { side: value, bytes: bytes.length };
    }
    if (fit === undefined) {
      const least = steps.length > 0 ? `${steps[0]} px` : shown;
      throw overBudget(request, least, smallestBytes);
    }
    const again = await searchBytes({
      min,
      ceiling,
      maxBytes,
      known: [fit.best],
      maxEncodes: BUDGET_ENCODES - 1,
      encodeAt: at(fit.pixels),
    });
    encodes += again.encodes;
    chosen = { pixels: fit.pixels, best: again.best ?? fit.best };
    stepped = { from, to: steps[lo] as number };
  }

  const { distance, sampled } =
    base.animation === undefined
      ? await measure(chosen.pixels, chosen.best.bytes)
      : { distance: undefined, sampled: false };
  return {
    encoded: { bytes: chosen.best.bytes, quality: chosen.best.quality },
    pixels: chosen.pixels,
    decoded: base.animation === undefined,
    report: {
      quality: chosen.best.quality,
      distance,
      encodes,
      mode: first.report.mode === 'fixed' ? 'fixed' : 'search',
      sampled,
      budget: { kb: request.maxKb, won: 'budget', ...(stepped !== undefined ? { stepped } : {}) },
    },
  };
}
