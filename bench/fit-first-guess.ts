/**
 * `npx tsx bench/fit-first-guess.ts` (issue 15): where q=auto's search starts (the first guess:
 * TYPICAL_QUALITY's display values moved by DETAIL_SLOPE × (detail − 6)) against where it ends
 * (the chosen quality), under today's distance, and the display-size first-guess values that
 * cost the fewest encoder runs.
 *
 * Cases: the 9 corpus camera photos at w256, w828 and w1920 (tile-sampled, a real downscale:
 * display values) and the 24 Kodak photos at w256 and their own 768 px; JPEG, WebP and AVIF at
 * the auto profile (target 1.0, 5 encoder runs, no time budget). Every search is the real one
 * (searchQuality with real encodes and the real distance); each (case, format, quality)
 * candidate is encoded and measured once and replayed for every set of values tried.
 *
 * Prints, per format: the current values' mean encodes per variant and start − end; the least
 * squares fit of the chosen quality against (detail − 6); and the best (typical, slope) of a
 * grid around that fit (±4 steps, ±0.45 in slope; about 3.5 minutes) by mean encodes (the final full-size encode of sampled cases
 * counted), with the chosen qualities' mean shift (bytes follow the quality).
 */
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { comparatorFor, type PixelView } from '../origin-fn/transform/distance.ts';
import { encode, type RawPixels } from '../origin-fn/transform/encode.ts';
import { DEFAULT_LIMITS } from '../origin-fn/transform/limits.ts';
import { DETAIL_SLOPE, QUALITY_WINDOWS, TYPICAL_QUALITY } from '../origin-fn/transform/quality.ts';
import {
  firstGuess,
  SAMPLE_TILE,
  sampleTiles,
  searchQuality,
} from '../origin-fn/transform/quality-search.ts';

type Format = 'jpeg' | 'webp' | 'avif';
const FORMATS: Format[] = ['jpeg', 'webp', 'avif'];

const repoRoot = resolve(import.meta.dirname, '..');
const corpus = resolve(repoRoot, '..', 'shared', 'corpus', 'photos');
const log = (message: string) => process.stderr.write(`[fit-first-guess] ${message}\n`);

interface Case {
  name: string;
  klass: string;
  searched: PixelView;
  tile: number | undefined;
  activity: number;
  /** The real distance of a candidate (the shared comparator's own, before it was patched to replay). */
  distance: (candidate: PixelView) => number;
  /** Per format: quality → distance of the candidate (filled lazily). */
  ladder: Record<Format, Map<number, number>>;
}

async function load(file: string, width: number): Promise<RawPixels> {
  const { data, info } = await sharp(file)
    .rotate()
    .resize({ width, withoutEnlargement: true })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 3 };
}

async function cases(): Promise<Case[]> {
  const camera = resolve(corpus, 'camera');
  const kodak = resolve(corpus, 'kodak');
  if (!existsSync(camera) || !existsSync(kodak)) throw new Error(`Expected the corpus photos in ${corpus}`);
  const jobs: Array<{ file: string; width: number; klass: string }> = [];
  for (const f of readdirSync(camera)
    .filter((n) => /\.jpe?g$/i.test(n))
    .sort())
    for (const width of [256, 828, 1920])
      jobs.push({ file: resolve(camera, f), width, klass: `camera w${width}` });
  for (const f of readdirSync(kodak)
    .filter((n) => /\.png$/i.test(n))
    .sort())
    for (const width of [256, 768]) jobs.push({ file: resolve(kodak, f), width, klass: `kodak w${width}` });
  const out: Case[] = [];
  for (const job of jobs) {
    const pixels = await load(job.file, job.width);
    const sample = sampleTiles(pixels);
    const searched = sample ?? pixels;
    const tile = sample !== undefined ? SAMPLE_TILE : undefined;
    // searchQuality gets this very comparator (comparatorFor keeps one per pixel buffer): its
    // distance replays the ladder's measured value for the stand-in candidates of encodeAt.
    const comparator = comparatorFor(searched, tile !== undefined ? { tile } : {});
    const activity = comparator.activity;
    const distance = comparator.distance.bind(comparator);
    (comparator as { distance: (v: PixelView) => number }).distance = (v) =>
      (v as PixelView & { replay?: number }).replay ?? distance(v);
    out.push({
      name: `${job.file.split('/').pop()}@${job.width}`,
      klass: job.klass,
      searched,
      tile,
      activity,
      distance,
      ladder: { jpeg: new Map(), webp: new Map(), avif: new Map() },
    });
  }
  return out;
}

let encoderRuns = 0;

