/**
 * Bounded load on the local stack (startDevStack: s3rver + origin + the built viewer bundle in
 * miniflare), on 127.0.0.1 with autocannon: a fixed number of requests, then stop.
 *
 *  - hit path: one variant, made once, then requested N times: every answer must come from the
 *    CDN cache (`x-cache: Hit`);
 *  - miss-heavy mix: mostly distinct variants (sizes × formats × photos), each one a transform.
 *
 * Used by test/local/load.test.ts (small, asserts correctness) and by `npm run bench --
 * reliability` (larger, writes the figures docs/reliability.md quotes). Peak RSS is sampled
 * every 100 ms for this Node process (origin, s3rver, autocannon) and for workerd (the local
 * CDN, a child process) from /proc (Linux; 0 elsewhere).
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import autocannon from 'autocannon';
import { type DevStack, startDevStack, throwawayDevOptions } from '../cli/dev-stack.ts';
import { localS3Client } from '../cli/local-s3.ts';
import { DEFAULT_LADDER } from '../edge-fn/grammar/index.ts';
import { prng } from './prng.ts';

export interface LoadFigures {
  name: string;
  requests: number;
  connections: number;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  status5xx: number;
  statuses: Record<string, number>;
  /** Answers that carried `x-cache: Hit from litepix-dev`. */
  cacheHits: number;
  peakRssMb: { node: number; workerd: number };
}

export interface LoadStack {
  stack: DevStack;
  /** Puts an original into the originals bucket. */
  put(key: string, bytes: Buffer): Promise<void>;
  /** Keys in the variants bucket (up to 1,000). */
  variantKeys(): Promise<string[]>;
  stop(): Promise<void>;
}

const ORIGINALS = 'litepix-originals';
const VARIANTS = 'litepix-variants';

export async function startLoadStack(): Promise<LoadStack> {
  const options = throwawayDevOptions();
  const stack = await startDevStack(options);
  const client = localS3Client(stack.s3Endpoint);
  return {
    stack,
    async put(key, bytes) {
      await client.send(new PutObjectCommand({ Bucket: ORIGINALS, Key: key, Body: bytes }));
    },
    async variantKeys() {
      const out = await client.send(new ListObjectsV2Command({ Bucket: VARIANTS }));
      return (out.Contents ?? []).map((o) => o.Key ?? '');
    },
    async stop() {
      client.destroy();
      await stack.stop();
      rmSync(options.dataDir, { recursive: true, force: true });
    },
  };
}

/** Child processes of `pid`, recursively (Linux /proc). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const task of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of children.split(' ').filter(Boolean).map(Number)) {
      out.push(child, ...descendants(child));
    }
  }
  return out;
}

function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

function nameOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** RSS now of this process and of its workerd children, in bytes. */
function rssNow(): { node: number; workerd: number } {
  const workerd = descendants(process.pid)
    .filter((pid) => nameOf(pid) === 'workerd')
    .reduce((sum, pid) => sum + rssOf(pid), 0);
  return { node: process.memoryUsage().rss, workerd };
}

/** RSS now of the stack (this process + workerd), in MB. */
export function rssNowMb(): { node: number; workerd: number } {
  const now = rssNow();
  return { node: Math.round(now.node / 2 ** 20), workerd: Math.round(now.workerd / 2 ** 20) };
}

/** Samples peak RSS of this process and of its workerd children until `stop()`. */
export function sampleRss(): { stop(): { node: number; workerd: number } } {
  const peak = { node: 0, workerd: 0 };
  const sample = () => {
    const now = rssNow();
    peak.node = Math.max(peak.node, now.node);
    peak.workerd = Math.max(peak.workerd, now.workerd);
  };
  sample();
  const timer = setInterval(sample, 100);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { node: Math.round(peak.node / 2 ** 20), workerd: Math.round(peak.workerd / 2 ** 20) };
    },
  };
}

interface RunOptions {
  name: string;
  url: string;
  /** Paths requested in turn (one per request, cycling), shared by all connections. */
  paths: string[];
  amount: number;
  connections: number;
  headers?: Record<string, string>;
}

