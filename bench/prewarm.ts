/**
 * Pre-warm benchmark: Data Units per hour on this machine, for units of 4 photos (12 MP class
 * camera JPEGs from ../shared/corpus, else the Kodak fixtures) × 2 presets (thumb, mobile),
 * pre-warmed through the real pipeline over s3rver (GET every variant, GET the original,
 * transform, PUT, verify by decoding), in three ways:
 *  - bare: the same transforms (each original's variants from one decode, `transformMany`),
 *    called directly on bytes in memory with the same concurrency (the floor: no storage, no
 *    planning, no verification);
 *  - in-memory store: the pipeline with an in-memory storage port, interleaved round by round
 *    with bare: the pipeline's own overhead (planning, variant GETs, probe, verify decode);
 *  - 1 unit per call: one `run()` per Data Unit (an SQS message per unit, or a CLI run each),
 *    over s3rver;
 *  - 50 units per call: one `run()` with 50 units (clubbing), over s3rver.
 * s3rver runs in a child process whose CPU time is read from /proc: it shares this machine's
 * cores with the pipeline (on Lambda, S3 runs elsewhere), so each s3rver mode is also reported
 * with that CPU time given back.
 * Every unit names its own 4 originals (distinct keys, so nothing is deduplicated away); the
 * keys are aliases of the 4 photo files, which s3rver stores once (bounded disk), and each alias
 * is a real GetObject of the whole photo.
 * The bench pre-warms one format (WebP) to stay within a couple of minutes; the cost of an
 * original's variants in the default formats (AVIF, WebP, JPEG) from one decode is measured
 * separately, single-threaded, and drives the Lambda extrapolation (the per-variant cost by
 * format, each variant made alone, is reported beside it).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { DEFAULT_GRAMMAR_CONFIG } from '../edge-fn/grammar/index.ts';
import type { OutputFormat } from '../edge-fn/grammar/types.ts';
import { createLog } from '../origin-fn/log.ts';
import { createS3Client } from '../origin-fn/s3-client.ts';
import { createTransformer, DEFAULT_LIMITS } from '../origin-fn/transform/index.ts';
import { createMemoryStore } from '../prewarm/memory-store.ts';
import { planVariants } from '../prewarm/plan.ts';
import { createS3PrewarmStore, type PrewarmStore } from '../prewarm/prewarm-store.ts';
import {
  createPrewarmer,
  type InputItem,
  type Prewarmer,
  type PrewarmSettings,
} from '../prewarm/prewarmer.ts';
import { createLimiter } from '../prewarm/scheduler.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PRESETS = ['thumb', 'mobile'];
const BENCH_FORMAT: OutputFormat = 'webp';
const PHOTOS_PER_UNIT = 4;
const SINGLE_CALLS = 6;
const BATCH_UNITS = 50;
const ROUNDS = 3;
const ROUND_UNITS = 4;
const TARGET_RATIO = 0.9;
const log = (message: string) => process.stderr.write(`[prewarm] ${message}\n`);
const round = (n: number, digits: number) => Number(n.toFixed(digits));

/** Lambda assumptions for the extrapolation (us-east-1 list prices, x86). */
export const LAMBDA = {
  memoryMb: 1769, // 1 full vCPU
  usdPerGbSecond: 0.0000166667,
  usdPerMillionRequests: 0.2,
  unitsPerInvocation: 10, // one job message of 10 units per invocation (the stack's prewarmBatchSize 1)
  s3PutUsdPer1000: 0.005,
  s3GetUsdPer1000: 0.0004,
  defaultFormats: ['avif', 'webp', 'jpeg'] as OutputFormat[],
};

