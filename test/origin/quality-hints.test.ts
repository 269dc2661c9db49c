/**
 * Quality reuse (quality-hints.ts): what one variant's search chose becomes the first candidate
 * of the same image's other variants; the search itself still meets its target, and the
 * candidate it returns is one it measured.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createComparator, type PixelView } from '../../origin-fn/transform/distance.ts';
import { encode } from '../../origin-fn/transform/encode.ts';
import { DEFAULT_LIMITS, QUALITY_WINDOWS } from '../../origin-fn/transform/index.ts';
import { TYPICAL_QUALITY, typicalQuality } from '../../origin-fn/transform/quality.ts';
import {
  createQualityHints,
  type Learnt,
  type QualityHints,
} from '../../origin-fn/transform/quality-hints.ts';
import { searchQuality } from '../../origin-fn/transform/quality-search.ts';
import { transformMany } from '../../origin-fn/transform/transform-many.ts';
import { fixture, spec } from '../helpers/images.ts';

const learnt = (over: Partial<Learnt>): Learnt => ({
  format: 'jpeg',
  profile: 'auto',
  pixels: 500_000,
  quality: 80,
  ...over,
});

async function decodeRaw(bytes: Buffer): Promise<PixelView> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

describe('quality hints', () => {
  it('gives nothing before any search of the image', () => {
    expect(createQualityHints().startFor('webp', 'auto', 3_000_000, true)).toBeUndefined();
  });

  it("starts a sampled search at the same format's quality at the nearest size", () => {
    const hints = createQualityHints();
    hints.learn(learnt({ format: 'jpeg', pixels: 50_000, quality: 88 }));
    hints.learn(learnt({ format: 'jpeg', pixels: 500_000, quality: 82 }));
    hints.learn(learnt({ format: 'webp', pixels: 500_000, quality: 86 }));
    expect(hints.startFor('jpeg', 'auto', 2_700_000, true)).toBe(82);
    expect(hints.startFor('webp', 'auto', 2_700_000, true)).toBe(86);
    expect(hints.startFor('avif', 'auto', 2_700_000, true)).toBeUndefined();
  });

  it('leaves a whole-image search to its own guess', () => {
    const hints = createQualityHints();
    hints.learn(learnt({ format: 'jpeg', pixels: 50_000, quality: 88 }));
    expect(hints.startFor('jpeg', 'auto', 500_000, false)).toBeUndefined();
  });

  it('keeps the auto and lite profiles apart', () => {
    const hints = createQualityHints();
    hints.learn(learnt({ profile: 'lite', quality: 60 }));
    expect(hints.startFor('jpeg', 'auto', 2_700_000, true)).toBeUndefined();
    expect(hints.startFor('jpeg', 'lite', 2_700_000, true)).toBe(60);
  });
});

describe('the typical quality a search starts from', () => {
  it('is the large-output one only for a sampled output at about the source resolution', () => {
    const { display, large } = TYPICAL_QUALITY;
    // A 1920 px variant of a 4032 px camera photo has lost its sensor noise: display values.
    expect(typicalQuality('jpeg', 'auto', true, 1920, 4032)).toBe(display.auto.jpeg);
    expect(typicalQuality('avif', 'lite', true, 1290, 5760)).toBe(display.lite.avif);
    // The photo at (nearly) its own size, or a source of unknown size: large values.
    expect(typicalQuality('jpeg', 'auto', true, 4032, 4032)).toBe(large.auto.jpeg);
    expect(typicalQuality('webp', 'auto', true, 3200, 4032)).toBe(large.auto.webp);
    expect(typicalQuality('jpeg', 'auto', true, 1920, undefined)).toBe(large.auto.jpeg);
    // Searched whole (≤ 1 MP): display values, whatever the scale.
    expect(typicalQuality('jpeg', 'auto', false, 768, 768)).toBe(display.auto.jpeg);
  });
});

describe('a search started from a hint', () => {
  it('encodes the hinted quality first, still meets the target and returns a measured candidate', async () => {
    const pixels = await decodeRaw(fixture('kodim03-q95.jpg'));
    const raw = { ...pixels, data: Buffer.from(pixels.data), channels: 3 as const };
    for (const start of [50, 70, 90]) {
      const calls: number[] = [];
      const result = await searchQuality({
        reference: pixels,
        window: QUALITY_WINDOWS.jpeg,
        typical: 84,
        start,
        target: DEFAULT_LIMITS.quality.auto.distance,
        fallback: 85,
        maxEncodes: 8,
        finalEncode: false,
        deadline: Number.POSITIVE_INFINITY,
        now: () => 0,
        encodeAt: async (q) => {
          calls.push(q);
          return (await encode(raw, { format: 'jpeg', quality: q, dropAlpha: false, greyscale: false }))
            .bytes;
        },
        decodeRaw,
      });
      expect(calls[0], `start ${start}`).toBe(start);
      expect(result.fallback).toBe(false);
      expect(result.distance).toBeLessThanOrEqual(DEFAULT_LIMITS.quality.auto.distance);
      expect(createComparator(pixels).distance(await decodeRaw(result.bytes ?? Buffer.alloc(0)))).toBe(
        result.distance,
      );
    }
  });
});

describe('transformMany reuses what its searches learn', () => {
  // 1536 × 1024: the full-size variant is searched on a tile sample, the 256 px ones whole.
  const specs = [
    spec({ width: 256, format: 'avif' }),
    spec({ width: 256, format: 'jpeg' }),
    spec({ format: 'avif' }),
    spec({ format: 'jpeg' }),
  ];
  const photo = () =>
    sharp(fixture('kodim23-q95.jpg')).resize({ width: 1536 }).jpeg({ quality: 92 }).toBuffer();

  it('searches smallest first; the sampled searches start where their format landed at 256 px', async () => {
    const real = createQualityHints();
    const asked: Array<{ format: string; pixels: number; start: number | undefined }> = [];
    const learnt: Learnt[] = [];
    const spy: QualityHints = {
      startFor: (format, profile, pixels, sampled) => {
        const start = real.startFor(format, profile, pixels, sampled);
        asked.push({ format, pixels, start });
        return start;
      },
      learn: (l) => {
        learnt.push(l);
        real.learn(l);
      },
    };
    const outcomes = await transformMany(await photo(), specs, DEFAULT_LIMITS, { hints: spy });
    expect(asked.map((a) => a.pixels)).toEqual([...asked.map((a) => a.pixels)].sort((a, b) => a - b));
    for (const a of asked.filter((x) => x.pixels > 1_000_000))
      expect(a.start, a.format).toBe(learnt.find((l) => l.format === a.format)?.quality);
    expect(asked.filter((a) => a.start !== undefined)).toHaveLength(2);
    for (const o of outcomes) {
      if (!o.ok) throw o.error;
      expect(o.result.qualityReport.mode).toBe('search');
      expect(o.result.qualityReport.distance).toBeLessThanOrEqual(DEFAULT_LIMITS.quality.auto.distance);
    }
  });

  it('gives the same formats and sizes with reuse off, within 10 % of the bytes', async () => {
    const input = await photo();
    const on = await transformMany(input, specs, DEFAULT_LIMITS);
    const off = await transformMany(input, specs, DEFAULT_LIMITS, { reuseQuality: false });
    for (const [i, o] of on.entries()) {
      const p = off[i];
      if (!o.ok || !p?.ok) throw new Error(`spec ${i} failed`);
      expect(o.result.format).toBe(p.result.format);
      expect([o.result.width, o.result.height]).toEqual([p.result.width, p.result.height]);
      expect(o.result.bytes.length / p.result.bytes.length).toBeGreaterThan(0.9);
      expect(o.result.bytes.length / p.result.bytes.length).toBeLessThan(1.1);
    }
  });
});
