/**
 * `litepix worker [--queue url]`: long-polls the pre-warm queue and runs the SQS Lambda's
 * handler on each batch (queue-worker.ts), for a fleet of containers or VMs and for the local
 * stack. Settings as `litepix prewarm` (presets, formats, concurrency…, from the environment
 * or flags); the results bucket from the stack (local) or LITEPIX_RESULTS_BUCKET (--aws).
 * SIGTERM/SIGINT stop it gracefully. Exit: 0 stopped, 2 usage or a queue/bucket not answering.
 */
import { parseArgs } from 'node:util';
import { startRuntimeWorker } from '../prewarm/queue-worker.ts';
import { prewarmRuntime, RUNTIME_OPTIONS } from './prewarm.ts';
import { queueContext, takeQueueFlag } from './queue-context.ts';
import { queueFlag } from './settings.ts';
import { localStack } from './stack-file.ts';
import { UsageError } from './usage-error.ts';

export const WORKER_USAGE = `Usage: litepix worker [--queue <url>] [options]

Takes job messages from the pre-warm queue (default: the local stack's; --aws: --queue or
LITEPIX_PREWARM_QUEUE_URL), makes and verifies the variants, writes each message's results to
the results bucket and deletes it; retryable failures go back to the queue, then to its DLQ.
Options:
  --lanes <n>          batches in flight at once (default 2; CPU stays at --concurrency)
  --batch <n>          messages per receive, 1–10 (default 1, as the Lambda's batch size)
  --concurrency <n>    transforms at once (LITEPIX_PREWARM_CONCURRENCY, default: cores, ≤ 8)
  --until-empty        stop once the queue is empty (one-shot runs, benchmarks)
  --presets, --formats, --cdn, --selector, --rewrite, --rewrite-preset, --facts,
  --expires, --verify-cdn, --ingest-host, --allow-address   as for litepix prewarm
  --aws                real queue and buckets (AWS_REGION, LITEPIX_*_BUCKET, LITEPIX_RESULTS_BUCKET)
  -h, --help           this text
SIGTERM or Ctrl-C: no new messages; batches in flight get 25 s to finish, else are released.
`;

export async function workerCommand(argv: string[]): Promise<void> {
  const taken = takeQueueFlag(argv);
  const { values, positionals } = parseArgs({
    args: taken.args,
    options: {
      lanes: { type: 'string' },
      batch: { type: 'string' },
      'until-empty': { type: 'boolean', default: false },
      ...RUNTIME_OPTIONS,
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(WORKER_USAGE);
    return;
  }
  if (positionals.length > 0)
    throw new UsageError(`worker: unexpected argument ${JSON.stringify(positionals[0])}`);
  const lanes = queueFlag('worker', '--lanes', values.lanes);
  const batchSize = queueFlag('worker', '--batch', values.batch);
  const { queueUrl, sqs, facts } = await queueContext(
    values.aws,
    taken.queue === true ? undefined : taken.queue,
  );
  const extra: Record<string, string> = {};
  if (!values.aws)
    extra.LITEPIX_RESULTS_BUCKET = process.env.LITEPIX_RESULTS_BUCKET || localStack().resultsBucket;
  else if (!process.env.LITEPIX_RESULTS_BUCKET) {
    sqs.destroy();
    throw new UsageError('worker: --aws needs LITEPIX_RESULTS_BUCKET (the stack output ResultsBucketName)');
  }
  if (facts.maxReceiveCount) extra.LITEPIX_PREWARM_MAX_RECEIVES = String(facts.maxReceiveCount);
  let runtime: Awaited<ReturnType<typeof prewarmRuntime>>['runtime'];
  try {
    ({ runtime } = await prewarmRuntime(values, extra));
  } catch (err) {
    sqs.destroy();
    throw err;
  }
  const worker = startRuntimeWorker({
    runtime,
    sqs,
    queueUrl,
    facts,
    lanes,
    batchSize,
    untilEmpty: values['until-empty'],
  });
  process.stderr.write(
    `litepix worker: taking messages from ${queueUrl} (lanes ${lanes}, batch ${batchSize}, concurrency ${runtime.config.concurrency}, dead-letter after ${facts.maxReceiveCount ?? runtime.config.maxReceives} receives)\n`,
  );
  const finish = (stats: { messages: number; deleted: number; failed: number; released: number }) => {
    process.stderr.write(
      `litepix worker: stopped after ${stats.messages} messages (${stats.deleted} done, ${stats.failed} returned to the queue${stats.released ? `, ${stats.released} released` : ''})\n`,
    );
    sqs.destroy();
    runtime.client.destroy();
  };
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      worker.stop().then((stats) => {
        finish(stats);
        process.exit(0);
      });
    });
  const stats = await worker.done;
  if (!stopping) finish(stats);
}
