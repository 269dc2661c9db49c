/**
 * The local stack's queue server: fauxqs (an SQS-compatible server, in memory) on 127.0.0.1,
 * with the pre-warm work queue and its dead-letter queue created through the real SQS API, as
 * the CDK stack has them (redrive after maxReceiveCount). Kept apart from dev-stack.ts so tests
 * can run a queue without the rest of the stack.
 */
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';
import { createSqsClient } from '../prewarm/sqs-client.ts';

import { LOCAL_QUEUE } from './stack-file.ts';

const HOST = '127.0.0.1';

export interface LocalQueues {
  endpoint: string;
  queueUrl: string;
  deadLetterQueueUrl: string;
  stop(): Promise<void>;
}

export interface LocalQueueOptions {
  port: number;
  /** Seconds a received message stays invisible (a dead worker's message comes back after it). */
  visibilityTimeoutSeconds?: number | undefined;
  maxReceiveCount?: number | undefined;
  name?: string | undefined;
}

export async function startLocalQueues(options: LocalQueueOptions): Promise<LocalQueues> {
  const app = buildApp({ logger: false });
  let address: string;
  try {
    address = await app.listen({ port: options.port, host: HOST });
  } catch (err) {
    await app.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new Error(
        `The local queue cannot listen on ${HOST}:${options.port}: the port is in use; choose another with --sqs-port or LITEPIX_SQS_PORT`,
      );
    throw err;
  }
  const endpoint = address.replace('localhost', HOST);
  const name = options.name ?? LOCAL_QUEUE;
  const sqs = createSqsClient(`${endpoint}/000000000000/${name}`);
  try {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
    const dlqAttrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    const queue = await sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 60),
          MaximumMessageSize: String(256 * 1024),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: dlqAttrs.Attributes?.QueueArn,
            maxReceiveCount: String(options.maxReceiveCount ?? 3),
          }),
        },
      }),
    );
    return {
      endpoint,
      queueUrl: queue.QueueUrl as string,
      deadLetterQueueUrl: dlq.QueueUrl as string,
      stop: async () => {
        sqs.destroy();
        await app.close();
      },
    };
  } catch (err) {
    sqs.destroy();
    await app.close();
    throw err;
  }
}