export async function runLoad(options: RunOptions): Promise<LoadFigures> {
  let next = 0;
  let cacheHits = 0;
  const statuses: Record<string, number> = {};
  const rss = sampleRss();
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    amount: options.amount,
    timeout: 60,
    headers: options.headers ?? {},
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({ ...request, path: options.paths[next++ % options.paths.length] }),
        onResponse: (status, _body, _context, headers) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
          for (const [name, value] of Object.entries(headers ?? {})) {
            if (name.toLowerCase() === 'x-cache' && String(value).startsWith('Hit')) cacheHits++;
          }
        },
      },
    ],
  });
  const peakRssMb = rss.stop();
  return {
    name: options.name,
    requests: result.requests.total,
    connections: options.connections,
    seconds: Math.round(result.duration * 100) / 100,
    requestsPerSecond: Math.round(result.requests.total / result.duration),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    status5xx: result['5xx'],
    statuses,
    cacheHits,
    peakRssMb,
  };
}

export interface MissOptions {
  maxWidth: number;
  formats: string[];
  count: number;
  seed: number;
}

/**
 * Variant URLs over `sources`: ladder widths up to `maxWidth` × formats × three qualities,
 * shuffled by a seed, the first `count`; one request in five repeats an earlier one.
 */
export function missPaths(sources: string[], options: MissOptions): string[] {
  const widths = DEFAULT_LADDER.filter((w) => w <= options.maxWidth);
  const all: string[] = [];
  for (const q of ['auto', '70', '85']) {
    for (const f of options.formats) {
      for (const w of widths) for (const source of sources) all.push(`/${source}?w=${w}&f=${f}&q=${q}`);
    }
  }
  // Deterministic shuffle.
  const rand = prng(options.seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [all[i], all[j]] = [all[j] as string, all[i] as string];
  }
  const picked = all.slice(0, options.count);
  // A miss-heavy mix, not a miss-only one: one request in five repeats an earlier variant.
  return picked.map((path, i) => (i % 5 === 4 ? (picked[i - 2] as string) : path));
}

const ROOT = resolve(import.meta.dirname, '..');
const CORPUS_PHOTOS = resolve(ROOT, '../shared/corpus/photos');

/** `npm run bench -- reliability`: the figures of docs/reliability.md. */
export async function runReliabilityBench(): Promise<{
  hit: LoadFigures;
  miss: LoadFigures;
  /** Distinct variants the miss mix made, per second of the run (each one a transform). */
  missImagesPerSecond: number;
  /** RSS of the stack (Node process + workerd) after start-up and after both runs, in MB. */
  rssMb: { before: { node: number; workerd: number }; after: { node: number; workerd: number } };
  photos: string[];
}> {
  const load = await startLoadStack();
  try {
    const before = rssNowMb();
    const photos: string[] = [];
    for (const dir of ['camera', 'kodak']) {
      let files: string[] = [];
      try {
        files = readdirSync(resolve(CORPUS_PHOTOS, dir)).sort();
      } catch {
        continue;
      }
      for (const file of files.filter((f) => ['.jpg', '.png'].includes(extname(f))).slice(0, 6)) {
        const key = `corpus/${dir}/${file}`;
        await load.put(key, readFileSync(resolve(CORPUS_PHOTOS, dir, file)));
        photos.push(key);
      }
    }
    const sources = photos.length > 0 ? photos : load.stack.seeded;
    const hitPath = '/samples/kodim23.png?w=828';
    const accept = { accept: 'image/avif,image/webp,*/*' };
    const warm = await fetch(`${load.stack.url}${hitPath}`, { headers: accept });
    if (warm.status !== 200) throw new Error(`warm-up request answered ${warm.status}`);
    await warm.arrayBuffer();
    const hit = await runLoad({
      name: 'hit path',
      url: load.stack.url,
      paths: [hitPath],
      amount: 20_000,
      connections: 64,
      headers: accept,
    });
    const paths = missPaths(sources, {
      maxWidth: 1920,
      formats: ['webp', 'jpeg', 'avif'],
      count: 400,
      seed: 8,
    });
    const miss = await runLoad({
      name: 'miss-heavy mix',
      url: load.stack.url,
      paths,
      amount: 400,
      connections: 8,
      headers: accept,
    });
    const missImagesPerSecond = Math.round((new Set(paths).size / miss.seconds) * 10) / 10;
    return { hit, miss, missImagesPerSecond, rssMb: { before, after: rssNowMb() }, photos: sources };
  } finally {
    await load.stop();
  }
}