export function loadPhotos(): { dir: string; fallback: boolean; files: string[] } {
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

/** s3rver in a child process (bench/s3rver-process.ts), with its CPU time from /proc. */
async function startS3rverProcess(buckets: string[]): Promise<{
  client: S3Client;
  cpuSeconds(): number;
  stop(): Promise<void>;
}> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(repoRoot, 'bench', 's3rver-process.ts'), ...buckets],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
  const first = await new Promise<string>((ok, fail) => {
    lines.once('line', ok);
    child.once('exit', (code) => fail(new Error(`s3rver process exited with ${code}`)));
  });
  const { port } = JSON.parse(first) as { port: number };
  const client = createS3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const ticks = 100; // USER_HZ on Linux
  return {
    client,
    cpuSeconds() {
      try {
        const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return (Number(fields[11]) + Number(fields[12])) / ticks;
      } catch {
        return 0; // not Linux: no correction
      }
    },
    async stop() {
      client.destroy();
      const exited = new Promise((ok) => child.once('exit', ok));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The storage port in memory (no S3 at all): isolates the pipeline's own CPU cost. Every key `…/p<n>.jpg` is photo n. */
function memoryStore(photos: Buffer[]): PrewarmStore {
  const store = createMemoryStore();
  const photo = (key: string) => photos[Number(/p([0-9]+)\.jpg$/.exec(key)?.[1])] as Buffer;
  return {
    ...store,
    getOriginal: async (key) => ({ bytes: photo(key), etag: 'etag', metadata: {} }),
    headOriginal: async (key) => ({ bytes: photo(key).length, metadata: {} }),
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

  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  // Per-variant cost by format in CPU time (all threads), one transform at a time, after a warm-up.
  await transformer.transform(
    bytes[0] as Buffer,
    specs('jpeg')[0] as NonNullable<ReturnType<typeof specs>[0]>,
  );
  const perFormatMs: Record<string, number> = {};
  for (const format of LAMBDA.defaultFormats) {
    const c0 = cpuNow();
    let n = 0;
    for (const b of bytes)
      for (const spec of specs(format)) {
        await transformer.transform(b, spec);
        n++;
      }
    perFormatMs[format] = round(((cpuNow() - c0) / n) * 1000, 1);
  }
  log(`CPU ms per variant: ${JSON.stringify(perFormatMs)}`);
  // What the pipeline does: every variant of an original (PRESETS × the default formats) from
  // one decode (transformMany), in CPU seconds per original: drives the Lambda extrapolation.
  const allFormats = PRESETS.flatMap((preset) =>
    planVariants('photos/p.jpg', [preset], LAMBDA.defaultFormats, DEFAULT_GRAMMAR_CONFIG),
  ).map((p) => p.spec);
  const many = async (b: Buffer, wanted: typeof allFormats) => {
    for (const o of (await transformer.transformMany?.(b, wanted)) ?? []) if (!o.ok) throw o.error;
  };
  const m0 = cpuNow();
  for (const b of bytes) await many(b, allFormats);
  const cpuPerOriginal = (cpuNow() - m0) / bytes.length;
  log(`CPU s per original, default formats from one decode: ${cpuPerOriginal.toFixed(2)}`);

  // Bare: the same transforms on bytes in memory, with the pipeline's CPU concurrency.
  const cpu = createLimiter(concurrency);
  let bareCpu = 0;
  let memoryCpu = 0;
  const bare = async (units: number) => {
    const c0 = cpuNow();
    const t0 = performance.now();
    const jobs: Promise<unknown>[] = [];
    for (let u = 0; u < units; u++)
      for (const b of bytes) jobs.push(cpu.run(() => many(b, specs(BENCH_FORMAT))));
    await Promise.all(jobs);
    bareCpu += cpuNow() - c0;
    return (performance.now() - t0) / 1000;
  };
  const settings = (originalsBucket: string): PrewarmSettings => ({
    grammar: DEFAULT_GRAMMAR_CONFIG,
    limits: DEFAULT_LIMITS,
    originalsBucket,
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
  });
  const logger = createLog({ level: 'silent' });
  const timed = async (prewarmer: Prewarmer, items: InputItem[], mode: string) => {
    const t0 = performance.now();
    const totals = await prewarmer.run(items, () => undefined);
    if (totals.units.failed > 0) throw new Error(`bench ${mode}: ${totals.units.failed} units failed`);
    return (performance.now() - t0) / 1000;
  };

  // Bare and the pipeline over an in-memory store, interleaved round by round (the machine is
  // shared: interleaving spreads its noise over both alike).
  const memory = memoryStore(bytes);
  let bareSeconds = 0;
  let memorySeconds = 0;
  for (let round = 0; round < ROUNDS; round++) {
    bareSeconds += await bare(ROUND_UNITS);
    const p = createPrewarmer({
      store: memory,
      transformer,
      settings: settings('bench-originals'),
      log: logger,
    });
    const c0 = cpuNow();
    memorySeconds += await timed(p, unitsFor(`memory${round}`, 0, ROUND_UNITS), 'memory');
    memoryCpu += cpuNow() - c0;
  }
  const bareUnitsPerHour = ((ROUNDS * ROUND_UNITS) / bareSeconds) * 3600;
  const bareCpuPerUnit = bareCpu / (ROUNDS * ROUND_UNITS);
  const memoryUnitsPerHour = ((ROUNDS * ROUND_UNITS) / memorySeconds) * 3600;
  log(
    `bare: ${Math.round(bareUnitsPerHour)} units/h; pipeline, in-memory store: ${Math.round(memoryUnitsPerHour)} units/h`,
  );

  const s3 = await startS3rverProcess(['bench-originals', 'bench-variants']);
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
    const cores = os.availableParallelism();
    /** Throughput, and the same with the S3 server's CPU time given back (it shares our cores). */
    const measure = async (mode: string, run: () => Promise<number>, units: number) => {
      const cpu0 = s3.cpuSeconds();
      const own0 = cpuNow();
      const seconds = await run();
      const ownCpu = cpuNow() - own0;
      const s3Cpu = s3.cpuSeconds() - cpu0;
      const unitsPerHour = (units / seconds) * 3600;
      const withoutS3Server = (units / Math.max(0.001, seconds - s3Cpu / cores)) * 3600;
      log(
        `${mode}: ${units} units in ${seconds.toFixed(1)} s → ${Math.round(unitsPerHour)} units/h, ${(ownCpu / units).toFixed(2)} CPU s/unit (+ s3rver ${s3Cpu.toFixed(1)} CPU s)`,
      );
      return {
        unitsPerHour,
        withoutS3Server,
        s3ServerCpuSeconds: s3Cpu,
        seconds,
        cpuPerUnit: ownCpu / units,
      };
    };
    const single = await measure(
      '1 unit per call',
      async () => {
        let total = 0;
        for (let u = 0; u < SINGLE_CALLS; u++) {
          // A fresh pre-warmer per call, as one Lambda invocation per message would be.
          const p = createPrewarmer({
            store,
            transformer,
            settings: settings('bench-originals'),
            log: logger,
          });
          total += await timed(p, unitsFor('single', u, 1), 'single');
        }
        return total;
      },
      SINGLE_CALLS,
    );
    const batch = await measure(
      '50 units per call',
      () =>
        timed(
          createPrewarmer({ store, transformer, settings: settings('bench-originals'), log: logger }),
          unitsFor('batch', 0, BATCH_UNITS),
          'batch',
        ),
      BATCH_UNITS,
    );
    const batchUnitsPerHour = batch.unitsPerHour;
    const singleUnitsPerHour = single.unitsPerHour;

    // Extrapolation to 1,000,000 units/hour on Lambda, default formats (avif, webp, jpeg).
    // CPU per unit on Lambda: the transform CPU cost of the default formats (one decode per
    // original) × the pipeline's CPU overhead measured in the 50-units mode (S3 client
    // included; the S3 server is not ours).
    const overhead = batch.cpuPerUnit / bareCpuPerUnit;
    const variantsPerUnit = PHOTOS_PER_UNIT * PRESETS.length * LAMBDA.defaultFormats.length;
    const coreSecondsPerUnit = PHOTOS_PER_UNIT * cpuPerOriginal * overhead;
    const target = 1_000_000;
    const lambdaSecondsPerHour = target * coreSecondsPerUnit; // 1 vCPU per function
    const concurrent = Math.ceil(lambdaSecondsPerHour / 3600);
    const computeUsd = lambdaSecondsPerHour * (LAMBDA.memoryMb / 1024) * LAMBDA.usdPerGbSecond;
    const requestsUsd = (target / LAMBDA.unitsPerInvocation / 1e6) * LAMBDA.usdPerMillionRequests;
    const putsUsd = ((target * variantsPerUnit) / 1000) * LAMBDA.s3PutUsdPer1000;
    const getsUsd = ((target * (variantsPerUnit + PHOTOS_PER_UNIT)) / 1000) * LAMBDA.s3GetUsdPer1000; // variant GETs + original GETs
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
    const memoryCpuPerUnit = memoryCpu / (ROUNDS * ROUND_UNITS);
    return {
      photos: {
        dir: photos.dir,
        fallback: photos.fallback,
        sizes: sizes.map((m, i) => ({ size: `${m.width}×${m.height}`, bytes: bytes[i]?.length })),
      },
      presets: PRESETS,
      format: BENCH_FORMAT,
      concurrency,
      cpuMsPerVariant: perFormatMs,
      cpuSecondsPerOriginalDefaultFormats: round(cpuPerOriginal, 3),
      unitsPerHour: {
        bare: Math.round(bareUnitsPerHour),
        inMemoryStore: Math.round(memoryUnitsPerHour),
        oneUnitPerCall: Math.round(singleUnitsPerHour),
        fiftyUnitsPerCall: Math.round(batchUnitsPerHour),
      },
      // Wall-clock throughput ÷ bare: sensitive to whatever else runs on the machine.
      ratioToBare: {
        inMemoryStore: round(memoryUnitsPerHour / bareUnitsPerHour, 3),
        oneUnitPerCall: round(singleUnitsPerHour / bareUnitsPerHour, 3),
        fiftyUnitsPerCall: round(ratio, 3),
        oneUnitPerCallWithoutS3ServerCpu: round(single.withoutS3Server / bareUnitsPerHour, 3),
        fiftyUnitsPerCallWithoutS3ServerCpu: round(batch.withoutS3Server / bareUnitsPerHour, 3),
      },
      // CPU seconds per unit (all threads of this process): what Lambda bills, and insensitive
      // to other load on the machine. Ratio = bare CPU per unit ÷ the mode's.
      cpuSecondsPerUnit: {
        bare: round(bareCpuPerUnit, 3),
        inMemoryStore: round(memoryCpuPerUnit, 3),
        oneUnitPerCall: round(single.cpuPerUnit, 3),
        fiftyUnitsPerCall: round(batch.cpuPerUnit, 3),
      },
      cpuRatioToBare: {
        inMemoryStore: round(bareCpuPerUnit / memoryCpuPerUnit, 3),
        oneUnitPerCall: round(bareCpuPerUnit / single.cpuPerUnit, 3),
        fiftyUnitsPerCall: round(bareCpuPerUnit / batch.cpuPerUnit, 3),
        fiftyUnitsPerCallWithS3ServerCpu: round(
          bareCpuPerUnit / (batch.cpuPerUnit + batch.s3ServerCpuSeconds / BATCH_UNITS),
          3,
        ),
      },
      s3ServerCpuSeconds: {
        oneUnitPerCall: round(single.s3ServerCpuSeconds, 1),
        fiftyUnitsPerCall: round(batch.s3ServerCpuSeconds, 1),
      },
      target: TARGET_RATIO,
      meetsTarget: {
        wallClock: ratio >= TARGET_RATIO,
        cpu: bareCpuPerUnit / batch.cpuPerUnit >= TARGET_RATIO,
      },
      lambda,
      loadAverageAtEnd: os.loadavg().map((l) => round(l, 2)),
      elapsedSeconds: round((performance.now() - started) / 1000, 1),
    };
  } finally {
    await s3.stop();
  }
}
