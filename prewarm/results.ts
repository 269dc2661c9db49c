/**
 * Where the queue path's results live: one object per processed message,
 *
 *   <prefix><job>/<first seq>-<last seq>.ndjson   (seqs zero-padded to 10 digits, so keys list in input order)
 *
 * holding, in input order, one line per unit: the line `litepix prewarm --out` writes (seq,
 * status, id, code/message, the rewritten unit) plus `report`, that unit's report. It is written
 * whole in one PUT under a key that depends only on the message, so a redelivered message
 * overwrites its results instead of adding a copy: delivery is at least once, results exactly
 * once. Beside them the producer writes `<prefix><job>/job.json` (units and messages sent).
 * Status and collection read only these objects: no database.
 */
import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { storageUnavailable } from '../origin-fn/errors.ts';
import { assertJobId } from './queue-message.ts';
import { createTally } from './tally.ts';
import type { Totals, UnitReport, UnitResult } from './types.ts';

export const DEFAULT_RESULTS_PREFIX = 'results/';
const PAD = 10;

/** One line of `--out`: the rewritten unit with its status. */
export function outLine(result: UnitResult): string {
  return JSON.stringify(outFields(result));
}

function outFields(result: UnitResult): Record<string, unknown> {
  const r = result.report;
  const line: Record<string, unknown> = { seq: r.seq, status: r.status };
  if (r.id !== undefined) line.id = r.id;
  if (r.code) {
    line.code = r.code;
    line.message = r.message;
  }
  if (result.unit !== undefined) line.unit = result.unit;
  return line;
}

/** A results line: the `--out` line and the unit's report. */
export function resultLine(result: UnitResult): string {
  return JSON.stringify({ ...outFields(result), report: result.report });
}

export interface JobManifest {
  job: string;
  /** `sending` while the producer runs; `sent` once every unit is in the queue. */
  state: 'sending' | 'sent';
  units: number;
  messages: number;
  startedAt: string;
  finishedAt?: string | undefined;
  queue?: string | undefined;
  input?: string | undefined;
}

export interface ResultsFile {
  key: string;
  firstSeq: number;
  lastSeq: number;
}

export interface ResultsStore {
  bucket: string;
  prefix: string;
  keyOf(job: string, firstSeq: number, lastSeq: number): string;
  /** `variants`: the message's variant counts (stored as object metadata, read back by `read`). */
  putResults(job: string, results: UnitResult[], variants?: VariantCounts): Promise<string>;
  putManifest(manifest: JobManifest): Promise<void>;
  getManifest(job: string): Promise<JobManifest | undefined>;
  /** The job's results files in input order. */
  list(job: string): AsyncGenerator<ResultsFile>;
  /** The lines of one results file, parsed, and its variant counts when it has them. */
  read(key: string): Promise<{ records: ResultRecord[]; variants?: VariantCounts | undefined }>;
}

export type VariantCounts = Totals['variants'];

export interface ResultRecord {
  seq: number;
  status: 'done' | 'failed';
  unit?: unknown;
  report: UnitReport;
}

const pad = (n: number) => String(n).padStart(PAD, '0');
const FILE = /\/(\d+)-(\d+)\.ndjson$/;

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

const UNAVAILABLE = 'The results bucket is unavailable; retry in a moment';

export function createResultsStore(options: {
  client: S3Client;
  bucket: string;
  prefix?: string;
}): ResultsStore {
  const { client, bucket } = options;
  const prefix = options.prefix ?? DEFAULT_RESULTS_PREFIX;
  const jobPrefix = (job: string) => `${prefix}${assertJobId(job)}/`;
  const put = async (Key: string, body: string, ContentType: string, Metadata?: Record<string, string>) => {
    const Body = Buffer.from(body);
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key,
          Body,
          ContentLength: Body.length,
          ContentType,
          Metadata,
        }),
      );
    } catch (err) {
      throw storageUnavailable(UNAVAILABLE, err);
    }
  };
  const get = async (
    Key: string,
  ): Promise<{ text: string; metadata: Record<string, string> } | undefined> => {
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
      return { text: (await out.Body?.transformToString('utf8')) ?? '', metadata: out.Metadata ?? {} };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw storageUnavailable(UNAVAILABLE, err);
    }
  };
  const store: ResultsStore = {
    bucket,
    prefix,
    keyOf: (job, first, last) => `${jobPrefix(job)}${pad(first)}-${pad(last)}.ndjson`,
    async putResults(job, results, variants) {
      const first = results[0]?.report.seq;
      const last = results.at(-1)?.report.seq;
      if (first === undefined || last === undefined) throw new Error('putResults: no results');
      const key = store.keyOf(job, first, last);
      const metadata = variants
        ? { variants: `${variants.produced},${variants.existing},${variants.failed}` }
        : undefined;
      await put(key, `${results.map(resultLine).join('\n')}\n`, 'application/x-ndjson', metadata);
      return key;
    },
    putManifest: (m) => put(`${jobPrefix(m.job)}job.json`, `${JSON.stringify(m)}\n`, 'application/json'),
    async getManifest(job) {
      const got = await get(`${jobPrefix(job)}job.json`);
      return got === undefined ? undefined : (JSON.parse(got.text) as JobManifest);
    },
    async *list(job) {
      let token: string | undefined;
      do {
        let page: ListObjectsV2CommandOutput;
        try {
          page = await client.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: jobPrefix(job), ContinuationToken: token }),
          );
        } catch (err) {
          throw storageUnavailable(UNAVAILABLE, err);
        }
        const files: ResultsFile[] = [];
        for (const o of page.Contents ?? []) {
          const m = o.Key ? FILE.exec(o.Key) : null;
          if (o.Key && m) files.push({ key: o.Key, firstSeq: Number(m[1]), lastSeq: Number(m[2]) });
        }
        files.sort((a, b) => a.firstSeq - b.firstSeq || a.lastSeq - b.lastSeq);
        yield* files;
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
    async read(key) {
      const got = await get(key);
      const records = (got?.text ?? '')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as ResultRecord);
      const counts = /^(\d+),(\d+),(\d+)$/.exec(got?.metadata.variants ?? '');
      const variants = counts
        ? { produced: Number(counts[1]), existing: Number(counts[2]), failed: Number(counts[3]) }
        : undefined;
      return { records, variants };
    },
  };
  return store;
}

