/**
 * Pre-warm benchmark: Data Units per hour on this machine, for units of 4 photos (12 MP class
 * camera JPEGs from ../shared/corpus, else the Kodak fixtures) × 2 presets (thumb, mobile),
 * pre-warmed through the real pipeline over s3rver (HEAD every variant, GET the original,
 * transform, PUT, verify by decoding), in three ways:
 *  - bare: the same transforms, called directly on bytes in memory with the same concurrency
 *    (the floor: no storage, no planning, no verification), run before and after the others;
 *  - 1 unit per call: one `run()` per Data Unit (an SQS message per unit, or a CLI run each);
 *  - 50 units per call: one `run()` with 50 units (clubbing);
 *  - in-memory store: the pipeline with an in-memory storage port instead of s3rver. s3rver
 *    runs in this process and takes its CPU from the same 2 cores; on Lambda S3 is elsewhere, so
 *    this mode is the pipeline's own overhead (planning, HEADs, probe, verify decode).
 * Every unit names its own 4 originals (distinct keys, so nothing is deduplicated away); the
 * keys are aliases of the 4 photo files, which s3rver stores once (bounded disk), and each alias
 * is a real GetObject of the whole photo.
 * The bench pre-warms one format (WebP) to stay within a couple of minutes; the per-format cost
 * of each variant (AVIF, WebP, JPEG) is measured separately, single-threaded, and drives the
 * Lambda extrapolation for the default formats (all three).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { DEFAULT_GRAMMAR_CONFIG } from '../edge-fn/grammar/index.ts';
import type { OutputFormat } from '../edge-fn/grammar/types.ts';
import type { StoredObject } from '../origin-fn/image-store.ts';
import { createLog } from '../origin-fn/log.ts';
import { createTransformer, DEFAULT_LIMITS } from '../origin-fn/transform/index.ts';
import { planVariants } from '../prewarm/plan.ts';
import { createS3PrewarmStore, type PrewarmStore } from '../prewarm/prewarm-store.ts';
import { createPrewarmer, type InputItem, type PrewarmSettings } from '../prewarm/prewarmer.ts';
import { createLimiter } from '../prewarm/scheduler.ts';
import { startS3rver } from '../test/helpers/s3rver.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PRESETS = ['thumb', 'mobile'];
const BENCH_FORMAT: OutputFormat = 'webp';
const PHOTOS_PER_UNIT = 4;
const SINGLE_CALLS = 6;
const BATCH_UNITS = 50;
const BARE_UNITS = 8;
const MEMORY_UNITS = 20;
const TARGET_RATIO = 0.9;
const log = (message: string) => process.stderr.write(`[prewarm] ${message}\n`);
const round = (n: number, digits: number) => Number(n.toFixed(digits));

/** Lambda assumptions for the extrapolation (us-east-1 list prices, x86). */
export const LAMBDA = {
  memoryMb: 1769, // 1 full vCPU
  usdPerGbSecond: 0.0000166667,
  usdPerMillionRequests: 0.2,
  unitsPerInvocation: 50,
  s3PutUsdPer1000: 0.005,
  s3GetUsdPer1000: 0.0004,
  defaultFormats: ['avif', 'webp', 'jpeg'] as OutputFormat[],
};

function loadPhotos(): { dir: string; fallback: boolean; files: string[] } {
  const dir = resolve(repoRoot, '..', 'shared', 'corpus', 'photos', 'camera');
  if (existsSync(dir)) {
    // The 12 MP class: 10.5–13.5 megapixels.
    const manifest = JSON.parse(readFileSync(resolve(dir, '..', '..', 'manifest.json'), 'utf8')) as Array<{
      file: string;
      width: number;
      height: number;
    }>;
    const files = manifest
      .filter((m) => m.file.startsWith('photos/camera/') && /\.jpe?g$/i.test(m.file))
      .filter((m) => m.width * m.height >= 10.5e6 && m.width * m.height <= 13.5e6)
      .map((m) => resolve(dir, '..', '..', m.file))
      .slice(0, PHOTOS_PER_UNIT);
    if (files.length === PHOTOS_PER_UNIT) return { dir, fallback: false, files };
  }
  const fixtures = resolve(repoRoot, 'test', 'fixtures', 'images');
  const kodak = readdirSync(fixtures)
    .filter((f) => /^kodim.*-q95\.jpg$/.test(f))
    .map((f) => resolve(fixtures, f));
  const files = Array.from({ length: PHOTOS_PER_UNIT }, (_, i) => kodak[i % kodak.length] as string);
  return { dir: fixtures, fallback: true, files };
}

