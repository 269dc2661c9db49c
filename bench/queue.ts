/**
 * Queue path benchmark (`npm run bench -- queue`): the same Data Units pre-warmed two ways on
 * the local stack (startDevStack: s3rver, fauxqs, miniflare; no in-process worker), with the
 * same total concurrency, alternated over rounds (direct, queue, control; then the reverse) so the
 * noise of a shared machine falls on both alike:
 *  - direct: `litepix prewarm units.ndjson --out … --report … --concurrency 2`;
 *  - queue: `litepix prewarm units.ndjson --queue` and, started at the same moment, 2 `litepix
 *    worker --lanes 1 --concurrency 1 --until-empty` processes; timed from the start of the send
 *    until the job's status is complete (the status of `litepix prewarm status`, polled in this
 *    process with the same walkJob; the CLI is then run once and must exit 0). `collect` is
 *    timed apart, and its output must equal the direct run's line by line;
 *  - control: the direct CLI split as the workers split the CPU: 2 `litepix prewarm` processes
 *    at `--concurrency 1` over the two halves of the input, at once. Queue ÷ control is the
 *    queue's own cost; control ÷ direct is the cost of two processes at concurrency 1.
 * Every run starts from an empty variants bucket (the originals are the same keys each time),
 * and must report every variant produced, none existing: both modes do the whole work.
 *
 * Every child process is started with bench/request-counter.ts preloaded: its HTTP requests
 * (SQS operations, S3 methods per bucket) and its CPU time are counted, not assumed. From
 * them, and from the packing of a synthetic 1,000-unit input of typical Data Units, the bench
 * derives SQS and S3 requests per million units and the cost of 1,000,000 units per hour on
 * Lambda (bench/prewarm.ts's CPU per unit and prices).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os, { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type DevStack, startDevStack, throwawayDevOptions } from '../cli/dev-stack.ts';
import { localS3Client } from '../cli/local-s3.ts';
import { DEFAULT_STACK_CONFIG } from '../infra/lib/config.ts';
import {
  createPacker,
  DEFAULT_MESSAGE_BYTES,
  DEFAULT_UNITS_PER_MESSAGE,
  type PackedMessage,
} from '../prewarm/queue-message.ts';
import { createResultsStore, type JobStatus, walkJob } from '../prewarm/results.ts';
import { LAMBDA, loadPhotos } from './prewarm.ts';
import { prng } from './prng.ts';
import type { ProcessCounts, RequestCount } from './request-counter.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const COUNTER = pathToFileURL(resolve(repoRoot, 'bench', 'request-counter.ts')).href;
const UNITS = 100;
const PHOTOS_PER_UNIT = 2;
const PRESETS = ['thumb', 'mobile'];
const ROUNDS = 2;
const WORKERS = 2;
/** Transforms at once: the direct run's, and the sum of the workers' (1 each). */
const CONCURRENCY = 2;
/** Messages per receive: the worker's default and the stack's SQS event source batch size. */
const BATCH = DEFAULT_STACK_CONFIG.prewarmBatchSize;
const TARGET_RATIO = 0.9;
const TYPICAL_UNITS = 1000;
/** The Data Unit of bench/prewarm.ts's Lambda extrapolation (its CPU per unit). */
const PREWARM_PHOTOS_PER_UNIT = 4;
const MILLION = 1_000_000;
/** SQS standard queue, us-east-1: per million requests; each 64 KiB of payload is one request. */
const SQS_USD_PER_MILLION = 0.4;
const SQS_CHUNK = 64 * 1024;
/** Long-poll wait of the worker (queue-worker.ts) and of Lambda's pollers: empty receives per idle poller-hour. */
const LONG_POLL_SECONDS = 20;
const ORIGINALS = 'litepix-originals';
const VARIANTS = 'litepix-variants';
const SETTINGS = {
  LITEPIX_PREWARM_PRESETS: PRESETS.join(','),
  LITEPIX_PREWARM_FORMATS: 'webp',
  LITEPIX_LOG_LEVEL: 'warn',
};
const log = (message: string) => process.stderr.write(`[queue] ${message}\n`);
const round = (n: number, digits: number) => Number(n.toFixed(digits));

interface Outcome {
  code: number | null;
  out: string;
  err: string;
  /** From spawn to exit. */
  seconds: number;
  /** From spawn to a worker's `taking messages from` line (workers only). */
  readySeconds?: number | undefined;
}

/** This machine's CPU time since boot, all cores (Linux /proc/stat; zeros elsewhere). */
function machineCpu(): { busy: number; idle: number; steal: number } {
  try {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = (
      readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
    )
      .trim()
      .split(/\s+/)
      .slice(1)
      .map((n) => Number(n) / 100); // USER_HZ
    const of = (n: number | undefined) => n ?? 0;
    return {
      busy: of(user) + of(nice) + of(system) + of(irq) + of(softirq),
      idle: of(idle) + of(iowait),
      steal: of(steal),
    };
  } catch {
    return { busy: 0, idle: 0, steal: 0 };
  }
}

