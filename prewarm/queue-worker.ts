/**
 * A long-polling queue worker: the SQS Lambda's event source mapping, for running outside
 * Lambda (containers, VMs, the local stack). Each lane receives up to `batchSize` messages,
 * hands them to the same batch handler as the Lambda (queue-handler.ts), deletes the ones it
 * finished and leaves the batch item failures in the queue, exactly as Lambda does with
 * ReportBatchItemFailures: they come back after the visibility timeout and go to the
 * dead-letter queue after maxReceiveCount.
 *
 *  - Lanes: batches in flight at once (each with its own pre-warmer; the CPU limit is shared),
 *    so one batch's slow tail never idles the cores.
 *  - Heartbeat: while a batch runs, its messages' visibility is extended every third of the
 *    timeout, so a long message is not handed to another worker meanwhile; a worker that dies
 *    stops extending, and its messages come back one timeout later.
 *  - Stop (SIGTERM): no new receives; batches in flight finish within `graceMs`, else their
 *    messages are released at once (visibility 0) for another worker.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Log } from '../origin-fn/log.ts';
import { createQueueHandler, type QueueBatchOutcome, type QueueRecord } from './queue-handler.ts';
import type { PrewarmRuntime } from './runtime.ts';
import { describeQueueError, type QueueFacts } from './sqs-client.ts';

export interface QueueWorkerOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** One handler per lane (queue-handler.ts createQueueHandler over that lane's pre-warmer). */
  lanes: Array<(records: QueueRecord[]) => Promise<QueueBatchOutcome>>;
  /** Messages per receive, 1–10 (SQS's limit). */
  batchSize: number;
  /** The queue's visibility timeout (heartbeat period: a third of it). */
  visibilityTimeoutSeconds: number;
  /** Long-poll wait, 0–20 s. */
  waitSeconds?: number | undefined;
  /** Time batches in flight get to finish on stop before their messages are released. */
  graceMs?: number | undefined;
  /**
   * Stop once a receive on every lane comes back empty and the queue holds nothing, in flight
   * included (benchmarks, one-shot runs). Polls with 1 s waits unless waitSeconds says otherwise.
   */
  untilEmpty?: boolean | undefined;
  log: Log;
}

export interface WorkerStats {
  batches: number;
  messages: number;
  deleted: number;
  failed: number;
  released: number;
}

export interface QueueWorker {
  /** Resolves when the worker has stopped (stop() called, or untilEmpty and the queue drained). */
  done: Promise<WorkerStats>;
  stop(): Promise<WorkerStats>;
  readonly stats: WorkerStats;
}

const chunks = <T>(list: T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
};

