/**
 * What the queue commands (`prewarm --queue`, `prewarm status|collect`, `worker`) talk to: the
 * work queue and the results bucket. Local by default: the running stack's queue (stack.json)
 * and its s3rver; with --aws the queue URL from the flag or LITEPIX_PREWARM_QUEUE_URL (the
 * stack output PrewarmQueueUrl) and LITEPIX_RESULTS_BUCKET (output ResultsBucketName), through
 * the standard AWS environment.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createS3Client } from '../origin-fn/s3-client.ts';
import { createResultsStore, type ResultsStore } from '../prewarm/results.ts';
import {
  checkQueueUrl,
  createSqsClient,
  describeQueueError,
  type QueueFacts,
  queueFacts,
} from '../prewarm/sqs-client.ts';
import { localS3Client } from './local-s3.ts';
import { localStack } from './stack-file.ts';
import { UsageError } from './usage-error.ts';

export interface ResultsContext {
  s3: S3Client;
  results: ResultsStore;
  /** Where the results are, for messages. */
  where: string;
}

export function resultsContext(aws: boolean, env: NodeJS.ProcessEnv = process.env): ResultsContext {
  const prefix = env.LITEPIX_RESULTS_PREFIX || undefined;
  if (aws) {
    const bucket = env.LITEPIX_RESULTS_BUCKET;
    if (!bucket)
      throw new UsageError('--aws needs LITEPIX_RESULTS_BUCKET (the stack output ResultsBucketName)');
    const s3 = createS3Client({ region: env.AWS_REGION ?? 'us-east-1' });
    return { s3, results: createResultsStore({ client: s3, bucket, prefix }), where: `s3://${bucket}` };
  }
  const local = localStack(env);
  const s3 = localS3Client(local.s3Endpoint);
  return {
    s3,
    results: createResultsStore({ client: s3, bucket: local.resultsBucket, prefix }),
    where: `the local stack's bucket ${local.resultsBucket} at ${local.s3Endpoint}`,
  };
}

export interface QueueContext {
  queueUrl: string;
  sqs: SQSClient;
  facts: QueueFacts;
}

/**
 * The work queue, after one GetQueueAttributes: a queue that does not answer is one clear
 * usage error (exit 2), not a retry loop.
 */
export async function queueContext(
  aws: boolean,
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<QueueContext> {
  let queueUrl = flag;
  if (queueUrl === undefined && aws) queueUrl = env.LITEPIX_PREWARM_QUEUE_URL;
  if (queueUrl === undefined && !aws) queueUrl = localStack(env).queueUrl;
  if (queueUrl === undefined)
    throw new UsageError(
      aws
        ? '--aws needs the queue URL: --queue <url> or LITEPIX_PREWARM_QUEUE_URL (the stack output PrewarmQueueUrl)'
        : 'no local queue: is `litepix dev` (npm start) running? Or give --queue <url>',
    );
  try {
    checkQueueUrl(queueUrl);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const sqs = createSqsClient(queueUrl);
  try {
    return { queueUrl, sqs, facts: await queueFacts(sqs, queueUrl) };
  } catch (err) {
    sqs.destroy();
    throw new UsageError(`cannot reach the queue ${queueUrl}: ${describeQueueError(err)}`);
  }
}

/** `--queue` takes an optional URL: `--queue`, `--queue <url>` or `--queue=<url>`. */
export function takeQueueFlag(args: string[]): { args: string[]; queue: string | true | undefined } {
  const out: string[] = [];
  let queue: string | true | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--queue') {
      const next = args[i + 1];
      if (next !== undefined && /^https?:\/\//.test(next)) {
        queue = next;
        i++;
      } else queue = true;
    } else if (a.startsWith('--queue=')) queue = a.slice('--queue='.length);
    else out.push(a);
  }
  return { args: out, queue };
}