async function search(c: Case, format: Format, typical: number, slope: number) {
  const real = c.distance;
  const ladder = c.ladder[format];
  const raw: RawPixels = {
    data: Buffer.from(c.searched.data.buffer, c.searched.data.byteOffset, c.searched.data.byteLength),
    width: c.searched.width,
    height: c.searched.height,
    channels: 3,
  };
  // A candidate's bytes stand for its quality (one byte); the distance is looked up in the ladder.
  const result = await searchQuality({
    reference: c.searched,
    ...(c.tile !== undefined ? { tile: c.tile } : {}),
    window: QUALITY_WINDOWS[format],
    typical,
    detailSlope: slope,
    target: DEFAULT_LIMITS.quality.auto.distance,
    fallback: DEFAULT_LIMITS.quality.auto.fallback[format],
    maxEncodes: DEFAULT_LIMITS.quality.maxEncodes,
    finalEncode: c.tile !== undefined,
    deadline: Number.POSITIVE_INFINITY,
    now: () => 0,
    encodeAt: async (q) => {
      if (!ladder.has(q)) {
        const bytes = (await encode(raw, { format, quality: q, dropAlpha: false, greyscale: false })).bytes;
        encoderRuns++;
        const { data, info } = await sharp(bytes)
          .raw({ depth: 'uchar' })
          .toBuffer({ resolveWithObject: true });
        ladder.set(q, real({ data, width: info.width, height: info.height, channels: info.channels }));
      }
      return Buffer.from([q]);
    },
    decodeRaw: async (bytes) => ({ ...c.searched, replay: ladder.get(bytes[0] as number) }) as PixelView,
  });
  const guess = firstGuess(c.activity, typical, QUALITY_WINDOWS[format], slope);
  return { guess, quality: result.quality, encodes: result.encodes + (c.tile !== undefined ? 1 : 0) };
}

async function evaluate(all: Case[], format: Format, typical: number, slope: number) {
  let encodes = 0;
  let quality = 0;
  const rows: Array<{ c: Case; guess: number; quality: number; encodes: number }> = [];
  for (const c of all) {
    const r = await search(c, format, typical, slope);
    encodes += r.encodes;
    quality += r.quality;
    rows.push({ c, ...r });
  }
  return { encodes: encodes / all.length, quality: quality / all.length, rows };
}

function leastSquares(xs: number[], ys: number[]): { intercept: number; slope: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    sxx += ((xs[i] as number) - mx) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { intercept: my - slope * mx, slope };
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0
    ? Number.NaN
    : ((s[Math.floor((s.length - 1) / 2)] as number) + (s[Math.ceil((s.length - 1) / 2)] as number)) / 2;
};

async function main() {
  const all = await cases();
  log(`${all.length} cases: ${[...new Set(all.map((c) => c.klass))].join(', ')}`);
  log(
    `detail (activity) median ${median(all.map((c) => c.activity)).toFixed(2)}, range ${Math.min(...all.map((c) => c.activity)).toFixed(2)}–${Math.max(...all.map((c) => c.activity)).toFixed(2)}`,
  );
  const suggested: Record<string, { typical: number; slope: number }> = {};
  for (const format of FORMATS) {
    const t0 = TYPICAL_QUALITY.display.auto[format];
    const s0 = DETAIL_SLOPE[format];
    const now = await evaluate(all, format, t0, s0);
    const perClass = new Map<string, { n: number; enc: number; off: number; chosen: number[] }>();
    for (const r of now.rows) {
      const p = perClass.get(r.c.klass) ?? { n: 0, enc: 0, off: 0, chosen: [] };
      p.n++;
      p.enc += r.encodes;
      p.off += r.guess - r.quality;
      p.chosen.push(r.quality);
      perClass.set(r.c.klass, p);
    }
    log(
      `${format}: current typical ${t0}, slope ${s0}: ${now.encodes.toFixed(3)} encodes per variant, mean chosen q ${now.quality.toFixed(2)}`,
    );
    for (const [k, p] of perClass)
      log(
        `  ${k}: ${(p.enc / p.n).toFixed(2)} encodes, start − end ${(p.off / p.n).toFixed(2)}, median chosen ${median(p.chosen)}`,
      );
    const fit = leastSquares(
      now.rows.map((r) => r.c.activity - 6),
      now.rows.map((r) => r.quality),
    );
    log(
      `  least squares: chosen ≈ ${fit.intercept.toFixed(2)} + ${fit.slope.toFixed(3)} × (detail − 6); median chosen ${median(now.rows.map((r) => r.quality))}`,
    );
    let best = { typical: t0, slope: s0, encodes: now.encodes, quality: now.quality };
    const ti = Math.round(fit.intercept);
    const si = Math.round(fit.slope * 20) / 20;
    for (let typical = ti - 4; typical <= ti + 4; typical++)
      for (const slope of [-0.45, -0.3, -0.15, 0, 0.15, 0.3, 0.45]
        .map((d) => si + d)
        .map((s) => Math.round(s * 100) / 100)) {
        const r = await evaluate(all, format, typical, slope);
        if (r.encodes < best.encodes - 1e-9) best = { typical, slope, ...r };
      }
    log(
      `  best of the grid: typical ${best.typical}, slope ${best.slope}: ${best.encodes.toFixed(3)} encodes per variant (was ${now.encodes.toFixed(3)}), mean chosen q ${best.quality.toFixed(2)} (was ${now.quality.toFixed(2)}); encoder runs so far ${encoderRuns}`,
    );
    suggested[format] = { typical: best.typical, slope: best.slope };
  }
  process.stdout.write(`${JSON.stringify({ cases: all.length, suggested }, null, 2)}\n`);
}

await main();
