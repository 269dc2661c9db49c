/**
 * Chooses the quality of one variant and encodes it. A numeric quality is used as given;
 * `auto` (visually lossless) and `lite` (Save-Data) run the perceptual search of
 * quality-search.ts against the resized, not-yet-encoded pixels.
 *
 * Per format:
 *  - JPEG, WebP, AVIF: the lowest quality in the format's window that meets the target;
 *  - PNG: a palette (libimagequant, dithered) when it meets the target and is smaller than
 *    lossless truecolour, else lossless truecolour (see encodePng);
 *  - animations (WebP): not searched, the profile's fixed fallback quality;
 *  - WebP screenshots and flat documents: a palette WebP instead of the lossy choice when it
 *    is smaller and meets the target (palette-webp.ts).
 */
import sharp from 'sharp';
import type { OutputFormat, Quality } from '../../edge-fn/grammar/types.ts';
import type { BudgetReport } from './budget.ts';
import { comparatorFor, type PixelView } from './distance.ts';
import { type Encoded, type EncodeRequest, encode, encodePaletteWebp, type RawPixels } from './encode.ts';
import type { QualitySettings } from './limits.ts';
import { PALETTE_WEBP_QUALITY, triesPaletteWebp } from './palette-webp.ts';
import type { QualityHints } from './quality-hints.ts';
import { type QualityWindow, SAMPLE_TILE, sampleTiles, searchQuality } from './quality-search.ts';

/** Quality windows the search stays in (outside them: visibly broken, or bytes for nothing). */
export const QUALITY_WINDOWS: Readonly<Record<OutputFormat, QualityWindow>> = Object.freeze({
  jpeg: { min: 40, max: 95 },
  webp: { min: 40, max: 95 },
  avif: { min: 25, max: 85 },
  /** Not searched (see encodePng); the palette quality is the profile's fallback. */
  png: { min: 50, max: 95 },
});

/**
 * Where the search starts: the median quality at which the corpus photos reach each profile's
 * distance, at display size (Kodak and camera photos at w=828) and for large outputs at (about)
 * the source's own resolution (searched on a tile sample: camera photos at original size, where
 * sensor noise masks JPEG's artefacts and lets it reach the target far lower). A large output
 * that is a real downscale (at most `DOWNSCALED` of the source's width: a 1920 or 1290 px variant
 * of a camera photo) has lost that noise and lands where display sizes do: on the 9 camera photos
 * at 1920 px the display values sit 0.1–0.9 steps from the chosen qualities on average, the
 * `large` ones 2–10. A good start saves encoder runs.
 */
export const TYPICAL_QUALITY: Readonly<
  Record<'display' | 'large', Record<'auto' | 'lite', Record<'jpeg' | 'webp' | 'avif', number>>>
> = Object.freeze({
  display: {
    auto: { jpeg: 82, webp: 83, avif: 66 },
    lite: { jpeg: 63, webp: 61, avif: 52 },
  },
  large: {
    auto: { jpeg: 73, webp: 83, avif: 60 },
    lite: { jpeg: 50, webp: 63, avif: 50 },
  },
});

/** Outputs at most this fraction of the source's width start from the display-size qualities. */
const DOWNSCALED = 0.75;

/** The typical quality a search starts from (before the detail adjustment). */
export function typicalQuality(
  format: 'jpeg' | 'webp' | 'avif',
  profile: 'auto' | 'lite',
  sampled: boolean,
  width: number,
  sourceWidth: number | undefined,
): number {
  const downscaled = sourceWidth !== undefined && width <= DOWNSCALED * sourceWidth;
  return TYPICAL_QUALITY[sampled && !downscaled ? 'large' : 'display'][profile][format];
}

/**
 * Quality steps per unit of image detail for the first guess (quality-search.ts `firstGuess`).
 * The display `auto` values above and these slopes are fitted under the butteraugli-pooled
 * distance by `npx tsx bench/fit-first-guess.ts` (9 camera photos at w256/w828/w1920 and 24
 * Kodak photos at w256/768: the fewest encoder runs per variant of a small grid around the least
 * squares fit of the chosen quality against the detail).
 */
export const DETAIL_SLOPE: Readonly<Record<'jpeg' | 'webp' | 'avif', number>> = Object.freeze({
  jpeg: 0.4,
  webp: -0.45,
  avif: 0.25,
});

