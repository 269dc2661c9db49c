/**
 * One batch of queue messages through the pre-warmer: the core shared by the SQS Lambda
 * (lambda.ts) and `litepix worker` (queue-worker.ts), so both decide alike.
 *
 * All units of the batch are planned together (originals shared between messages are handled
 * once). Then, per message:
 *  - a job message (queue-message.ts) writes its results, in input order, in one PUT
 *    (results.ts) and is done, failed units included: a missing image or a broken unit is an
 *    answer, not a reason to retry. It goes back to the queue (a batch item failure) only when
 *    a unit failed on a fault a retry may cure (storage unavailable, a timeout, an internal
 *    error), and then writes nothing, so the units stay pending, until its last receive
 *    (`maxReceives`, the queue's maxReceiveCount): then the failures are written as the units'
 *    results and the message still fails, so SQS moves it to the dead-letter queue;
 *  - a bare message (a unit, an array or NDJSON, no job) has no results location: as before,
 *    any failed unit returns it, so its only record is the dead-letter queue (and the log);
 *  - a message that cannot be read (a malformed envelope, no units) fails, and ends in the DLQ.
 * A results PUT that fails returns the message too (the next receive writes them).
 */
import type { Log } from '../origin-fn/log.ts';
import type { InputItem, Prewarmer } from './prewarmer.ts';
import { decodeMessage } from './queue-message.ts';
import type { ResultsStore, VariantCounts } from './results.ts';
import type { Totals, UnitReport, UnitResult } from './types.ts';

export interface QueueRecord {
  messageId: string;
  body: string;
  /** SQS's ApproximateReceiveCount: 1 on the first delivery. */
  receiveCount: number;
}

export interface QueueHandlerDeps {
  prewarmer: Prewarmer;
  log: Log;
  /** Where job messages write their results; without it job messages fail (nowhere to write). */
  results?: ResultsStore | undefined;
  /** The queue's maxReceiveCount: the receive after which SQS dead-letters a failing message. */
  maxReceives: number;
}

export interface QueueBatchOutcome {
  /** Messages to leave in the queue (not deleted), in message order: SQS redelivers them, then dead-letters them. */
  failed: string[];
  /** Results objects written, in message order. */
  written: string[];
  totals: Totals;
}

const INTERNAL = new Set(['IMG_INTERNAL', 'PREWARM_OUTPUT_FAILED']);

/** A failure a later attempt may not repeat: a transient fault or an internal error. */
export function isRetryable(report: UnitReport): boolean {
  if (report.status !== 'failed') return false;
  if (report.code && INTERNAL.has(report.code)) return true;
  return report.images.some(
    (i) => i.status === 'failed' && (i.transient === true || (i.code !== undefined && INTERNAL.has(i.code))),
  );
}

interface Message {
  record: QueueRecord;
  job?: string | undefined;
  results: UnitResult[];
  unreadable?: string | undefined;
}

export function createQueueHandler(deps: QueueHandlerDeps) {
  const { prewarmer, log } = deps;
  return async (records: QueueRecord[]): Promise<QueueBatchOutcome> => {
    const messages: Message[] = [];
    const items: InputItem[] = [];
    const owners: Message[] = []; // owners[i]: the message of the i-th item (results come back in order)
    let bareSeq = 0;
    for (const record of records) {
      const message: Message = { record, results: [] };
      messages.push(message);
      let decoded: ReturnType<typeof decodeMessage>;
      try {
        decoded = decodeMessage(record.body ?? '', bareSeq + 1);
      } catch (err) {
        message.unreadable = (err as Error).message;
        continue;
      }
      if (decoded.items.length === 0) message.unreadable = 'message without Data Units';
      message.job = decoded.job;
      if (!decoded.job) bareSeq += decoded.items.length;
      for (const item of decoded.items) {
        items.push(item);
        owners.push(message);
      }
    }
    let index = 0;
    const totals = await prewarmer.run(items, (r) => {
      (owners[index++] as Message).results.push(r);
    });

    // Each variant counted once per batch, in the first message that needs it (originals shared
    // between the batch's messages were handled once).
    const counted = new Set<string>();
    const variantCounts = (results: UnitResult[]): VariantCounts => {
      const c = { produced: 0, existing: 0, failed: 0 };
      for (const r of results)
        for (const image of r.report.images)
          for (const v of image.variants) {
            const key = `${image.source}\n${v.preset}\n${v.format}`;
            if (counted.has(key)) continue;
            counted.add(key);
            c[v.status]++;
          }
      return c;
    };
    const counts = new Map(messages.map((m) => [m, variantCounts(m.results)]));
    // Each message's outcome: whether it stays in the queue, the results key it wrote.
    const outcomes = await Promise.all(
      messages.map(async (m): Promise<{ id: string; failed: boolean; key?: string }> => {
        const { messageId: id, receiveCount } = m.record;
        if (m.unreadable) {
          log.warn({ messageId: id, receiveCount, reason: m.unreadable }, 'unreadable pre-warm message');
          return { id, failed: true };
        }
        const unitFailures = m.results.filter((r) => r.report.status === 'failed');
        for (const r of unitFailures) logFailure(log, id, m.job, r.report);
        if (!m.job) return { id, failed: unitFailures.length > 0 };
        const retry = unitFailures.some((r) => isRetryable(r.report));
        if (retry && receiveCount < deps.maxReceives) return { id, failed: true };
        if (!deps.results) {
          log.error(
            { messageId: id, job: m.job },
            'job message but no results location (LITEPIX_RESULTS_BUCKET)',
          );
          return { id, failed: true };
        }
        let key: string;
        try {
          key = await deps.results.putResults(m.job, m.results, counts.get(m));
        } catch (err) {
          log.warn({ messageId: id, job: m.job, err }, 'results not written; the message will be retried');
          return { id, failed: true };
        }
        if (retry)
          log.error(
            { messageId: id, job: m.job, receiveCount },
            'last receive failed: results written, message dead-lettered',
          );
        return { id, failed: retry, key };
      }),
    );
    // In message order (Promise.all keeps it), whichever write finished first.
    const failed = outcomes.filter((o) => o.failed).map((o) => o.id);
    const written = outcomes.flatMap((o) => (o.key ? [o.key] : []));
    log.info(
      { messages: records.length, failedMessages: failed.length, written: written.length, totals },
      'pre-warm batch',
    );
    return { failed, written, totals };
  };
}

function logFailure(log: Log, messageId: string, job: string | undefined, report: UnitReport) {
  log.warn(
    {
      messageId,
      job,
      seq: report.seq,
      unit: report.id,
      code: report.code,
      images: report.images
        .filter((i) => i.status === 'failed')
        .map((i) => ({ ref: i.ref, code: i.code, message: i.message })),
    },
    report.message ?? 'Data Unit failed',
  );
}
