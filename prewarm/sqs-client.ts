/**
 * The SQS client of the queue path (producer and worker), built once per process from a queue
 * URL. On AWS the SDK sends each call to the queue URL's host, with the default credential
 * chain. A local queue server (fauxqs in `npm start`) names its queues
 * `http://sqs.<region>.localhost:<port>/<account>/<name>` and finds them by that exact URL:
 * calls go to 127.0.0.1 on that port with the URL unchanged in the request, and fixed
 * credentials (it takes any). Timeouts are explicit (the SDK has none): long polls wait up to 20 s, so the
 * request timeout is above that.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';

export const LOCAL_SQS_CREDENTIALS = { accessKeyId: 'litepix', secretAccessKey: 'litepix' };

export class QueueUrlError extends Error {
  override name = 'QueueUrlError';
}

/** A queue URL: http(s), a path of account and queue name (`/123456789012/name`). */
export function checkQueueUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new QueueUrlError(
      `Invalid queue URL ${JSON.stringify(raw)}: expected a URL such as https://sqs.us-east-1.amazonaws.com/123456789012/litepix-prewarm`,
    );
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !/^\/[^/]+\/[^/]+$/.test(url.pathname))
    throw new QueueUrlError(
      `Invalid queue URL ${JSON.stringify(raw)}: expected http(s)://<host>/<account>/<queue name>`,
    );
  return url;
}

const isLocalHost = (host: string) =>
  host === '127.0.0.1' || host === 'localhost' || host.endsWith('.localhost') || host === '[::1]';

export function createSqsClient(queueUrl: string, options: { region?: string | undefined } = {}): SQSClient {
  const url = checkQueueUrl(queueUrl);
  const local = isLocalHost(url.hostname);
  const fromHost = /^sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(url.hostname)?.[1];
  return new SQSClient({
    region: fromHost ?? options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(local
      ? {
          credentials: LOCAL_SQS_CREDENTIALS,
          endpoint: `${url.protocol}//127.0.0.1:${url.port || (url.protocol === 'https:' ? 443 : 80)}`,
          useQueueUrlAsEndpoint: false,
        }
      : {}),
    maxAttempts: 3,
    requestHandler: {
      connectionTimeout: 2_000,
      requestTimeout: 30_000,
      throwOnRequestTimeout: true,
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 50 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 50 }),
    },
  });
}

export interface QueueFacts {
  /** Largest message body the queue takes, in bytes. */
  maxMessageBytes: number;
  visibilityTimeoutSeconds: number;
  /** The redrive policy's maxReceiveCount; undefined when the queue has no dead-letter queue. */
  maxReceiveCount: number | undefined;
  /** Messages waiting and in flight (approximate, as SQS counts them). */
  visible: number;
  inFlight: number;
}

/** One GetQueueAttributes: what the producer and workers need to know; throws when the queue does not answer. */
export async function queueFacts(sqs: SQSClient, queueUrl: string): Promise<QueueFacts> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'MaximumMessageSize',
        'VisibilityTimeout',
        'RedrivePolicy',
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
      ],
    }),
  );
  const a = out.Attributes ?? {};
  let maxReceiveCount: number | undefined;
  try {
    const policy = a.RedrivePolicy
      ? (JSON.parse(a.RedrivePolicy) as { maxReceiveCount?: unknown })
      : undefined;
    const n = Number(policy?.maxReceiveCount);
    maxReceiveCount = Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    maxReceiveCount = undefined;
  }
  return {
    maxMessageBytes: Number(a.MaximumMessageSize ?? 262_144) || 262_144,
    visibilityTimeoutSeconds: Number(a.VisibilityTimeout ?? 30) || 30,
    maxReceiveCount,
    visible: Number(a.ApproximateNumberOfMessages ?? 0) || 0,
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) || 0,
  };
}

/** What went wrong talking to a queue, in one line. */
export function describeQueueError(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND') return 'host not found';
  if (e?.name === 'QueueDoesNotExist' || e?.name === 'AWS.SimpleQueueService.NonExistentQueue')
    return 'no such queue';
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`.slice(0, 200);
}