/** How a variant's quality was chosen (metadata, log and the x-litepix-quality header). */
export interface QualityReport {
  /** The encoder quality used; 100 for lossless PNG. */
  quality: number;
  /** Perceptual distance (distance.ts) of the served encode from the resized pixels; undefined when not measured. */
  distance: number | undefined;
  /** Encoder runs spent on this variant. */
  encodes: number;
  /** `search`: chosen by the search; `fallback`: the safe default (budget spent); `fixed`: numeric q or animation. */
  mode: 'search' | 'fallback' | 'fixed';
  /** The search ran on a tile sample (large outputs) and the distance is the sample's. */
  sampled: boolean;
  /** Set when the spec had a byte budget: which constraint won, and any size step (budget.ts). */
  budget?: BudgetReport | undefined;
  /** A palette WebP (lossless, ≤ 256 colours) was served instead of the lossy choice. */
  palette?: boolean;
}

export interface QualityEncoded {
  encoded: Encoded;
  report: QualityReport;
  /** The encoded bytes themselves were decoded in full (every pixel) and measured by the search. */
  decoded?: boolean;
}

/** Encoding options without the quality. */
export type EncodeBase = Omit<EncodeRequest, 'quality' | 'png'>;

export async function decodeRaw(bytes: Buffer): Promise<PixelView> {
  const { data, info } = await sharp(bytes).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** What the search may know beyond the pixels. */
export interface SearchContext {
  /** What the searches of the same image's other variants learnt (quality-hints.ts). */
  hints?: QualityHints | undefined;
  /** Width of the source the pixels were resized from (the first guess depends on the scale). */
  sourceWidth?: number | undefined;
}

export async function encodeWithQuality(
  pixels: RawPixels,
  base: EncodeBase,
  quality: Quality,
  settings: QualitySettings,
  now: () => number = () => performance.now(),
  context: SearchContext = {},
): Promise<QualityEncoded> {
  const { hints } = context;
  if (typeof quality === 'number') {
    const encoded = await encode(pixels, { ...base, quality });
    return {
      encoded,
      report: { quality: encoded.quality, distance: undefined, encodes: 1, mode: 'fixed', sampled: false },
    };
  }
  const profile = settings[quality];
  const fallback = profile.fallback[base.format];
  if (base.animation !== undefined) {
    const encoded = await encode(pixels, { ...base, quality: fallback });
    return {
      encoded,
      report: { quality: encoded.quality, distance: undefined, encodes: 1, mode: 'fixed', sampled: false },
    };
  }
  if (base.format === 'png') return encodePng(pixels, base, profile.distance, fallback, settings);
  const deadline = now() + settings.budgetMs;

  const sample = sampleTiles(pixels);
  const searched = sample ?? pixels;
  const area = pixels.width * pixels.height;
  const result = await searchQuality({
    start: hints?.startFor(base.format, quality, area, sample !== undefined),
    reference: searched,
    ...(sample !== undefined ? { tile: SAMPLE_TILE } : {}),
    window: QUALITY_WINDOWS[base.format],
    typical: typicalQuality(base.format, quality, sample !== undefined, pixels.width, context.sourceWidth),
    detailSlope: DETAIL_SLOPE[base.format],
    target: profile.distance,
    fallback,
    maxEncodes: settings.maxEncodes,
    finalEncode: sample !== undefined,
    deadline,
    now,
    encodeAt: async (q) => (await encode(toRaw(searched), { ...base, quality: q })).bytes,
    decodeRaw,
  });
  if (!result.fallback)
    hints?.learn({
      format: base.format,
      profile: quality,
      pixels: area,
      quality: result.quality,
    });
  const report: QualityReport = {
    quality: result.quality,
    distance: result.distance,
    encodes: result.encodes,
    mode: result.fallback ? 'fallback' : 'search',
    sampled: sample !== undefined,
  };
  let lossy: QualityEncoded;
  if (result.bytes !== undefined && sample === undefined) {
    // The search decoded this very candidate to measure it.
    lossy = { encoded: { bytes: result.bytes, quality: result.quality }, report, decoded: true };
  } else {
    // Searched on a sample (or fell back before encoding): one full-size encode at the choice.
    const encoded = await encode(pixels, { ...base, quality: result.quality });
    lossy = { encoded, report: { ...report, encodes: report.encodes + 1 } };
  }
  if (base.format !== 'webp' || result.fallback || now() >= deadline) return lossy;
  return withPaletteWebp(pixels, base, lossy, profile.distance, sample);
}

/**
 * A WebP document's palette alternative (palette-webp.ts): served when smaller than the lossy
 * choice and within the target (measured like the search: on its tile sample above 1 MP).
 */
async function withPaletteWebp(
  pixels: RawPixels,
  base: EncodeBase,
  lossy: QualityEncoded,
  target: number,
  sample: PixelView | undefined,
): Promise<QualityEncoded> {
  const comparator =
    sample !== undefined ? comparatorFor(sample, { tile: SAMPLE_TILE }) : comparatorFor(pixels);
  if (!triesPaletteWebp(pixels, comparator.textShare)) return lossy;
  const palette = await encodePaletteWebp(pixels, { ...base, quality: PALETTE_WEBP_QUALITY });
  const tried = { ...lossy, report: { ...lossy.report, encodes: lossy.report.encodes + 1 } };
  if (palette.bytes.length >= lossy.encoded.bytes.length) return tried;
  const decoded = await decodeRaw(palette.bytes);
  const sampled = sample !== undefined ? sampleTiles(decoded) : undefined;
  const distance = comparator.distance(sampled ?? decoded);
  if (distance > target) return tried;
  return {
    encoded: palette,
    report: { ...tried.report, quality: palette.quality, distance, mode: 'search', palette: true },
    // decodeRaw read every pixel of the palette WebP (the tile sample is cut from that decode).
    decoded: true,
  };
}

function toRaw(view: PixelView): RawPixels {
  const channels = view.channels;
  if (channels !== 1 && channels !== 2 && channels !== 3 && channels !== 4) {
    throw new RangeError(`Expected 1 to 4 channels but received ${channels}`);
  }
  const data = Buffer.isBuffer(view.data)
    ? view.data
    : Buffer.from(view.data.buffer, view.data.byteOffset, view.data.byteLength);
  return { data, width: view.width, height: view.height, channels };
}

/**
 * PNG: libimagequant's quality barely trades bytes for looks (its palettes plateau), so there
 * is no search: one palette at the profile's quality, kept when it meets the target (on the
 * tile sample above 1 MP) and is smaller than lossless truecolour; otherwise lossless truecolour
 * (which meets any target).
 * Two encoder runs (one when maxEncodes is 1 or the budget is 0: truecolour only).
 */
async function encodePng(
  pixels: RawPixels,
  base: EncodeBase,
  target: number,
  paletteQuality: number,
  settings: QualitySettings,
): Promise<QualityEncoded> {
  const truecolour = encode(pixels, { ...base, quality: 100, png: 'truecolour' });
  if (settings.maxEncodes < 2 || settings.budgetMs <= 0) {
    return {
      encoded: await truecolour,
      report: { quality: 100, distance: 0, encodes: 1, mode: 'fallback', sampled: false },
    };
  }
  const palette = await encode(pixels, { ...base, quality: paletteQuality, png: 'palette' });
  const lossless = await truecolour;
  if (palette.bytes.length < lossless.bytes.length) {
    // Above 1 MP the palette is measured on the search's tile sample (the same tiles of the
    // reference and of the decoded palette): a comparator holds about 25 bytes per pixel, too
    // much to spend on a 16 MP PNG for one yes/no.
    const decoded = await decodeRaw(palette.bytes);
    const sample = sampleTiles(pixels);
    const sampledPalette = sample !== undefined ? sampleTiles(decoded) : undefined;
    const distance =
      sample !== undefined && sampledPalette !== undefined
        ? comparatorFor(sample, { tile: SAMPLE_TILE }).distance(sampledPalette)
        : comparatorFor(pixels).distance(decoded);
    if (distance <= target) {
      return {
        // decodeRaw read every pixel of the palette PNG (the tile sample is cut from that decode).
        decoded: true,
        encoded: palette,
        report: {
          quality: palette.quality,
          distance,
          encodes: 2,
          mode: 'search',
          sampled: sampledPalette !== undefined,
        },
      };
    }
  }
  return {
    encoded: lossless,
    report: { quality: 100, distance: 0, encodes: 2, mode: 'search', sampled: false },
  };
}

/**
 * The `x-litepix-quality` header (and the stored variant's `quality` metadata), e.g.
 * `q=74; distance=0.982; encodes=2`, `q=74; distance=0.954; encodes=3; sampled`,
 * `q=85; encodes=1; fallback`, or `q=75` for a numeric quality. With a byte budget, its parts
 * follow: `budget=50KB; won=quality` (the variant without a budget fitted), `budget=50KB;
 * won=budget` (quality lowered to fit), `budget=50KB; won=budget; stepped=828-640` (and the
 * size stepped down the ladder, side before and after). ASCII only: it is an HTTP header and
 * S3 user metadata.
 */
export function formatQualityHeader(report: QualityReport): string {
  const { budget } = report;
  if (report.mode === 'fixed' && budget === undefined) return `q=${report.quality}`;
  const parts = [`q=${report.quality}`];
  if (report.distance !== undefined) parts.push(`distance=${report.distance.toFixed(3)}`);
  parts.push(`encodes=${report.encodes}`);
  if (report.sampled) parts.push('sampled');
  if (report.palette) parts.push('palette');
  if (report.mode === 'fallback') parts.push('fallback');
  if (budget !== undefined) {
    parts.push(`budget=${budget.kb}KB`, `won=${budget.won}`);
    if (budget.stepped !== undefined) parts.push(`stepped=${budget.stepped.from}-${budget.stepped.to}`);
  }
  return parts.join('; ');
}
