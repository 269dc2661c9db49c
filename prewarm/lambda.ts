/**
 * The pre-warm Lambdas (thin adapters; clients and config are built once per cold start):
 *  - `sqsHandler`: each SQS message body is one Data Unit, a JSON array of them, or NDJSON. All
 *    units of the batch are planned together (originals shared between messages are handled
 *    once). A message with any failed unit is returned in `batchItemFailures`, so only it goes
 *    back to the queue (finished variants are skipped on the retry) and ends in the DLQ after
 *    the queue's maxReceiveCount; the others are deleted. Needs ReportBatchItemFailures on the
 *    event source mapping.
 *  - `s3Handler`: S3 notifications on the originals bucket (s3-events.ts).
 * Environment: README "Pre-warm configuration".
 */
import type { Log } from '../origin-fn/log.ts';
import { readPrewarmConfig } from './config.ts';
import { unitsFromText } from './input.ts';
import type { InputItem, Prewarmer } from './prewarmer.ts';
import { createPrewarmRuntime, type PrewarmRuntime } from './runtime.ts';
import { createS3EventHandler, type S3Event, type S3EventResult } from './s3-events.ts';

export interface SqsRecord {
  messageId: string;
  body: string;
}

export interface SqsEvent {
  Records: SqsRecord[];
}

export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

export function createSqsHandler(deps: { prewarmer: Prewarmer; log: Log }) {
  return async (event: SqsEvent): Promise<SqsBatchResponse> => {
    const items: InputItem[] = [];
    const owner = new Map<number, string>();
    const failed = new Set<string>();
    for (const record of event.Records ?? []) {
      const units = unitsFromText(record.body ?? '', items.length + 1);
      if (units.length === 0) {
        deps.log.warn({ messageId: record.messageId }, 'message without Data Units');
        failed.add(record.messageId);
      }
      for (const u of units) {
        owner.set(u.seq, record.messageId);
        items.push(u);
      }
    }
    const totals = await deps.prewarmer.run(items, (r) => {
      const messageId = owner.get(r.report.seq) as string; // every seq was registered above
      if (r.report.status === 'failed') {
        failed.add(messageId);
        deps.log.warn(
          {
            messageId,
            unit: r.report.id,
            code: r.report.code,
            images: r.report.images
              .filter((i) => i.status === 'failed')
              .map((i) => ({ ref: i.ref, code: i.code, message: i.message })),
          },
          r.report.message ?? 'Data Unit failed',
        );
      }
    });
    deps.log.info(
      { messages: event.Records?.length ?? 0, failedMessages: failed.size, totals },
      'pre-warm batch',
    );
    return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
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
  return createSqsHandler({ prewarmer: r.prewarmer, log: r.log })(event);
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