/** What the machine did during a run: idle core-seconds, and CPU spent by processes not ours. */
function machineDelta(
  start: ReturnType<typeof machineCpu>,
  now: ReturnType<typeof machineCpu>,
  oursCpuSeconds: number,
) {
  return {
    idleCoreSeconds: round(now.idle - start.idle, 1),
    othersCpuSeconds: round(Math.max(0, now.busy - start.busy - oursCpuSeconds), 1),
    stealSeconds: round(now.steal - start.steal, 1),
  };
}

/** `litepix <args…>` as a child process, with the request counter preloaded (counts into `counts`). */
function litepix(
  args: string[],
  env: Record<string, string>,
  counts: string,
): { child: ChildProcess; done: Promise<Outcome> } {
  mkdirSync(counts, { recursive: true });
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', COUNTER, 'cli/litepix.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env, LITEPIX_BENCH_COUNTS: counts },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let readySeconds: number | undefined;
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    if (readySeconds === undefined && err.includes('litepix worker: taking messages'))
      readySeconds = (performance.now() - t0) / 1000;
  });
  const done = new Promise<Outcome>((ok) =>
    child.on('close', (code) =>
      ok({ code, out, err, seconds: (performance.now() - t0) / 1000, readySeconds }),
    ),
  );
  return { child, done };
}

/** The counts of every process that wrote into `dir`, summed per operation, and their CPU time. */
function readCounts(dir: string): {
  processes: number;
  cpuSeconds: number;
  counts: Record<string, RequestCount>;
} {
  const counts: Record<string, RequestCount> = {};
  let cpuSeconds = 0;
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
  for (const file of files) {
    const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProcessCounts;
    cpuSeconds += p.cpuSeconds;
    for (const [op, c] of Object.entries(p.counts)) {
      const sum = counts[op] ?? { requests: 0, requestBytes: 0, responseBytes: 0, maxBytes: 0 };
      counts[op] = sum;
      sum.requests += c.requests;
      sum.requestBytes += c.requestBytes;
      sum.responseBytes += c.responseBytes;
      sum.maxBytes = Math.max(sum.maxBytes, c.maxBytes);
    }
  }
  return { processes: files.length, cpuSeconds, counts };
}

const requests = (counts: Record<string, RequestCount>, op: string) => counts[op]?.requests ?? 0;

async function clearBucket(s3: S3Client, bucket: string): Promise<number> {
  let removed = 0;
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (keys.length === 0) return removed;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
    removed += keys.length;
  }
}

/** `sent 100 units in 10 messages (10.0 units and 1.9 KB per message)` from the producer's stderr. */
function producerSummary(err: string) {
  const m = /sent (\d+) units in (\d+) messages \(([\d.]+) units and ([\d.]+) KB per message\)/.exec(err);
  if (!m) throw new Error(`bench queue: no summary line from the producer: ${err.slice(-500)}`);
  return {
    units: Number(m[1]),
    messages: Number(m[2]),
    unitsPerMessage: Number(m[3]),
    kbPerMessage: Number(m[4]),
  };
}

/** `pre-warm batch` log lines of a worker (LITEPIX_LOG_LEVEL=info): when each batch ended. */
function batchEnds(out: string, t0Epoch: number): Array<{ atSeconds: number; messages: number }> {
  const ends: Array<{ atSeconds: number; messages: number }> = [];
  for (const line of out.split('\n')) {
    if (!line.includes('"pre-warm batch"')) continue;
    const entry = JSON.parse(line) as { time: number; messages: number };
    ends.push({ atSeconds: round((entry.time - t0Epoch) / 1000, 1), messages: entry.messages });
  }
  return ends;
}

/** 1,000 typical Data Units: an id, a question, 1–4 image URLs with alt texts, a little metadata. */
function typicalUnits(n: number, seed = 14): unknown[] {
  const rand = prng(seed);
  const words = (
    'which photo shows the product label price tag left shelf colour brand counter receipt ' +
    'is visible on of and name count items damaged box'
  ).split(' ');
  const hex = (len: number) =>
    Array.from({ length: len }, () => Math.floor(rand() * 16).toString(16)).join('');
  const text = (min: number, max: number) => {
    const out: string[] = [];
    const target = min + Math.floor(rand() * (max - min));
    while (out.join(' ').length < target) out.push(words[Math.floor(rand() * words.length)] as string);
    return `${out.join(' ')}?`;
  };
  return Array.from({ length: n }, (_, i) => ({
    id: `du-${String(i + 1).padStart(7, '0')}`,
    text: text(60, 400),
    images: Array.from({ length: 1 + Math.floor(rand() * 4) }, (_, j) => ({
      url: `s3://${ORIGINALS}/datasets/2026-11/batch-${String(Math.floor(i / 100)).padStart(4, '0')}/${hex(16)}-${j}.jpg`,
      alt: text(10, 60),
    })),
    meta: {
      source: 'field-app',
      batch: Math.floor(i / 100),
      createdAt: new Date(1_790_000_000_000 + i * 61_000).toISOString(),
    },
  }));
}