export function startQueueWorker(options: QueueWorkerOptions): QueueWorker {
  const { sqs, queueUrl, log } = options;
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1 || options.batchSize > 10)
    throw new RangeError(`Invalid batch size ${options.batchSize}: expected an integer from 1 to 10`);
  // One-shot runs poll briefly: a 20 s long poll would hold the exit 20 s after the last message.
  const waitSeconds = options.waitSeconds ?? (options.untilEmpty ? 1 : 20);
  const graceMs = options.graceMs ?? 25_000;
  const visibility = Math.max(1, options.visibilityTimeoutSeconds);
  const stats: WorkerStats = { batches: 0, messages: 0, deleted: 0, failed: 0, released: 0 };
  const stopping = new AbortController();
  const inFlight = new Set<Message>();
  const idle = new Set<number>();

  const entries = (messages: Message[]) =>
    messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string }));

  const changeVisibility = async (messages: Message[], seconds: number) => {
    for (const batch of chunks(messages, 10)) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: entries(batch).map((e) => ({ ...e, VisibilityTimeout: seconds })),
        }),
      );
    }
  };

  const remove = async (messages: Message[]) => {
    for (const batch of chunks(messages, 10)) {
      let pending = entries(batch);
      for (let attempt = 1; pending.length > 0 && attempt <= 3; attempt++) {
        try {
          const out = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
          const failedIds = new Set((out.Failed ?? []).map((f) => f.Id));
          stats.deleted += pending.length - failedIds.size;
          pending = pending.filter((e) => failedIds.has(e.Id));
        } catch (err) {
          log.warn({ err: describeQueueError(err), attempt }, 'delete failed; retrying');
          await sleep(200 * attempt);
        }
      }
      // Not deleted: the message comes back after the timeout; its results are rewritten whole.
      if (pending.length > 0)
        log.warn({ messages: pending.length }, 'messages not deleted; they will be redelivered');
    }
  };

  /** Nothing left, in flight elsewhere included (another worker's message may come back). */
  const drained = async () => {
    try {
      const out = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      return Object.values(out.Attributes ?? {}).every((v) => Number(v) === 0);
    } catch (err) {
      log.warn({ err: describeQueueError(err) }, 'queue depth unknown; stopping as empty');
      return true;
    }
  };

  async function lane(n: number, handle: (records: QueueRecord[]) => Promise<QueueBatchOutcome>) {
    let backoff = 500;
    while (!stopping.signal.aborted) {
      let messages: Message[];
      try {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: options.batchSize,
            WaitTimeSeconds: waitSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: stopping.signal },
        );
        messages = (out.Messages ?? []).filter((m) => m.ReceiptHandle && m.MessageId);
        backoff = 500;
      } catch (err) {
        if (stopping.signal.aborted) break;
        log.warn({ lane: n, err: describeQueueError(err), retryInMs: backoff }, 'receive failed');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 30_000);
        continue;
      }
      if (messages.length === 0) {
        idle.add(n);
        if (options.untilEmpty && idle.size === options.lanes.length && (await drained())) break;
        if (options.untilEmpty) await sleep(200);
        continue;
      }
      idle.clear();
      await runBatch(n, messages, handle);
    }
  }

  async function runBatch(
    n: number,
    messages: Message[],
    handle: (r: QueueRecord[]) => Promise<QueueBatchOutcome>,
  ) {
    stats.batches++;
    stats.messages += messages.length;
    for (const m of messages) inFlight.add(m);
    const heartbeat = setInterval(
      () => {
        changeVisibility(messages, visibility).catch((err) =>
          log.warn({ lane: n, err: describeQueueError(err) }, 'visibility heartbeat failed'),
        );
      },
      Math.max(500, (visibility * 1000) / 3),
    );
    heartbeat.unref();
    try {
      const outcome = await handle(
        messages.map((m) => ({
          messageId: m.MessageId as string,
          body: m.Body ?? '',
          receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1) || 1,
        })),
      );
      const failed = new Set(outcome.failed);
      stats.failed += failed.size;
      clearInterval(heartbeat);
      await remove(messages.filter((m) => !failed.has(m.MessageId as string)));
    } catch (err) {
      // The handler reports unit faults as results; a throw here is a fault of the worker itself:
      // leave every message for redelivery.
      stats.failed += messages.length;
      log.error({ lane: n, err }, 'pre-warm batch failed; its messages will be redelivered');
    } finally {
      clearInterval(heartbeat);
      for (const m of messages) inFlight.delete(m);
    }
  }

  const done = Promise.all(options.lanes.map((handle, n) => lane(n, handle))).then(() => ({ ...stats }));

  return {
    done,
    stats,
    async stop() {
      stopping.abort();
      const finished = await Promise.race([done.then(() => true), sleep(graceMs).then(() => false)]);
      if (!finished && inFlight.size > 0) {
        const held = [...inFlight];
        log.warn({ messages: held.length }, 'stop: releasing messages still in flight');
        await changeVisibility(held, 0).catch((err) =>
          log.warn(
            { err: describeQueueError(err) },
            'could not release messages; they come back after the timeout',
          ),
        );
        stats.released += held.length;
      }
      return { ...stats };
    },
  };
}

/** A worker over a pre-warm runtime (its pre-warmer and lanes, its results store): the CLI's and the local stack's. */
export function startRuntimeWorker(options: {
  runtime: PrewarmRuntime;
  sqs: SQSClient;
  queueUrl: string;
  facts: QueueFacts;
  lanes: number;
  batchSize: number;
  untilEmpty?: boolean | undefined;
  waitSeconds?: number | undefined;
  graceMs?: number | undefined;
}): QueueWorker {
  const { runtime } = options;
  const maxReceives = options.facts.maxReceiveCount ?? runtime.config.maxReceives;
  const handlers = Array.from({ length: Math.max(1, options.lanes) }, (_, i) =>
    createQueueHandler({
      prewarmer: i === 0 ? runtime.prewarmer : runtime.lane(),
      log: runtime.log,
      results: runtime.results,
      maxReceives,
    }),
  );
  return startQueueWorker({
    sqs: options.sqs,
    queueUrl: options.queueUrl,
    lanes: handlers,
    batchSize: options.batchSize,
    visibilityTimeoutSeconds: options.facts.visibilityTimeoutSeconds,
    waitSeconds: options.waitSeconds,
    graceMs: options.graceMs,
    untilEmpty: options.untilEmpty,
    log: runtime.log,
  });
}