export interface JobStatus {
  job: string;
  state: 'unknown' | 'sending' | 'sent';
  complete: boolean;
  units: { sent: number; done: number; failed: number; pending: number };
  messages: { sent: number; finished: number };
  images: Totals['images'];
  /**
   * Variants as the workers counted them, each once per batch: `produced` is the work done; a
   * variant another batch made earlier counts again as `existing` where it is needed.
   */
  variants: Totals['variants'];
  bytesBefore: number;
  bytesAfter: number;
  savings: number;
  /** The first failed units (seq, code, message), at most 20. */
  failures: Array<{
    seq: number;
    id?: string | undefined;
    code?: string | undefined;
    message?: string | undefined;
    /** The first failed image's error, when images failed (the cause behind PREWARM_IMAGES_FAILED). */
    image?: { ref: string; code?: string | undefined; message?: string | undefined } | undefined;
  }>;
}

function firstImageError(images: UnitReport['images']): JobStatus['failures'][number]['image'] {
  const failed = images.find((i) => i.status === 'failed');
  return failed ? { ref: failed.ref, code: failed.code, message: failed.message } : undefined;
}

/**
 * Walks a job's results in input order, once: `each` sees every unit once (a seq seen in an
 * earlier file is skipped, so overlapping files never double a unit); the status is the sum.
 * Files are fetched `parallel` at a time, handed over in order.
 */
export async function walkJob(
  results: ResultsStore,
  job: string,
  each?: (record: ResultRecord) => void | Promise<void>,
  parallel = 16,
): Promise<JobStatus> {
  const manifest = await results.getManifest(job);
  const tally = createTally();
  const variants = { produced: 0, existing: 0, failed: 0 };
  const failures: JobStatus['failures'] = [];
  let lastSeq = 0;
  let finished = 0;
  const pending: Array<ReturnType<ResultsStore['read']>> = [];
  const take = async () => {
    const { records, variants: counted } = await (pending.shift() as ReturnType<ResultsStore['read']>);
    finished++;
    const seen = new Map<string, string>();
    for (const r of records) {
      if (r.seq <= lastSeq) continue;
      lastSeq = r.seq;
      tally.addUnit(r.report);
      if (r.status === 'failed' && failures.length < 20)
        failures.push({
          seq: r.seq,
          id: r.report.id,
          code: r.report.code,
          message: r.report.message,
          image: firstImageError(r.report.images),
        });
      for (const image of r.report.images)
        for (const v of image.variants) seen.set(`${image.source}\n${v.preset}\n${v.format}`, v.status);
      await each?.(r);
    }
    if (counted) {
      variants.produced += counted.produced;
      variants.existing += counted.existing;
      variants.failed += counted.failed;
    } else for (const status of seen.values()) variants[status as keyof typeof variants]++;
  };
  for await (const file of results.list(job)) {
    pending.push(results.read(file.key));
    if (pending.length >= parallel) await take();
  }
  while (pending.length > 0) await take();
  const t = tally.totals();
  const sent = manifest?.units ?? 0;
  const doneUnits = t.units.done + t.units.failed;
  return {
    job,
    state: manifest?.state ?? 'unknown',
    complete: manifest?.state === 'sent' && doneUnits >= sent,
    units: { sent, done: t.units.done, failed: t.units.failed, pending: Math.max(0, sent - doneUnits) },
    messages: { sent: manifest?.messages ?? 0, finished },
    images: t.images,
    variants,
    bytesBefore: t.bytesBefore,
    bytesAfter: t.bytesAfter,
    savings: t.savings,
    failures,
  };
}