/** Packs units at the default limits, without any server; sizes of the messages and of full SendMessageBatch calls. */
function packing(units: unknown[]) {
  const packer = createPacker({ job: '20261123T120000Z-abcdef' });
  const messages: PackedMessage[] = [];
  units.forEach((unit, i) => {
    messages.push(...packer.add({ seq: i + 1, unit }));
  });
  const last = packer.flush();
  if (last) messages.push(last);
  const bytes = messages.reduce((s, m) => s + m.bytes, 0);
  const unitBytes = units.map((u) => Buffer.byteLength(JSON.stringify(u)));
  const perMessage = bytes / messages.length;
  return {
    units: units.length,
    messages: messages.length,
    unitsPerMessage: round(units.length / messages.length, 2),
    messagesPerUnit: round(messages.length / units.length, 3),
    bytesPerUnit: Math.round(unitBytes.reduce((a, b) => a + b, 0) / units.length),
    bytesPerMessage: Math.round(perMessage),
    maxBytesPerMessage: Math.max(...messages.map((m) => m.bytes)),
    /** What closed the messages: the 10 units (all full but the last), or the 256 KiB. */
    limitedBy: messages.slice(0, -1).every((m) => m.units === DEFAULT_UNITS_PER_MESSAGE) ? 'units' : 'bytes',
    /** A SendMessageBatch of 10 such messages, and a receive of BATCH of them, in 64 KiB billing chunks. */
    sqsChunksPerSend: Math.ceil((perMessage * 10) / SQS_CHUNK),
    sqsChunksPerReceive: Math.ceil((perMessage * BATCH) / SQS_CHUNK),
  };
}

interface Env {
  stack: DevStack;
  s3: S3Client;
  env: Record<string, string>;
  dir: string;
  input: string;
  /** The input in WORKERS parts, for the control. */
  parts: string[];
}

/**
 * `litepix prewarm` over the input: one process at concurrency 2 (direct), or, as a control, the
 * input in `parts` halves run at once by as many processes at concurrency 1 each (the workers'
 * split of the CPU, without the queue).
 */