/** Originals named `bench/<run>/u<i>/p<j>.jpg` are read from `photos/p<j>.jpg` (one stored copy). */
function aliasing(store: PrewarmStore): PrewarmStore {
  const real = (key: string) => key.replace(/^bench\/[^/]+\/u[0-9]+\//, 'photos/');
  return {
    ...store,
    getOriginal: (key, max) => store.getOriginal(real(key), max),
    headOriginal: (key) => store.headOriginal(real(key)),
  };
}

/** The storage port in memory (no S3 at all): isolates the pipeline's own CPU cost. */
function memoryStore(photos: Buffer[]): PrewarmStore {
  const variants = new Map<string, StoredObject>();
  const photo = (key: string) => photos[Number(/p([0-9]+)\.jpg$/.exec(key)?.[1])] as Buffer;
  return {
    getOriginal: async (key) => ({ bytes: photo(key), etag: 'etag', metadata: {} }),
    headOriginal: async (key) => ({ bytes: photo(key).length, metadata: {} }),
    headVariant: async (key) => {
      const v = variants.get(key);
      return v ? { bytes: v.bytes.length, metadata: v.metadata } : undefined;
    },
    getVariant: async (key) => variants.get(key),
    putVariant: async (v) => {
      variants.set(v.key, { bytes: v.bytes, contentType: v.contentType, metadata: v.metadata });
    },
    putOriginal: async () => undefined,
    listVariants: async () => [],
    deleteVariants: async () => undefined,
  };
}

const unitsFor = (run: string, from: number, count: number): InputItem[] =>
  Array.from({ length: count }, (_, i) => ({
    seq: i + 1,
    unit: {
      id: `${run}-${from + i}`,
      text: 'Which of these photos shows the product label?',
      images: Array.from({ length: PHOTOS_PER_UNIT }, (_, j) => ({
        url: `bench/${run}/u${from + i}/p${j}.jpg`,
      })),
    },
  }));

export async function runPrewarmBench() {
  const started = performance.now();
  const photos = loadPhotos();
  const bytes = photos.files.map((f) => readFileSync(f));
  const sizes = await Promise.all(bytes.map(async (b) => sharp(b).metadata()));
  const concurrency = Math.max(1, Math.min(8, os.availableParallelism()));
  log(
    `${PHOTOS_PER_UNIT} photos ${photos.fallback ? '(fallback: Kodak fixtures)' : ''}: ${sizes.map((m) => `${m.width}×${m.height}`).join(', ')}; concurrency ${concurrency}`,
  );
  const transformer = createTransformer(DEFAULT_LIMITS);
  const specs = (format: OutputFormat) =>
    PRESETS.flatMap((preset) => planVariants('photos/p.jpg', [preset], [format], DEFAULT_GRAMMAR_CONFIG)).map(
      (p) => p.spec,
    );

  // Per-variant cost by format, single-threaded (one transform at a time), after one warm-up.
  await transformer.transform(
    bytes[0] as Buffer,
    specs('jpeg')[0] as NonNullable<ReturnType<typeof specs>[0]>,
  );
  const perFormatMs: Record<string, number> = {};
  for (const format of LAMBDA.defaultFormats) {
    const t0 = performance.now();
    let n = 0;
    for (const b of bytes)
      for (const spec of specs(format)) {
        await transformer.transform(b, spec);
        n++;
      }
    perFormatMs[format] = round((performance.now() - t0) / n, 1);
  }
  log(`ms per variant (1 thread): ${JSON.stringify(perFormatMs)}`);

  // Bare: the same transforms on bytes in memory, with the pipeline's CPU concurrency. Run
  // before and after the pipeline modes; their mean is the reference (the machine is shared).
  const cpu = createLimiter(concurrency);
  const bare = async (units: number) => {
    const t0 = performance.now();
    const jobs: Promise<unknown>[] = [];
    for (let u = 0; u < units; u++)
      for (const b of bytes)
        for (const spec of specs(BENCH_FORMAT)) jobs.push(cpu.run(() => transformer.transform(b, spec)));
    await Promise.all(jobs);
    const seconds = (performance.now() - t0) / 1000;
    log(`bare: ${units} units in ${seconds.toFixed(1)} s → ${Math.round((units / seconds) * 3600)} units/h`);
    return (units / seconds) * 3600;
  };
  const bareBefore = await bare(BARE_UNITS);

  const s3 = await startS3rver({ buckets: ['bench-originals', 'bench-variants'] });
  try {
    for (let j = 0; j < PHOTOS_PER_UNIT; j++)
      await s3.client.send(
        new PutObjectCommand({
          Bucket: 'bench-originals',
          Key: `photos/p${j}.jpg`,
          Body: bytes[j],
          ContentType: 'image/jpeg',
        }),
      );
    const store = aliasing(
      createS3PrewarmStore({
        client: s3.client,
        originalsBucket: 'bench-originals',
        variantsBucket: 'bench-variants',
      }),
    );
    const settings: PrewarmSettings = {
      grammar: DEFAULT_GRAMMAR_CONFIG,
      limits: DEFAULT_LIMITS,
      originalsBucket: 'bench-originals',
      cdnBase: 'https://cdn.example.test',
      presets: PRESETS,
      formats: [BENCH_FORMAT],
      rewrite: 'preset',
      rewritePreset: 'mobile',
      concurrency,
      attempts: 4,
      window: BATCH_UNITS,
      verifyCdn: false,
      ingest: { hosts: [], allowAddresses: [], maxBytes: 1, timeoutMs: 1, maxRedirects: 0 },
      selectors: [],
    };
    const logger = createLog({ level: 'silent' });
    const check = (failed: number, mode: string) => {
      if (failed > 0) throw new Error(`bench ${mode}: ${failed} units failed`);
    };

    const singleStart = performance.now();
    for (let u = 0; u < SINGLE_CALLS; u++) {
      // A fresh pre-warmer per call, as a cold-ish Lambda invocation per message would be.
      const p = createPrewarmer({ store, transformer, settings, log: logger });
      const totals = await p.run(unitsFor('single', u, 1), () => undefined);
      check(totals.units.failed, 'single');
    }
    const singleSeconds = (performance.now() - singleStart) / 1000;
    const singleUnitsPerHour = (SINGLE_CALLS / singleSeconds) * 3600;
    log(
      `1 unit per call: ${SINGLE_CALLS} units in ${singleSeconds.toFixed(1)} s → ${Math.round(singleUnitsPerHour)} units/h`,
    );

    const p = createPrewarmer({ store, transformer, settings, log: logger });
    const batchStart = performance.now();
    const totals = await p.run(unitsFor('batch', 0, BATCH_UNITS), () => undefined);
    check(totals.units.failed, 'batch');
    const batchSeconds = (performance.now() - batchStart) / 1000;
    const batchUnitsPerHour = (BATCH_UNITS / batchSeconds) * 3600;
    log(
      `50 units per call: ${BATCH_UNITS} units in ${batchSeconds.toFixed(1)} s → ${Math.round(batchUnitsPerHour)} units/h`,
    );

    const memory = createPrewarmer({ store: memoryStore(bytes), transformer, settings, log: logger });
    const memoryStart = performance.now();
    check((await memory.run(unitsFor('memory', 0, MEMORY_UNITS), () => undefined)).units.failed, 'memory');
    const memorySeconds = (performance.now() - memoryStart) / 1000;
    const memoryUnitsPerHour = (MEMORY_UNITS / memorySeconds) * 3600;
    log(
      `${MEMORY_UNITS} units per call, in-memory store: ${memorySeconds.toFixed(1)} s → ${Math.round(memoryUnitsPerHour)} units/h`,
    );
    const bareAfter = await bare(BARE_UNITS);
    const bareUnitsPerHour = (bareBefore + bareAfter) / 2;

    // Extrapolation to 1,000,000 units/hour on Lambda, default formats (avif, webp, jpeg).
    // CPU per unit on Lambda: the bare transform cost × the pipeline's own overhead (in-memory
    // store: on Lambda S3 runs elsewhere, and its latency overlaps other originals' transforms).
    const overhead = bareUnitsPerHour / memoryUnitsPerHour;
    const variantsPerUnit = PHOTOS_PER_UNIT * PRESETS.length * LAMBDA.defaultFormats.length;
    const coreSecondsPerUnit =
      (PHOTOS_PER_UNIT *
        PRESETS.length *
        LAMBDA.defaultFormats.reduce((s, f) => s + (perFormatMs[f] ?? 0), 0) *
        overhead) /
      1000;
    const target = 1_000_000;
    const lambdaSecondsPerHour = target * coreSecondsPerUnit; // 1 vCPU per function
    const concurrent = Math.ceil(lambdaSecondsPerHour / 3600);
    const computeUsd = lambdaSecondsPerHour * (LAMBDA.memoryMb / 1024) * LAMBDA.usdPerGbSecond;
    const requestsUsd = (target / LAMBDA.unitsPerInvocation / 1e6) * LAMBDA.usdPerMillionRequests;
    const putsUsd = ((target * variantsPerUnit) / 1000) * LAMBDA.s3PutUsdPer1000;
    const getsUsd = ((target * (variantsPerUnit + PHOTOS_PER_UNIT)) / 1000) * LAMBDA.s3GetUsdPer1000; // HEADs + original GETs
    const lambda = {
      unitsPerHour: target,
      variantsPerUnit,
      coreSecondsPerUnit: round(coreSecondsPerUnit, 2),
      concurrentFunctions: concurrent,
      computeUsdPerHour: round(computeUsd, 2),
      invocationsUsdPerHour: round(requestsUsd, 2),
      s3PutUsdPerHour: round(putsUsd, 2),
      s3GetHeadUsdPerHour: round(getsUsd, 2),
      totalUsdPerHour: round(computeUsd + requestsUsd + putsUsd + getsUsd, 2),
      usdPerMillionUnits: round(computeUsd + requestsUsd + putsUsd + getsUsd, 2),
      assumptions: LAMBDA,
    };
    const ratio = batchUnitsPerHour / bareUnitsPerHour;
    return {
      photos: {
        dir: photos.dir,
        fallback: photos.fallback,
        sizes: sizes.map((m, i) => ({ size: `${m.width}×${m.height}`, bytes: bytes[i]?.length })),
      },
      presets: PRESETS,
      format: BENCH_FORMAT,
      concurrency,
      msPerVariantOneThread: perFormatMs,
      unitsPerHour: {
        bare: Math.round(bareUnitsPerHour),
        oneUnitPerCall: Math.round(singleUnitsPerHour),
        fiftyUnitsPerCall: Math.round(batchUnitsPerHour),
      },
      ratioToBare: {
        oneUnitPerCall: round(singleUnitsPerHour / bareUnitsPerHour, 3),
        fiftyUnitsPerCall: round(ratio, 3),
      },
      target: TARGET_RATIO,
      meetsTarget: ratio >= TARGET_RATIO,
      lambda,
      loadAverageAtEnd: os.loadavg().map((l) => round(l, 2)),
      elapsedSeconds: round((performance.now() - started) / 1000, 1),
    };
  } finally {
    await s3.stop();
  }
}
