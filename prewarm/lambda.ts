/**
 * The pre-warm Lambdas (thin adapters; clients and config are built once per cold start):
 *  - `sqsHandler`: a batch of SQS messages through the queue core (queue-handler.ts: job
 *    messages write their results, retryable failures go back to the queue, then to the DLQ);
 *    the messages to keep are returned in `batchItemFailures` (ReportBatchItemFailures on the
 *    event source mapping), the others are deleted.
 *  - `s3Handler`: S3 notifications on the originals bucket (s3-events.ts).
 * Environment: docs/configuration.md, "Pre-warm environment".
 */
import type { Log } from '../origin-fn/log.ts';
import { readPrewarmConfig } from './config.ts';
import type { Prewarmer } from './prewarmer.ts';
import { createQueueHandler } from './queue-handler.ts';
import type { ResultsStore } from './results.ts';
import { createPrewarmRuntime, type PrewarmRuntime } from './runtime.ts';
import { createS3EventHandler, type S3Event, type S3EventResult } from './s3-events.ts';

export interface SqsRecord {
  messageId: string;
  body: string;
  attributes?: { ApproximateReceiveCount?: string } | undefined;
}

export interface SqsEvent {
  Records: SqsRecord[];
}

export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

export function createSqsHandler(deps: {
  prewarmer: Prewarmer;
  log: Log;
  results?: ResultsStore | undefined;
  maxReceives?: number | undefined;
}) {
  const handle = createQueueHandler({ ...deps, maxReceives: deps.maxReceives ?? 3 });
  return async (event: SqsEvent): Promise<SqsBatchResponse> => {
    const records = (event.Records ?? []).map((r) => ({
      messageId: r.messageId,
      body: r.body ?? '',
      receiveCount: Number(r.attributes?.ApproximateReceiveCount ?? 1) || 1,
    }));
    const { failed } = await handle(records);
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

export type { PrewarmRuntime };

/** Everything a handler needs, from the environment (once per cold start). */
export function runtimeFromEnvironment(
  env: Record<string, string | undefined> = process.env,
): PrewarmRuntime {
  return createPrewarmRuntime(readPrewarmConfig(env));
}

let runtime: PrewarmRuntime | undefined;
const getRuntime = () => {
  runtime ??= runtimeFromEnvironment();
  return runtime;
};

export const sqsHandler = (event: SqsEvent): Promise<SqsBatchResponse> => {
  const r = getRuntime();
  return createSqsHandler({
    prewarmer: r.prewarmer,
    log: r.log,
    results: r.results,
    maxReceives: r.config.maxReceives,
  })(event);
};

export const s3Handler = (event: S3Event): Promise<S3EventResult> => {
  const r = getRuntime();
  return createS3EventHandler({
    store: r.store,
    prewarmer: r.eventPrewarmer,
    invalidator: r.invalidator,
    originalsBucket: r.config.originalsBucket,
    grammar: r.config.grammar,
    log: r.log,
  })(event);
};