async function directRun(e: Env, label: string, parts = 1) {
  const removed = await clearBucket(e.s3, VARIANTS);
  const counts = join(e.dir, 'counts', label);
  const inputs = parts === 1 ? [e.input] : e.parts;
  const cpu0 = process.cpuUsage();
  const m0 = machineCpu();
  const t0 = performance.now();
  const runs = await Promise.all(
    inputs.map(async (input, i) => {
      const out = join(e.dir, `${label}-${i}.ndjson`);
      const report = join(e.dir, `${label}-${i}.json`);
      const args = [
        'prewarm',
        input,
        '--out',
        out,
        '--report',
        report,
        '--concurrency',
        String(CONCURRENCY / inputs.length),
      ];
      const res = await litepix(args, e.env, counts).done;
      if (res.code !== 0)
        throw new Error(`bench queue ${label}: prewarm exited ${res.code}: ${res.err.slice(-800)}`);
      return { out, totals: (JSON.parse(readFileSync(report, 'utf8')) as { totals: JobStatus }).totals };
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const stackCpu = cpuOf(process.cpuUsage(cpu0));
  const m1 = machineCpu();
  const sumOf = (f: (t: JobStatus) => number) => runs.reduce((a, r) => a + f(r.totals), 0);
  checkWork(
    label,
    {
      produced: sumOf((t) => t.variants.produced),
      existing: sumOf((t) => t.variants.existing),
      failed: sumOf((t) => t.variants.failed),
    },
    { done: sumOf((t) => t.units.done), failed: sumOf((t) => t.units.failed) },
  );
  const c = readCounts(counts);
  const machine = machineDelta(m0, m1, c.cpuSeconds + stackCpu);
  log(
    `${label}: ${UNITS} units in ${seconds.toFixed(1)} s (${inputs.length} process${inputs.length > 1 ? 'es' : ''}; ${c.cpuSeconds.toFixed(1)} CPU s; machine: ${JSON.stringify(machine)}; variants bucket cleared of ${removed})`,
  );
  return {
    seconds,
    machine,
    cpuSeconds: c.cpuSeconds,
    stackCpuSeconds: stackCpu,
    counts: c.counts,
    out: runs[0]?.out ?? '',
  };
}

const cpuOf = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

function checkWork(label: string, variants: JobStatus['variants'], units: { done: number; failed: number }) {
  if (units.done !== UNITS || units.failed !== 0)
    throw new Error(
      `bench queue ${label}: ${units.done} units done, ${units.failed} failed; expected ${UNITS} done`,
    );
  const expected = UNITS * PHOTOS_PER_UNIT * PRESETS.length;
  if (variants.produced !== expected || variants.existing !== 0 || variants.failed !== 0)
    throw new Error(
      `bench queue ${label}: variants ${JSON.stringify(variants)}; expected all ${expected} produced (an empty variants bucket)`,
    );
}

async function queueRun(e: Env, label: string) {
  const removed = await clearBucket(e.s3, VARIANTS);
  const counts = (role: string) => join(e.dir, 'counts', label, role);
  const results = createResultsStore({ client: e.s3, bucket: e.stack.resultsBucket });
  const cpu0 = process.cpuUsage();
  const m0 = machineCpu();
  const t0Epoch = Date.now();
  const t0 = performance.now();
  const workerEnv = { ...e.env, LITEPIX_LOG_LEVEL: 'info' }; // one `pre-warm batch` line per batch
  const workers = Array.from({ length: WORKERS }, () =>
    litepix(
      [
        'worker',
        '--lanes',
        '1',
        '--batch',
        String(BATCH),
        '--concurrency',
        String(CONCURRENCY / WORKERS),
        '--until-empty',
      ],
      workerEnv,
      counts('worker'),
    ),
  );
  const producer = await litepix(['prewarm', e.input, '--queue'], e.env, counts('producer')).done;
  if (producer.code !== 0)
    throw new Error(`bench queue ${label}: producer exited ${producer.code}: ${producer.err.slice(-800)}`);
  const summary = producerSummary(producer.err);
  const job = producer.out.trim();
  let status: JobStatus;
  let polls = 0;
  for (;;) {
    status = await walkJob(results, job);
    polls++;
    if (status.complete) break;
    if (performance.now() - t0 > 600_000)
      throw new Error(`bench queue ${label}: job ${job} not complete after 600 s`);
    await sleep(500);
  }
  const seconds = (performance.now() - t0) / 1000;
  const stackCpu = cpuOf(process.cpuUsage(cpu0));
  const m1 = machineCpu();
  const cli = await litepix(['prewarm', 'status', job, '--json'], e.env, counts('status')).done;
  if (cli.code !== 0)
    throw new Error(`bench queue ${label}: status exited ${cli.code}: ${cli.out}${cli.err}`);
  const cliStatus = JSON.parse(cli.out) as JobStatus;
  checkWork(label, cliStatus.variants, cliStatus.units);
  // The workers stop by themselves once the queue is drained (--until-empty: 1 s polls).
  const stopped = await Promise.all(
    workers.map(async (w) => {
      const timer = setTimeout(() => w.child.kill('SIGTERM'), 45_000);
      const res = await w.done;
      clearTimeout(timer);
      if (res.code !== 0)
        throw new Error(`bench queue ${label}: worker exited ${res.code}: ${res.err.slice(-800)}`);
      return {
        messages: Number(/stopped after (\d+) messages/.exec(res.err)?.[1] ?? Number.NaN),
        readySeconds: round(res.readySeconds ?? Number.NaN, 1),
        exitSeconds: round(res.seconds, 1),
        batchEnds: batchEnds(res.err, t0Epoch),
      };
    }),
  );
  const out = join(e.dir, `${label}.ndjson`);
  const collect = await litepix(
    ['prewarm', 'collect', job, '--out', out, '--report', join(e.dir, `${label}.json`)],
    e.env,
    counts('collect'),
  ).done;
  if (collect.code !== 0)
    throw new Error(`bench queue ${label}: collect exited ${collect.code}: ${collect.err.slice(-800)}`);
  const all = readCounts(join(e.dir, 'counts', label, 'worker'));
  const prod = readCounts(counts('producer'));
  const machine = machineDelta(m0, m1, all.cpuSeconds + prod.cpuSeconds + stackCpu);
  log(
    `${label}: ${UNITS} units in ${seconds.toFixed(1)} s (producer ${producer.seconds.toFixed(1)} s; ${summary.messages} messages; workers ready at ${stopped.map((s) => s.readySeconds).join(', ')} s, took ${stopped.map((s) => s.messages).join(' + ')}, last batches ended at ${stopped.map((s) => s.batchEnds.at(-1)?.atSeconds).join(', ')} s; ${(all.cpuSeconds + prod.cpuSeconds).toFixed(1)} CPU s; machine: ${JSON.stringify(machine)}; collect ${collect.seconds.toFixed(1)} s; variants bucket cleared of ${removed})`,
  );
  return {
    job,
    seconds,
    machine,
    producerSeconds: producer.seconds,
    summary,
    polls,
    workers: stopped,
    collectSeconds: collect.seconds,
    statusCliSeconds: cli.seconds,
    resultsFiles: cliStatus.messages.finished,
    stackCpuSeconds: stackCpu,
    cpuSeconds: { workers: all.cpuSeconds, producer: prod.cpuSeconds },
    counts: {
      producer: prod.counts,
      workers: all.counts,
      status: readCounts(counts('status')).counts,
      collect: readCounts(counts('collect')).counts,
    },
    out,
  };
}

/**
 * CPU of a process's start and end alone, to tell it from the work: an idle worker (starts,
 * long-polls the empty queue once, exits) and a direct run of one unit without images.
 */
function startupCpu(e: Env) {
  const idle = litepix(
    ['worker', '--lanes', '1', '--batch', String(BATCH), '--concurrency', '1', '--until-empty'],
    e.env,
    join(e.dir, 'counts', 'idle-worker'),
  );
  const empty = join(e.dir, 'empty.ndjson');
  writeFileSync(empty, `${JSON.stringify({ id: 'empty', text: 'no images' })}\n`);
  const direct = litepix(
    ['prewarm', empty, '--out', join(e.dir, 'empty-out.ndjson'), '--concurrency', String(CONCURRENCY)],
    e.env,
    join(e.dir, 'counts', 'idle-direct'),
  );
  return async () => {
    const [w, d] = await Promise.all([idle.done, direct.done]);
    // A unit without images is reported failed (exit 1): the probe is the start, not the work.
    if (w.code !== 0 || (d.code !== 0 && d.code !== 1))
      throw new Error(
        `bench queue: start-up probes exited ${w.code} and ${d.code}: ${w.err.slice(-400)}${d.err.slice(-400)}`,
      );
    return {
      worker: readCounts(join(e.dir, 'counts', 'idle-worker')).cpuSeconds,
      direct: readCounts(join(e.dir, 'counts', 'idle-direct')).cpuSeconds,
    };
  };
}

async function uploadOriginals(s3: S3Client, photos: Buffer[]): Promise<string[]> {
  const lines: string[] = [];
  for (let u = 0; u < UNITS; u++) {
    const images: Array<{ url: string }> = [];
    for (let p = 0; p < PHOTOS_PER_UNIT; p++) {
      const key = `bench/queue/u${u}/p${p}.jpg`;
      const body = photos[(u * PHOTOS_PER_UNIT + p) % photos.length] as Buffer;
      await s3.send(
        new PutObjectCommand({ Bucket: ORIGINALS, Key: key, Body: body, ContentType: 'image/jpeg' }),
      );
      images.push({ url: key });
    }
    lines.push(
      JSON.stringify({ id: `bench-${u}`, text: 'Which of these photos shows the product label?', images }),
    );
  }
  return lines;
}

export async function runQueueBench() {
  const started = performance.now();
  const photos = loadPhotos();
  const bytes = photos.files.map((f) => readFileSync(f));
  const dir = mkdtempSync(join(tmpdir(), 'litepix-bench-queue-'));
  const dataDir = join(dir, 'data');
  const stack = await startDevStack(throwawayDevOptions({ dataDir, seed: false, worker: false }));
  const s3 = localS3Client(stack.s3Endpoint);
  try {
    const input = join(dir, 'units.ndjson');
    const parts = Array.from({ length: WORKERS }, (_, i) => join(dir, `units-${i}.ndjson`));
    const e: Env = { stack, s3, env: { ...SETTINGS, LITEPIX_DATA_DIR: dataDir }, dir, input, parts };
    // The start-up probes run while the originals upload (their CPU is counted per process).
    const probes = startupCpu(e);
    const lines = await uploadOriginals(s3, bytes);
    writeFileSync(input, `${lines.join('\n')}\n`);
    const per = Math.ceil(UNITS / WORKERS);
    parts.forEach((part, i) => {
      writeFileSync(part, `${lines.slice(i * per, (i + 1) * per).join('\n')}\n`);
    });
    const startup = await probes();
    log(
      `${UNITS} units × ${PHOTOS_PER_UNIT} photos${photos.fallback ? ' (fallback: Kodak fixtures)' : ''}, presets ${PRESETS.join(',')}, webp; concurrency ${CONCURRENCY} (direct) = ${WORKERS} workers × 1 lane × concurrency ${CONCURRENCY / WORKERS}, batch ${BATCH}; ${os.availableParallelism()} cores`,
    );
    const direct: Array<Awaited<ReturnType<typeof directRun>>> = [];
    const queue: Array<Awaited<ReturnType<typeof queueRun>>> = [];
    const split: Array<Awaited<ReturnType<typeof directRun>>> = [];
    for (let r = 1; r <= ROUNDS; r++) {
      // ABBA: direct, queue, control in odd rounds; control, queue, direct in even ones.
      const modes = [
        async () => direct.push(await directRun(e, `r${r}-direct`)),
        async () => queue.push(await queueRun(e, `r${r}-queue`)),
        async () => split.push(await directRun(e, `r${r}-split`, WORKERS)),
      ];
      for (const mode of r % 2 === 1 ? modes : modes.reverse()) await mode();
    }
    const sameOutput = queue.every(
      (q, i) => readFileSync(q.out, 'utf8') === readFileSync(direct[i]?.out ?? '', 'utf8'),
    );
    return summarise(direct, queue, split, sameOutput, startup, photos, bytes, started);
  } finally {
    s3.destroy();
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function summarise(
  direct: Array<Awaited<ReturnType<typeof directRun>>>,
  queue: Array<Awaited<ReturnType<typeof queueRun>>>,
  split: Array<Awaited<ReturnType<typeof directRun>>>,
  sameOutput: boolean,
  startup: { worker: number; direct: number },
  photos: ReturnType<typeof loadPhotos>,
  bytes: Buffer[],
  started: number,
) {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const runs = direct.length;
  const perHour = (seconds: number) => (UNITS / seconds) * 3600;
  const directSeconds = sum(direct.map((d) => d.seconds));
  const queueSeconds = sum(queue.map((q) => q.seconds));
  const ratio = directSeconds / queueSeconds;
  const roundRatios = queue.map((q, i) => round((direct[i]?.seconds ?? 0) / q.seconds, 3));
  const withCollect = directSeconds / sum(queue.map((q) => q.seconds + q.collectSeconds));
  const directCpu = sum(direct.map((d) => d.cpuSeconds)) / (runs * UNITS);
  const workerCpu = sum(queue.map((q) => q.cpuSeconds.workers)) / (runs * UNITS);
  const producerCpu = sum(queue.map((q) => q.cpuSeconds.producer)) / (runs * UNITS);
  // Net of process start-up (two workers against one direct process): the cost per unit that scales.
  const directNet = directCpu - startup.direct / UNITS;
  const workerNet = workerCpu - (WORKERS * startup.worker) / UNITS;
  const netFactor = workerNet / directNet;
  // The control: the direct CLI split as the workers split the CPU (2 processes × concurrency 1).
  const splitSeconds = sum(split.map((d) => d.seconds));
  const splitCpu = sum(split.map((d) => d.cpuSeconds)) / (runs * UNITS);
  const splitNet = splitCpu - (WORKERS * startup.direct) / UNITS;

  // Requests counted in the last queue run, per unit.
  const last = queue.at(-1) as (typeof queue)[number];
  const w = last.counts.workers;
  const p = last.counts.producer;
  const messages = last.summary.messages;
  const counted = {
    sendMessageBatch: requests(p, 'sqs SendMessageBatch'),
    receiveMessage: requests(w, 'sqs ReceiveMessage'),
    deleteMessageBatch: requests(w, 'sqs DeleteMessageBatch'),
    changeMessageVisibilityBatch: requests(w, 'sqs ChangeMessageVisibilityBatch'),
    getQueueAttributes: requests(p, 'sqs GetQueueAttributes') + requests(w, 'sqs GetQueueAttributes'),
    resultsPut: requests(w, `s3 litepix-results PUT`),
    jobJsonPut: requests(p, `s3 litepix-results PUT`),
    statusGet: requests(last.counts.status, `s3 litepix-results GET`),
    statusList: requests(last.counts.status, `s3 litepix-results LIST`),
    collectGet: requests(last.counts.collect, `s3 litepix-results GET`),
    variantsPut: requests(w, 's3 litepix-variants PUT'),
    variantsHead: requests(w, 's3 litepix-variants HEAD'),
    originalsGet: requests(w, 's3 litepix-originals GET'),
  };
  const directCounts = (direct.at(-1) as (typeof direct)[number]).counts;
  const resultsBytesPerUnit = (w['s3 litepix-results PUT']?.requestBytes ?? 0) / UNITS;

  const typical = packing(typicalUnits(TYPICAL_UNITS));
  const messagesPerMillion = MILLION / typical.unitsPerMessage;
  const invocations = Math.ceil(messagesPerMillion / BATCH);
  const awsVisibility = DEFAULT_STACK_CONFIG.prewarmTimeoutSeconds * 6;

  // CPU per unit on Lambda: bench/prewarm.ts's figure (its result file, else docs/benchmarks.md's table).
  const prewarmJson = resolve(repoRoot, 'bench', 'results', 'prewarm.json');
  const fromPrewarm = existsSync(prewarmJson)
    ? (
        JSON.parse(readFileSync(prewarmJson, 'utf8')) as {
          result: { lambda: { coreSecondsPerUnit: number; usdPerMillionUnits: number } };
        }
      ).result.lambda
    : undefined;
  const coreSecondsPerUnit = fromPrewarm?.coreSecondsPerUnit ?? 5.5;
  const directUsdPerMillion = fromPrewarm?.usdPerMillionUnits ?? 290;
  const cpuFactor = workerCpu / directCpu;
  // A Lambda is not a new process per batch: the worker's CPU over direct, net of start-up.
  const applied = Math.max(1, netFactor);
  const lambdaSeconds = MILLION * coreSecondsPerUnit * applied;
  const secondsPerInvocation = typical.unitsPerMessage * BATCH * coreSecondsPerUnit * applied;
  const heartbeatsPerBatch = Math.floor(secondsPerInvocation / (awsVisibility / 3));

  // SendMessageBatch: 10 entries, and at most 256 KiB of bodies per call (queue-producer.ts).
  const perSend = Math.min(10, Math.floor(DEFAULT_MESSAGE_BYTES / typical.maxBytesPerMessage));
  const sends = Math.ceil(messagesPerMillion / perSend);
  // Worker fleet (litepix worker): counted per message in this run, scaled; heartbeats: one per
  // batch per third of the visibility timeout (the stack's: 6 × the pre-warm timeout).
  const sqsWorkers = {
    sendMessageBatch: sends,
    receiveMessage: Math.round((counted.receiveMessage / messages) * messagesPerMillion),
    deleteMessageBatch: Math.round((counted.deleteMessageBatch / messages) * messagesPerMillion),
    changeMessageVisibilityBatch: Math.ceil(messagesPerMillion / BATCH) * heartbeatsPerBatch,
  };
  const sqsLambda = {
    sendMessageBatch: sends,
    receiveMessage: invocations,
    deleteMessageBatch: invocations,
    changeMessageVisibilityBatch: 0,
  };
  const billed = (r: {
    sendMessageBatch: number;
    receiveMessage: number;
    deleteMessageBatch: number;
    changeMessageVisibilityBatch: number;
  }) =>
    r.sendMessageBatch * typical.sqsChunksPerSend +
    r.receiveMessage * typical.sqsChunksPerReceive +
    r.deleteMessageBatch +
    r.changeMessageVisibilityBatch;
  const sqsLambdaBilled = billed(sqsLambda);
  const sqsUsd = (sqsLambdaBilled / MILLION) * SQS_USD_PER_MILLION;
  const resultsPuts = messagesPerMillion + 2; // one per message, job.json twice (sending, sent)
  const resultsPutUsd = (resultsPuts / 1000) * LAMBDA.s3PutUsdPer1000;
  const statusGets = messagesPerMillion + 2; // one per results file, job.json twice
  const statusLists = Math.ceil((messagesPerMillion + 1) / 1000);
  const statusUsd =
    (statusGets / 1000) * LAMBDA.s3GetUsdPer1000 + (statusLists / 1000) * LAMBDA.s3PutUsdPer1000;
  const gbSeconds = lambdaSeconds * (LAMBDA.memoryMb / 1024);
  const computeUsd = gbSeconds * LAMBDA.usdPerGbSecond;
  const invocationsUsd = (invocations / MILLION) * LAMBDA.usdPerMillionRequests;
  // Units as bench/prewarm.ts extrapolates them: 4 camera photos × 2 presets × the default formats.
  const variantsPerUnit = PREWARM_PHOTOS_PER_UNIT * PRESETS.length * LAMBDA.defaultFormats.length;
  const variantsPutUsd = ((MILLION * variantsPerUnit) / 1000) * LAMBDA.s3PutUsdPer1000;
  const variantsGetHeadUsd =
    ((MILLION * (variantsPerUnit + PREWARM_PHOTOS_PER_UNIT)) / 1000) * LAMBDA.s3GetUsdPer1000;
  const total = computeUsd + invocationsUsd + variantsPutUsd + variantsGetHeadUsd + sqsUsd + resultsPutUsd;

  return {
    photos: {
      fallback: photos.fallback,
      perUnit: PHOTOS_PER_UNIT,
      files: photos.files.map((f, i) => ({ file: f.slice(f.lastIndexOf('/') + 1), bytes: bytes[i]?.length })),
    },
    units: UNITS,
    presets: PRESETS,
    format: 'webp',
    rounds: runs,
    concurrency: {
      direct: CONCURRENCY,
      workers: WORKERS,
      lanesPerWorker: 1,
      concurrencyPerWorker: CONCURRENCY / WORKERS,
      batch: BATCH,
    },
    seconds: {
      direct: direct.map((d) => round(d.seconds, 1)),
      directSplit: split.map((d) => round(d.seconds, 1)),
      queue: queue.map((q) => round(q.seconds, 1)),
      producer: queue.map((q) => round(q.producerSeconds, 1)),
      collect: queue.map((q) => round(q.collectSeconds, 1)),
      statusCli: queue.map((q) => round(q.statusCliSeconds, 1)),
    },
    unitsPerHour: {
      direct: Math.round(perHour(directSeconds / runs)),
      directSplit: Math.round(perHour(splitSeconds / runs)),
      queue: Math.round(perHour(queueSeconds / runs)),
    },
    ratio: round(ratio, 3),
    /** The control: 2 direct processes at concurrency 1 over the two halves ÷ direct. */
    ratioSplitToDirect: round(directSeconds / splitSeconds, 3),
    ratioQueueToSplit: round(splitSeconds / queueSeconds, 3),
    roundRatios,
    ratioWithCollect: round(withCollect, 3),
    target: TARGET_RATIO,
    meetsTarget: ratio >= TARGET_RATIO,
    cpuSecondsPerUnit: {
      direct: round(directCpu, 3),
      workers: round(workerCpu, 3),
      producer: round(producerCpu, 4),
      workersOverDirect: round(cpuFactor, 3),
      startupPerProcess: { worker: round(startup.worker, 2), direct: round(startup.direct, 2) },
      netOfStartup: { direct: round(directNet, 3), workers: round(workerNet, 3) },
      workersOverDirectNetOfStartup: round(netFactor, 3),
      directSplit: round(splitCpu, 3),
      directSplitNetOfStartup: round(splitNet, 3),
      workersOverDirectSplitNetOfStartup: round(workerNet / splitNet, 3),
      stackProcess: {
        direct: round(sum(direct.map((d) => d.stackCpuSeconds)) / (runs * UNITS), 3),
        queue: round(sum(queue.map((q) => q.stackCpuSeconds)) / (runs * UNITS), 3),
      },
    },
    workers: queue.map((q) => q.workers),
    /** Per run: core-seconds idle, CPU of processes not ours (other jobs), steal (the VM's host). */
    machine: {
      direct: direct.map((d) => d.machine),
      queue: queue.map((q) => q.machine),
      directSplit: split.map((d) => d.machine),
    },
    sameOutputAsDirect: sameOutput,
    packing: {
      bench: {
        ...last.summary,
        messagesPerUnit: round(last.summary.messages / last.summary.units, 3),
        bytesPerMessage: Math.round(last.summary.kbPerMessage * 1024),
      },
      typical,
      defaults: { unitsPerMessage: DEFAULT_UNITS_PER_MESSAGE, maxBytes: DEFAULT_MESSAGE_BYTES },
    },
    requests: {
      countedLastQueueRun: { units: UNITS, messages, ...counted },
      countedLastDirectRun: Object.fromEntries(
        Object.entries(directCounts).map(([op, c]) => [op, c.requests]),
      ),
      resultsBytesPerUnit: Math.round(resultsBytesPerUnit),
      perMillionUnits: {
        note: `at the typical packing (${typical.unitsPerMessage} units per message): ${Math.round(messagesPerMillion)} messages`,
        sqs: {
          workers: sqsWorkers,
          lambda: sqsLambda,
          lambdaBilledRequests: sqsLambdaBilled,
          workersBilledRequests: billed(sqsWorkers),
          messagesPerSendMessageBatch: perSend,
          getQueueAttributes: 'one per producer run and one per worker start, not per unit',
          idleEmptyReceivesPerPollerHour: 3600 / LONG_POLL_SECONDS,
        },
        s3: {
          resultsPut: resultsPuts,
          statusCall: { get: statusGets, list: statusLists },
          collect: { get: 2 * messagesPerMillion + 3, list: 2 * statusLists },
        },
      },
      heartbeat: {
        countedChangeMessageVisibilityBatch: counted.changeMessageVisibilityBatch,
        localVisibilitySeconds: 60,
        awsVisibilitySeconds: awsVisibility,
        awsHeartbeatEverySeconds: awsVisibility / 3,
      },
    },
    perMillionUnits: {
      unitsPerHour: MILLION,
      messagesPerHour: Math.round(messagesPerMillion),
      lambdaBatchSize: BATCH,
      invocationsPerHour: invocations,
      unitsPerInvocation: typical.unitsPerMessage * BATCH,
      coreSecondsPerUnit,
      coreSecondsPerUnitSource: fromPrewarm
        ? 'bench/results/prewarm.json'
        : 'docs/benchmarks.md "1,000,000 Data Units per hour on Lambda" (5.50 vCPU-s per unit)',
      workerCpuFactorApplied: round(applied, 3),
      secondsPerInvocationAt1Vcpu: Math.round(secondsPerInvocation),
      heartbeatsPerBatchOnAws: heartbeatsPerBatch,
      lambdaTimeoutSeconds: DEFAULT_STACK_CONFIG.prewarmTimeoutSeconds,
      concurrentFunctions: Math.ceil(lambdaSeconds / 3600),
      concurrentFunctionsAt70Percent: Math.ceil(lambdaSeconds / 3600 / 0.7),
      computeUsd: round(computeUsd, 2),
      invocationsUsd: round(invocationsUsd, 3),
      variantsS3PutUsd: round(variantsPutUsd, 2),
      variantsS3GetHeadUsd: round(variantsGetHeadUsd, 2),
      sqsRequests: sqsLambdaBilled,
      sqsUsd: round(sqsUsd, 3),
      resultsS3Puts: resultsPuts,
      resultsS3PutUsd: round(resultsPutUsd, 3),
      statusCallUsd: round(statusUsd, 3),
      totalUsd: round(total, 2),
      directTotalUsd: directUsdPerMillion,
      queueExtraUsd: round(sqsUsd + resultsPutUsd + invocationsUsd, 3),
      assumptions: {
        lambda: LAMBDA,
        sqsUsdPerMillionRequests: SQS_USD_PER_MILLION,
        sqsBillingChunkBytes: SQS_CHUNK,
        esm: 'Lambda event source mapping: one ReceiveMessage and one DeleteMessageBatch per invocation (lower bound; its idle pollers add empty receives per poller-hour), no heartbeat',
        stackDefaults: {
          prewarmMemoryMb: DEFAULT_STACK_CONFIG.prewarmMemoryMb,
          architecture: DEFAULT_STACK_CONFIG.architecture,
          prewarmPresets: DEFAULT_STACK_CONFIG.prewarmPresets,
        },
      },
    },
    loadAverageAtEnd: os.loadavg().map((l) => round(l, 2)),
    elapsedSeconds: round((performance.now() - started) / 1000, 1),
  };
}
