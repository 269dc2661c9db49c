/**
 * The pre-warm queue's message: many Data Units of one job in one SQS message body,
 *
 *   {"litepix":"prewarm/1","job":"<job id>","units":[{"seq":1,"unit":{…}},{"seq":2,"error":{…}},…]}
 *
 * Each unit keeps its position in the producer's input (`seq`), so results are written and
 * collected in input order whatever worker handles the message. A unit the producer could not
 * read (bad JSON, a line too long, a unit larger than a message) travels as an `error` item: it
 * ends in the results as a failed unit, so the job's results hold every unit exactly once.
 *
 * The packer fills a message up to `maxUnits` units and `maxBytes` bytes of body (UTF-8, as SQS
 * counts it). Few units per message keep a message's work short (a Lambda invocation handles a
 * batch of messages within its timeout); the byte cap keeps it under the queue's limit.
 * Bodies that are not this envelope (one unit, an array, NDJSON) are still read as before.
 */
import { unitsFromText } from './input.ts';
import type { InputItem } from './prewarmer.ts';

export const MESSAGE_KIND = 'prewarm/1';
/** SQS's classic message size limit (queues may allow up to 1 MiB; Lambda batches stay small at this). */
export const DEFAULT_MESSAGE_BYTES = 256 * 1024;
export const DEFAULT_UNITS_PER_MESSAGE = 10;
const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export class MessageError extends Error {
  override name = 'MessageError';
}

export interface QueueMessage {
  job: string;
  items: InputItem[];
}

/** A job id: letters, digits, `-` and `_`, 1–64 characters, starting with a letter or digit. */
export function assertJobId(job: string): string {
  if (!JOB_ID.test(job))
    throw new MessageError(
      `Invalid job id ${JSON.stringify(job.slice(0, 80))}: expected 1 to 64 letters, digits, "-" or "_", starting with a letter or digit`,
    );
  return job;
}

/** A new job id: UTC time to the second and 6 random hex digits (sorts by start time). */
export function newJobId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const random = Math.floor(Math.random() * 0x1000000)
    .toString(16)
    .padStart(6, '0');
  return `${stamp}-${random}`;
}

// SQS accepts #x9 #xA #xD #x20–#xD7FF #xE000–#xFFFD #x10000–#x10FFFF. JSON.stringify already
// escapes control characters and lone surrogates; U+FFFE and U+FFFF it leaves as they are.
const sqsSafe = (json: string) =>
  json.replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);

function itemJson(item: InputItem): string {
  const entry: Record<string, unknown> = { seq: item.seq };
  if (item.error) entry.error = item.error;
  else entry.unit = item.unit;
  return sqsSafe(JSON.stringify(entry));
}

const head = (job: string) => `{"litepix":"${MESSAGE_KIND}","job":"${job}","units":[`;
const TAIL = ']}';

export interface PackedMessage {
  body: string;
  bytes: number;
  job: string;
  firstSeq: number;
  lastSeq: number;
  units: number;
}

export interface PackerOptions {
  job: string;
  maxBytes?: number | undefined;
  maxUnits?: number | undefined;
}

/**
 * Packs items into message bodies in input order. `add` returns the messages it completed (zero
 * or one); `flush` the last one. A unit too large for a message alone is replaced by a failed
 * item (PREWARM_UNIT_TOO_LARGE, naming its seq) and reported through `onRefused`.
 */
export function createPacker(options: PackerOptions & { onRefused?: (item: InputItem) => void }) {
  const job = assertJobId(options.job);
  const maxBytes = options.maxBytes ?? DEFAULT_MESSAGE_BYTES;
  const maxUnits = options.maxUnits ?? DEFAULT_UNITS_PER_MESSAGE;
  const fixed = Buffer.byteLength(head(job)) + TAIL.length;
  let parts: string[] = [];
  let bytes = fixed;
  let first = 0;
  let last = 0;

  const close = (): PackedMessage | undefined => {
    if (parts.length === 0) return undefined;
    const message = {
      body: `${head(job)}${parts.join(',')}${TAIL}`,
      bytes,
      job,
      firstSeq: first,
      lastSeq: last,
      units: parts.length,
    };
    parts = [];
    bytes = fixed;
    return message;
  };

  return {
    add(item: InputItem): PackedMessage[] {
      let json = itemJson(item);
      let size = Buffer.byteLength(json);
      if (fixed + size > maxBytes) {
        const refused: InputItem = {
          seq: item.seq,
          error: {
            code: 'PREWARM_UNIT_TOO_LARGE',
            message: `Data Unit ${item.seq} is ${size} bytes as JSON; a queue message holds at most ${maxBytes - fixed} bytes of units`,
          },
        };
        options.onRefused?.(refused);
        json = itemJson(refused);
        size = Buffer.byteLength(json);
      }
      const out: PackedMessage[] = [];
      const separator = parts.length > 0 ? 1 : 0;
      if (parts.length >= maxUnits || bytes + separator + size > maxBytes) {
        const done = close();
        if (done) out.push(done);
      }
      if (parts.length === 0) first = item.seq;
      bytes += (parts.length > 0 ? 1 : 0) + size;
      parts.push(json);
      last = item.seq;
      return out;
    },
    flush: close,
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a message body: the envelope (job and items with their own seqs), or a bare body (one
 * unit, an array, NDJSON; no job) numbered from `firstSeq`. A malformed envelope throws.
 */
export function decodeMessage(body: string, firstSeq = 1): { job?: string; items: InputItem[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return { items: unitsFromText(body, firstSeq) };
  }
  if (!isRecord(doc) || !('litepix' in doc)) return { items: unitsFromText(body, firstSeq) };
  if (doc.litepix !== MESSAGE_KIND)
    throw new MessageError(
      `Unknown message kind ${JSON.stringify(String(doc.litepix).slice(0, 40))}: expected "${MESSAGE_KIND}"`,
    );
  if (typeof doc.job !== 'string')
    throw new MessageError('Message without a job id: expected "job" to be a string');
  const job = assertJobId(doc.job);
  if (!Array.isArray(doc.units) || doc.units.length === 0)
    throw new MessageError('Message without units: expected "units" to be a non-empty array');
  let previous = 0;
  const items = doc.units.map((entry: unknown, i): InputItem => {
    const seq = isRecord(entry) ? entry.seq : undefined;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq <= previous)
      throw new MessageError(
        `Unit ${i + 1} of the message has seq ${JSON.stringify(seq)}: expected an integer above ${previous} (increasing)`,
      );
    previous = seq;
    const e = (entry as Record<string, unknown>).error;
    if (isRecord(e))
      return { seq, error: { code: String(e.code ?? 'PREWARM_BAD_JSON'), message: String(e.message ?? '') } };
    return { seq, unit: (entry as Record<string, unknown>).unit };
  });
  return { job, items };
}
