/**
 * `npm run bench -- variants` (issue 15): CPU per original for the default pre-warm set
 * (presets thumb, mobile, full × the f=auto formats AVIF, WebP, JPEG = 9 variants, q=auto),
 * three ways, interleaved photo by photo in one process so the machine's noise hits all alike:
 *  - before: `transform` once per spec, then a verify decode of every variant: what the
 *    pre-warm did before transform-many.ts (each variant decoded, resized and searched alone),
 *    with the transform core of LITEPIX_BENCH_BASELINE=<a checkout of an earlier commit, e.g.
 *    `git archive e1a3791` unpacked with node_modules linked>: the old code itself, measured in
 *    the same run (without it, today's `transform`, as perVariant);
 *  - perVariant: the same with today's `transform` (today's first guesses, no one-decode);
 *  - oneDecode: `transformMany` without quality reuse (one decode per original, smaller sizes
 *    from larger pixels), verify decodes only where the search did not decode the bytes;
 *  - reuse: the same with each search started from what the image's earlier searches chose
 *    (quality-hints.ts): the pre-warm's path;
 *  - fixedQuality: one decode and one encode per variant at the profile's fixed fallback quality,
 *    every variant verify-decoded: what the variants cost without any search (a floor for the
 *    search's savings, not a mode the pre-warm has).
 * For each: CPU seconds (this process, all threads), encoder runs, verify decodes, bytes, the
 * search's own distance of the chosen candidates, and butteraugli (3-norm, `butteraugli_main`
 * from Debian libjxl-devtools, when installed) of every variant of the first round against the
 * direct resize of the source (1920 px variants: a centred 1024 px crop of both).
 *
 * Then the origin's cold miss (a single variant, `transform`): 8–22 MP camera JPEGs → w828
 * q=auto against one fixed encode at the profile's fallback, JPEG and WebP, and the 22 MP
 * photo → w1290 AVIF; interleaved, CPU time; for the baseline checkout too when given.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { DEFAULT_GRAMMAR_CONFIG } from '../edge-fn/grammar/index.ts';
import type { OutputFormat, VariantSpec } from '../edge-fn/grammar/types.ts';
import { createTransformer, DEFAULT_LIMITS } from '../origin-fn/transform/index.ts';
import { transformMany } from '../origin-fn/transform/transform-many.ts';
import type { Transformer, TransformResult } from '../origin-fn/transform/types.ts';
import { planVariants } from '../prewarm/plan.ts';
import { loadPhotos } from './prewarm.ts';

const ROUNDS = 2;
/**
 * The search's time budget (wall clock) is lifted: on a loaded machine it would cut some
 * searches short, so encodes, bytes and quality would depend on the load, not on the code.
 */
const NO_BUDGET_MS = 60_000; // the largest the limits accept
const unbudgeted = <L extends { quality: { budgetMs: number } }>(limits: L): L => ({
  ...limits,
  quality: { ...limits.quality, budgetMs: NO_BUDGET_MS },
});
const LIMITS = unbudgeted(DEFAULT_LIMITS);
const ORIGIN_ROUNDS = 3;
const CROP = 1024;
const MODES = ['before', 'perVariant', 'oneDecode', 'reuse', 'fixedQuality'] as const;
type Mode = (typeof MODES)[number];
/** Modes judged by butteraugli (slow: 1024 px crops, first round only). */
const JUDGED: readonly Mode[] = ['before', 'oneDecode', 'reuse', 'fixedQuality'];
const log = (message: string) => process.stderr.write(`[variants] ${message}\n`);
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const round = (n: number, digits = 3) => Number(n.toFixed(digits));
const p90 = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)] ?? Number.NaN;
};
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

interface Tally {
  cpu: number;
  encodes: number;
  verifyDecodes: number;
  bytes: number;
  searchDistances: number[];
  butteraugli: number[];
}
const newTally = (): Tally => ({
  cpu: 0,
  encodes: 0,
  verifyDecodes: 0,
  bytes: 0,
  searchDistances: [],
  butteraugli: [],
});

