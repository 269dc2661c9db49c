/**
 * The producer of the queue path: Data Units in (a stream, read lazily), job messages out.
 * Units are packed many per message (queue-message.ts) and sent with SendMessageBatch (10
 * entries, at most `maxBatchBytes` of bodies per call), a few calls in flight; entries the
 * response lists as failed are sent again with backoff (a sender fault, such as a body SQS
 * refuses, is not retried: it ends the run with its reason). Memory holds the messages of the
 * calls in flight, whatever the input's size.
 *
 * The job manifest (results.ts) is written before the first message (`sending`) and after the
 * last (`sent`, with the number of units and messages), so `status` can tell pending from done.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { InputItem } from './prewarmer.ts';
import { createPacker, type PackedMessage } from './queue-message.ts';
import type { ResultsStore } from './results.ts';

export interface ProducerOptions {
  sqs: SQSClient;
  queueUrl: string;
  results: ResultsStore;
  job: string;
  items: AsyncIterable<InputItem> | Iterable<InputItem>;
  maxBytes: number;
  maxUnits: number;
  /** Bytes of message bodies per SendMessageBatch call (SQS limits the whole request). Default maxBytes. */
  maxBatchBytes?: number | undefined;
  /** SendMessageBatch calls at once. Default 4. */
  inFlight?: number | undefined;
  input?: string | undefined;
  onRefused?: ((item: InputItem) => void) | undefined;
  onSent?: ((progress: { units: number; messages: number }) => void) | undefined;
}

export interface ProducerResult {
  job: string;
  units: number;
  messages: number;
  bytes: number;
  refused: number[];
  /** Entries sent again after a batch response listed them as failed. */
  resent: number;
}

export class ProducerError extends Error {
  override name = 'ProducerError';
}

export async function produce(options: ProducerOptions): Promise<ProducerResult> {
  const { sqs, queueUrl, job } = options;
  const maxBatchBytes = options.maxBatchBytes ?? options.maxBytes;
  const startedAt = new Date().toISOString();
  const result: ProducerResult = { job, units: 0, messages: 0, bytes: 0, refused: [], resent: 0 };
  await options.results.putManifest({
    job,
    state: 'sending',
    units: 0,
    messages: 0,
    startedAt,
    queue: queueUrl,
    input: options.input,
  });
  const packer = createPacker({
    job,
    maxBytes: options.maxBytes,
    maxUnits: options.maxUnits,
    onRefused: (item) => {
      result.refused.push(item.seq);
      options.onRefused?.(item);
    },
  });

  const sending: Array<Promise<void>> = [];
  let batch: PackedMessage[] = [];
  let batchBytes = 0;
  const send = async (messages: PackedMessage[]) => {
    let pending = messages.map((m, i) => ({ Id: String(i), MessageBody: m.body }));
    for (let attempt = 1; ; attempt++) {
      let failed: Array<{ Id?: string; SenderFault?: boolean; Code?: string; Message?: string }>;
      try {
        const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
        failed = out.Failed ?? [];
      } catch (err) {
        if (attempt >= 5) throw err;
        await sleep(200 * 2 ** attempt);
        continue;
      }
      const sender = failed.find((f) => f.SenderFault);
      if (sender)
        throw new ProducerError(
          `the queue refused a message: ${sender.Code ?? ''} ${sender.Message ?? ''}`.trim(),
        );
      if (failed.length === 0) break;
      if (attempt >= 5)
        throw new ProducerError(`${failed.length} messages still failing after ${attempt} attempts`);
      const ids = new Set(failed.map((f) => f.Id));
      pending = pending.filter((e) => ids.has(e.Id));
      result.resent += pending.length;
      await sleep(100 * 2 ** attempt);
    }
    for (const m of messages) {
      result.messages++;
      result.units += m.units;
      result.bytes += m.bytes;
    }
    options.onSent?.({ units: result.units, messages: result.messages });
  };
  const flushBatch = async () => {
    if (batch.length === 0) return;
    const call = send(batch);
    batch = [];
    batchBytes = 0;
    sending.push(call);
    // Keep an error visible at once, and memory bounded: wait for the oldest call when full.
    call.catch(() => undefined);
    if (sending.length >= (options.inFlight ?? 4)) await sending.shift();
  };
  const queueMessage = async (m: PackedMessage) => {
    if (batch.length >= 10 || (batch.length > 0 && batchBytes + m.bytes > maxBatchBytes)) await flushBatch();
    batch.push(m);
    batchBytes += m.bytes;
  };

  for await (const item of options.items) for (const m of packer.add(item)) await queueMessage(m);
  const last = packer.flush();
  if (last) await queueMessage(last);
  await flushBatch();
  while (sending.length > 0) await sending.shift();
  await options.results.putManifest({
    job,
    state: 'sent',
    units: result.units,
    messages: result.messages,
    startedAt,
    finishedAt: new Date().toISOString(),
    queue: queueUrl,
    input: options.input,
  });
  return result;
}
