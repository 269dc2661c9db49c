/**
 * q=auto on the committed document fixtures (test/fixtures/documents/: Chromium-rendered
 * screenshots and a phone photo of a receipt) at w=828 in the default pre-warm's formats,
 * judge-free: the text-weighted distance stays within the target, the luma error inside the
 * text blocks stays small (levels), and flat WebP screenshots get a palette WebP when it is
 * smaller. The judge's figures for the larger generated set are in docs/quality.md
 * ("Documents and screenshots", `npm run eval:documents`).
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createComparator, type PixelView } from '../../origin-fn/transform/distance.ts';
import { encode, type RawPixels } from '../../origin-fn/transform/encode.ts';
import { DEFAULT_LIMITS } from '../../origin-fn/transform/limits.ts';
import { flatShare, MIN_FLAT } from '../../origin-fn/transform/palette-webp.ts';
import {
  encodeWithQuality,
  formatQualityHeader,
  QUALITY_WINDOWS,
} from '../../origin-fn/transform/quality.ts';
import { TEXT_BLOCK, textMap } from '../../origin-fn/transform/text-map.ts';
import { DOCUMENTS, documentFixture, fixture } from '../helpers/images.ts';
import { pixelView } from '../helpers/pixel-view.ts';

const FORMATS = ['avif', 'webp', 'jpeg'] as const;
/** Mean absolute luma error (levels of 255) inside the text blocks that q=auto may leave. */
const TEXT_ERROR = 2.5;
/** The search's time budget lifted: a loaded machine must not turn a search into its fallback. */
const QUALITY = { ...DEFAULT_LIMITS.quality, budgetMs: 60_000 };

async function at828(bytes: Buffer): Promise<RawPixels> {
  const view = await pixelView(sharp(bytes).resize({ width: 828, withoutEnlargement: true }).removeAlpha());
  return { data: Buffer.from(view.data), width: view.width, height: view.height, channels: 3 };
}

const luma = (d: Uint8Array, p: number) =>
  0.299 * (d[p] ?? 0) + 0.587 * (d[p + 1] ?? 0) + 0.114 * (d[p + 2] ?? 0);

/** Mean absolute luma error of `candidate` inside the (dilated) text blocks of `reference`. */
function textError(reference: PixelView, candidate: PixelView): number {
  const map = textMap(reference);
  let sum = 0;
  let count = 0;
  for (let row = 0; row < reference.height; row++) {
    for (let col = 0; col < reference.width; col++) {
      if (map.mask[Math.floor(row / TEXT_BLOCK) * map.cols + Math.floor(col / TEXT_BLOCK)] !== 1) continue;
      const i = row * reference.width + col;
      sum += Math.abs(
        luma(reference.data, i * reference.channels) - luma(candidate.data, i * candidate.channels),
      );
      count++;
    }
  }
  return sum / count;
}

const base = (format: (typeof FORMATS)[number]) => ({ format, dropAlpha: false, greyscale: false });

describe('q=auto on documents', () => {
  it.each(DOCUMENTS.flatMap((name) => FORMATS.map((format) => [name, format] as const)))(
    'keeps the text of %s legible in %s',
    async (name, format) => {
      const reference = await at828(documentFixture(name));
      const { encoded, report } = await encodeWithQuality(reference, base(format), 'auto', QUALITY);
      const meta = await sharp(encoded.bytes).metadata();
      expect(meta.format === 'heif' ? 'avif' : meta.format).toBe(format);
      expect([meta.width, meta.height]).toEqual([reference.width, reference.height]);
      const candidate = await pixelView(encoded.bytes);
      const distance = createComparator(reference).distance(candidate);
      // Within the target, or the format's best on offer (the window's top) when even that misses.
      if (report.quality < QUALITY_WINDOWS[format].max) {
        expect(distance, formatQualityHeader(report)).toBeLessThanOrEqual(
          DEFAULT_LIMITS.quality.auto.distance,
        );
      }
      const error = textError(reference, candidate);
      expect(error).toBeLessThan(TEXT_ERROR);
      // The bound can fail: the window's lowest quality smears the same text far more.
      const lowest = await pixelView(
        (await encode(reference, { ...base(format), quality: QUALITY_WINDOWS[format].min })).bytes,
      );
      expect(textError(reference, lowest)).toBeGreaterThan(1.3 * error);
    },
    60_000,
  );

  it('serves a flat screenshot as a palette WebP when it is smaller and within the target', async () => {
    const reference = await at828(documentFixture('chart-screen.png'));
    expect(flatShare(reference)).toBeGreaterThanOrEqual(MIN_FLAT);
    const { encoded, report } = await encodeWithQuality(reference, base('webp'), 'auto', QUALITY);
    expect(report.palette).toBe(true);
    expect(formatQualityHeader(report)).toMatch(/; palette$/);
    // A lossless WebP: its bitstream chunk is VP8L (lossy is VP8).
    expect(encoded.bytes.subarray(12, 16).toString('latin1')).toBe('VP8L');
    expect(report.distance ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(
      DEFAULT_LIMITS.quality.auto.distance,
    );
    const lossy = await encode(reference, { ...base('webp'), quality: QUALITY_WINDOWS.webp.min });
    expect(encoded.bytes.length).toBeLessThan(1.2 * lossy.bytes.length);
  });

  it.each(['receipt-photo.jpg', 'kodim23-q95.jpg'])(
    'keeps %s (noisy pixels) as a lossy WebP',
    async (name) => {
      const bytes = name.startsWith('kodim') ? fixture(name) : documentFixture(name);
      const reference = await at828(bytes);
      expect(flatShare(reference)).toBeLessThan(MIN_FLAT);
      const { encoded, report } = await encodeWithQuality(reference, base('webp'), 'auto', QUALITY);
      expect(report.palette).toBeUndefined();
      expect(encoded.bytes.subarray(12, 16).toString('latin1')).toBe('VP8 ');
    },
  );
});