const hasButteraugli = () => {
  try {
    execFileSync('butteraugli_main', ['--help'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    return (err as { status?: number }).status !== undefined; // ran, exited non-zero: installed
  }
};

/** PNG of an image, cropped to the centred CROP × CROP when larger. */
async function judgePng(image: Sharp, width: number, height: number): Promise<Buffer> {
  const crop =
    width > CROP || height > CROP
      ? image.extract({
          left: (width - Math.min(CROP, width)) >> 1,
          top: (height - Math.min(CROP, height)) >> 1,
          width: Math.min(CROP, width),
          height: Math.min(CROP, height),
        })
      : image;
  return crop.toColourspace('srgb').png({ compressionLevel: 1 }).toBuffer();
}

function butteraugli(dir: string, ref: Buffer, cand: Buffer): number {
  writeFileSync(join(dir, 'ref.png'), ref);
  writeFileSync(join(dir, 'cand.png'), cand);
  const out = execFileSync(
    'butteraugli_main',
    [join(dir, 'ref.png'), join(dir, 'cand.png'), '--pnorm', '3'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  ).toString();
  const line = out.split('\n').find((l) => l.startsWith('3-norm')) ?? '';
  return Number(line.split(':')[1]);
}

/** The transform core of the baseline checkout (LITEPIX_BENCH_BASELINE), or today's. */
async function baselineTransformer(): Promise<{ transformer: Transformer; from: string }> {
  const dir = process.env.LITEPIX_BENCH_BASELINE;
  if (dir === undefined || dir === '')
    return { transformer: createTransformer(LIMITS), from: 'this checkout' };
  const entry = resolve(dir, 'origin-fn', 'transform', 'index.ts');
  if (!existsSync(entry))
    throw new Error(
      `LITEPIX_BENCH_BASELINE=${dir} has no origin-fn/transform/index.ts: expected a litepix checkout`,
    );
  const core = (await import(entry)) as {
    createTransformer: (limits: unknown) => Transformer;
    DEFAULT_LIMITS: typeof DEFAULT_LIMITS;
  };
  return { transformer: core.createTransformer(unbudgeted(core.DEFAULT_LIMITS)), from: dir };
}

/** Full decode, as verify.ts does for bytes the search did not decode. */
const verifyDecode = (bytes: Buffer) => sharp(bytes).raw().toBuffer();

async function runMode(
  mode: Mode,
  photo: Buffer,
  specs: VariantSpec[],
  before: Transformer,
): Promise<TransformResult[]> {
  if (mode === 'before' || mode === 'perVariant') {
    const transformer = mode === 'before' ? before : createTransformer(LIMITS);
    const out: TransformResult[] = [];
    for (const spec of specs) {
      const result = await transformer.transform(photo, spec);
      await verifyDecode(result.bytes);
      out.push(result);
    }
    return out;
  }
  const fallback = DEFAULT_LIMITS.quality.auto.fallback;
  const wanted = mode === 'fixedQuality' ? specs.map((s) => ({ ...s, quality: fallback[s.format] })) : specs;
  const outcomes = await transformMany(photo, wanted, LIMITS, { reuseQuality: mode === 'reuse' });
  const out: TransformResult[] = [];
  for (const o of outcomes) {
    if (!o.ok) throw o.error;
    if (!o.result.decodedInProcess) await verifyDecode(o.result.bytes);
    out.push(o.result);
  }
  return out;
}

export async function runVariantsBench() {
  const photos = loadPhotos();
  const bytes = photos.files.map((f) => readFileSync(f));
  const planned = planVariants(
    'photos/p.jpg',
    ['thumb', 'mobile', 'full'],
    ['avif', 'webp', 'jpeg'],
    DEFAULT_GRAMMAR_CONFIG,
  );
  const specs = planned.map((p) => p.spec);
  const baseline = await baselineTransformer();
  log(`before: the transform core of ${baseline.from}`);
  const judging = hasButteraugli();
  if (!judging) log('butteraugli_main not found (Debian libjxl-devtools): no butteraugli figures');
  const dir = mkdtempSync(join(tmpdir(), 'litepix-variants-'));
  const tallies = Object.fromEntries(MODES.map((m) => [m, newTally()])) as Record<Mode, Tally>;
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const [p, photo] of bytes.entries()) {
        const made = {} as Record<Mode, TransformResult[]>;
        // Rotate the order each photo so no mode always runs first (warm caches, load swings).
        const order = MODES.map((_, i) => MODES[(i + p + r) % MODES.length] as Mode);
        for (const mode of order) {
          const c0 = cpuNow();
          made[mode] = await runMode(mode, photo, specs, baseline.transformer);
          const t = tallies[mode];
          t.cpu += cpuNow() - c0;
          for (const v of made[mode]) {
            t.encodes += v.qualityReport.encodes;
            const allVerified = mode === 'before' || mode === 'perVariant';
            t.verifyDecodes += allVerified || !v.decodedInProcess ? 1 : 0; // as runMode did
            t.bytes += v.bytes.length;
            if (v.qualityReport.distance !== undefined) t.searchDistances.push(v.qualityReport.distance);
          }
        }
        log(
          `round ${r + 1} photo ${p + 1}: ${MODES.map((m) => `${m} ${made[m].reduce((s, v) => s + v.qualityReport.encodes, 0)} encodes`).join(', ')}`,
        );
        if (!judging || r > 0) continue;
        for (const i of specs.keys()) {
          for (const mode of JUDGED) {
            const v = made[mode][i] as TransformResult;
            const reference = await judgePng(
              sharp(photo).autoOrient().resize({ width: v.width, height: v.height, fit: 'fill' }),
              v.width,
              v.height,
            );
            const cand = await judgePng(sharp(v.bytes), v.width, v.height);
            tallies[mode].butteraugli.push(butteraugli(dir, reference, cand));
          }
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const originals = ROUNDS * bytes.length;
  const base = tallies.before;
  const summary = Object.fromEntries(
    MODES.map((m) => {
      const t = tallies[m];
      return [
        m,
        {
          cpuSecondsPerOriginal: round(t.cpu / originals),
          cpuRatio: round(t.cpu / base.cpu),
          encodesPerOriginal: round(t.encodes / originals, 2),
          verifyDecodesPerOriginal: round(t.verifyDecodes / originals, 2),
          bytesRatio: round(t.bytes / base.bytes, 4),
          searchDistanceMedian: round(median(t.searchDistances)),
          searchDistanceP90: round(p90(t.searchDistances)),
          butteraugliP90: judging && JUDGED.includes(m) ? round(p90(t.butteraugli)) : undefined,
          butteraugliMax: judging && JUDGED.includes(m) ? round(Math.max(...t.butteraugli)) : undefined,
        },
      ];
    }),
  );
  return {
    photos: photos.files.map((f) => f.split('/').pop()),
    fallback: photos.fallback,
    before: baseline.from,
    rounds: ROUNDS,
    variantsPerOriginal: specs.length,
    modes: summary,
    origin: {
      after: await originColdMiss(createTransformer(LIMITS)),
      ...(baseline.from === 'this checkout' ? {} : { before: await originColdMiss(baseline.transformer) }),
    },
  };
}

/** Camera JPEGs of 8–22 MP from the corpus (all of them), or nothing. */
function cameraPhotos(dir: string): Array<{ file: string; pixels: number }> {
  const manifest = resolve(dir, '..', '..', 'manifest.json');
  if (!existsSync(manifest)) return [];
  return (
    JSON.parse(readFileSync(manifest, 'utf8')) as Array<{ file: string; width: number; height: number }>
  )
    .filter((m) => m.file.startsWith('photos/camera/') && /\.jpe?g$/i.test(m.file))
    .map((m) => ({ file: resolve(dir, '..', '..', m.file), pixels: m.width * m.height }));
}

/** The origin's single-variant path: q=auto ÷ one fixed encode at the fallback, CPU time. */
async function originColdMiss(transformer: Transformer) {
  const photos = cameraPhotos(loadPhotos().dir);
  if (photos.length === 0) return { note: 'corpus missing: no origin figures' };
  const fallback = DEFAULT_LIMITS.quality.auto.fallback;
  const cases: Array<{ name: string; width: number; format: OutputFormat; files: string[] }> = [
    { name: 'w828 jpeg', width: 828, format: 'jpeg', files: photos.map((p) => p.file) },
    { name: 'w828 webp', width: 828, format: 'webp', files: photos.map((p) => p.file) },
    {
      name: '22 MP w1290 avif',
      width: 1290,
      format: 'avif',
      files: photos.filter((p) => p.pixels > 20e6).map((p) => p.file),
    },
  ];
  const out: Record<string, unknown> = {};
  for (const c of cases) {
    const inputs = c.files.map((f) => readFileSync(f));
    let auto = 0;
    let fixed = 0;
    let encodes = 0;
    let n = 0;
    for (let r = 0; r < ORIGIN_ROUNDS; r++) {
      for (const [i, input] of inputs.entries()) {
        const spec = (quality: VariantSpec['quality']): VariantSpec => ({
          source: 'p.jpg',
          width: c.width,
          fit: 'inside',
          format: c.format,
          quality,
        });
        const runs: Array<[() => Promise<TransformResult>, (s: number) => void]> = [
          [() => transformer.transform(input, spec('auto')), (s) => (auto += s)],
          [() => transformer.transform(input, spec(fallback[c.format])), (s) => (fixed += s)],
        ];
        if ((i + r) % 2 === 1) runs.reverse();
        for (const [run, add] of runs) {
          const c0 = cpuNow();
          const result = await run();
          add(cpuNow() - c0);
          if (result.qualityReport.mode !== 'fixed') encodes += result.qualityReport.encodes;
        }
        n++;
      }
    }
    out[c.name] = {
      photos: inputs.length,
      autoCpuSeconds: round(auto / n),
      fixedCpuSeconds: round(fixed / n),
      ratioToFixed: round(auto / fixed),
      encodesPerVariant: round(encodes / n, 2),
    };
    log(`origin ${c.name}: ${JSON.stringify(out[c.name])}`);
  }
  return out;
}
