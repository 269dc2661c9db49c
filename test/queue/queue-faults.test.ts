/**
 * The queue path's faults, through the real parts (fauxqs over HTTP, s3rver, `litepix` child
 * processes):
 *  - a worker SIGKILLed in the middle of a message: after the visibility timeout another worker
 *    finishes it; collect has every unit once, the variants bucket each variant once;
 *  - a message that always fails (an internal error by construction, through a store wrapped in
 *    this test: no real server fails that way on demand) ends in the dead-letter queue after
 *    maxReceiveCount, and status shows its unit failed with the last error;
 *  - the visibility heartbeat: a message worked on for 4 timeouts is not handed to another worker;
 *  - bad input: a unit too large for a message alone, and a queue URL that does not answer.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalQueues, startLocalQueues } from '../../cli/local-sqs.ts';
import { createLog } from '../../origin-fn/log.ts';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import { createPrewarmer, type InputItem } from '../../prewarm/prewarmer.ts';
import { createQueueHandler } from '../../prewarm/queue-handler.ts';
import { newJobId } from '../../prewarm/queue-message.ts';
import { produce } from '../../prewarm/queue-producer.ts';
import { startQueueWorker } from '../../prewarm/queue-worker.ts';
import { createResultsStore, walkJob } from '../../prewarm/results.ts';
import { createSqsClient, queueFacts } from '../../prewarm/sqs-client.ts';
import { type QueueTestStack, runCli, startCli, startQueueTestStack } from '../helpers/local-stack.ts';
import { type PrewarmStack, startPrewarmStack, testSettings } from '../prewarm/helpers.ts';

const log = createLog({ level: 'silent' });
const SETTINGS = {
  LITEPIX_PREWARM_PRESETS: 'thumb,mobile',
  LITEPIX_PREWARM_FORMATS: 'webp',
  LITEPIX_LOG_LEVEL: 'warn',
};
const ORIGINALS = 8;
const UNITS_PER_MESSAGE = 4;

const lines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** A 2400×1600 photo-like JPEG, different for each n (so no two originals share a variant). */
async function bigOriginal(n: number): Promise<Buffer> {
  const noise = await sharp({
    create: {
      width: 2400,
      height: 1600,
      channels: 3,
      background: { r: 0, g: 0, b: 0 },
      noise: { type: 'gaussian', mean: 120, sigma: 40 },
    },
  })
    .blur(1.5)
    .png()
    .toBuffer();
  return sharp(noise)
    .modulate({ hue: n * 40, brightness: 0.8 + n * 0.05 })
    .jpeg({ quality: 90 })
    .toBuffer();
}

describe('queue path faults: a worker killed mid-message, bad input', () => {
  let q: QueueTestStack;
  let stack: QueueTestStack['stack'];
  let dir: string;
  let env: Record<string, string>;
  let s3: QueueTestStack['s3'];
  const keys = (bucket: string, prefix = '') =>
    s3
      .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))
      .then((out) => (out.Contents ?? []).map((o) => o.Key as string));
  const waitForStatus = (job: string) => q.waitForJob(job);

  beforeAll(async () => {
    q = await startQueueTestStack(SETTINGS, { queueVisibilitySeconds: 4 });
    ({ stack, dir, env, s3 } = q);
    for (let n = 1; n <= ORIGINALS; n++) await q.putOriginal(`big/${n}.jpg`, await bigOriginal(n));
  }, 120_000);
  afterAll(() => q?.stop());

  it('finishes the message of a worker SIGKILLed mid-message on another worker: no unit lost or doubled', async () => {
    const input = join(dir, 'big.ndjson');
    // Two messages of 4 units, one big original each.
    const units = Array.from({ length: ORIGINALS }, (_, i) => ({
      id: `big${i + 1}`,
      image: `big/${i + 1}.jpg`,
    }));
    writeFileSync(input, `${units.map((u) => JSON.stringify(u)).join('\n')}\n`);
    const sent = await runCli(
      ['prewarm', input, '--queue', '--units-per-message', String(UNITS_PER_MESSAGE)],
      env,
    );
    expect(sent.code).toBe(0);
    const job = sent.out.trim();
    const firstKey = `results/${job}/0000000001-0000000004.ndjson`;

    const doomed = startCli(['worker', '--lanes', '1', '--batch', '1'], env);
    // Mid-message: the first variants are stored, the first message's results are not.
    let variantsAtKill: string[] = [];
    for (let i = 0; i < 600 && variantsAtKill.length === 0; i++) {
      await sleep(50);
      variantsAtKill = await keys('litepix-variants');
    }
    expect(variantsAtKill.length).toBeGreaterThan(0);
    doomed.child.kill('SIGKILL');
    const killed = await doomed.done;
    expect(killed.signal).toBe('SIGKILL');
    expect(await keys('litepix-results', firstKey)).toEqual([]);

    const rescuer = startCli(['worker', '--lanes', '1', '--batch', '1'], env);
    const status = await waitForStatus(job);
    rescuer.child.kill('SIGTERM');
    expect((await rescuer.done).code).toBe(0);
    expect(status).toMatchObject({
      complete: true,
      units: { sent: ORIGINALS, done: ORIGINALS, failed: 0, pending: 0 },
      messages: { sent: 2, finished: 2 },
    });
    // The rescuer found stored what the killed worker had made, and made only the rest.
    const variants = status.variants as { produced: number; existing: number; failed: number };
    expect(variants.existing).toBeGreaterThanOrEqual(variantsAtKill.length);
    expect(variants.produced + variants.existing).toBe(ORIGINALS * 2);

    const out = join(dir, 'big-collected.ndjson');
    const collected = await runCli(['prewarm', 'collect', job, '--out', out], env);
    expect(collected.code).toBe(0);
    const got = lines(readFileSync(out, 'utf8'));
    expect(got.map((l) => l.seq)).toEqual(units.map((_, i) => i + 1));
    expect(got.map((l) => (l.unit as { id: string }).id)).toEqual(units.map((u) => u.id));
    // Each original's two variants stored once, under one key each.
    const stored = await keys('litepix-variants');
    expect(stored).toHaveLength(ORIGINALS * 2);
    for (let n = 1; n <= ORIGINALS; n++)
      expect(stored.filter((k) => k.includes(`big/${n}.jpg`) || k.includes(`big/${n}/`))).toHaveLength(2);
  }, 180_000);

  it('refuses a unit too large for a message with its sequence number; status shows it failed', async () => {
    const input = join(dir, 'oversized.ndjson');
    const big = { id: 'huge', note: 'x'.repeat(300 * 1024), image: 'big/1.jpg' };
    writeFileSync(input, `${JSON.stringify({ id: 'fine', image: 'big/1.jpg' })}\n${JSON.stringify(big)}\n`);
    const sent = await runCli(['prewarm', input, '--queue'], env);
    expect(sent.code).toBe(1);
    expect(sent.err).toMatch(
      /refused: Data Unit 2 is \d+ bytes as JSON; a queue message holds at most \d+ bytes of units/,
    );
    const job = sent.out.trim();
    const worker = startCli(['worker', '--lanes', '1'], env);
    const status = await waitForStatus(job);
    worker.child.kill('SIGTERM');
    await worker.done;
    expect(status).toMatchObject({ complete: true, units: { sent: 2, done: 1, failed: 1, pending: 0 } });
    expect(status.failures).toEqual([expect.objectContaining({ seq: 2, code: 'PREWARM_UNIT_TOO_LARGE' })]);
  }, 120_000);

  it('finds the local queue from LITEPIX_SQS_PORT (and the S3 from LITEPIX_S3_PORT) without the stack file', async () => {
    const input = join(dir, 'ports.ndjson');
    writeFileSync(input, '{"id":"p","image":"big/1.jpg"}\n');
    const ports = {
      ...SETTINGS,
      LITEPIX_DATA_DIR: join(dir, 'no-stack-here'),
      LITEPIX_S3_PORT: new URL(stack.s3Endpoint).port,
      LITEPIX_SQS_PORT: new URL(stack.queueUrl).port,
    };
    const sent = await runCli(['prewarm', input, '--queue'], ports);
    expect(sent.err).toContain(`:${ports.LITEPIX_SQS_PORT}/000000000000/litepix-prewarm as job`);
    expect(sent.code).toBe(0);
    const pending = await runCli(['prewarm', 'status', sent.out.trim()], ports);
    expect(pending.out).toContain('units: 1 sent');
  });

  it.each([
    [['prewarm', 'units.ndjson', '--queue', 'http://127.0.0.1:1/000000000000/nope']],
    [['worker', '--queue', 'http://127.0.0.1:1/000000000000/nope']],
  ])('%j: a queue that does not answer is one clear line and exit 2', async (args) => {
    const input = join(dir, 'units.ndjson');
    writeFileSync(input, '{"id":"a","image":"big/1.jpg"}\n');
    const res = await runCli(
      args.map((a) => (a === 'units.ndjson' ? input : a)),
      env,
    );
    expect(res.code).toBe(2);
    const said = res.err.trim().split('\n');
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/cannot reach the queue http:\/\/127\.0\.0\.1:1\/000000000000\/nope/);
  });
});

describe('queue path: a message that always fails ends in the dead-letter queue', () => {
  let stack: PrewarmStack;
  let queues: LocalQueues;
  beforeAll(async () => {
    stack = await startPrewarmStack();
    await stack.s3.client.send(new CreateBucketCommand({ Bucket: 'litepix-results' }));
    queues = await startLocalQueues({ port: 0, visibilityTimeoutSeconds: 1, maxReceiveCount: 2 });
  });
  afterAll(async () => {
    await queues?.stop();
    await stack?.stop();
  });

  /** A new job of these units, sent with the producer's defaults. */
  const sendJob = async (sqs: ReturnType<typeof createSqsClient>, items: InputItem[]) => {
    const job = newJobId();
    await produce({
      sqs,
      queueUrl: queues.queueUrl,
      results: results(),
      job,
      items,
      maxBytes: 256 * 1024,
      maxUnits: 10,
    });
    return job;
  };
  const results = () => createResultsStore({ client: stack.s3.client, bucket: 'litepix-results' });

  it('--until-empty waits for a message in flight elsewhere, then stops', async () => {
    const sqs = createSqsClient(queues.queueUrl);
    await stack.put('photos/once.jpg', await bigOriginal(2), 'image/jpeg');
    const job = await sendJob(sqs, [{ seq: 1, unit: { id: 'once', image: 'photos/once.jpg' } }]);
    // Another consumer holds the message (invisible for 2 s) and dies without deleting it.
    const held = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, VisibilityTimeout: 2, WaitTimeSeconds: 1 }),
    );
    expect(held.Messages).toHaveLength(1);
    const worker = startQueueWorker({
      sqs,
      queueUrl: queues.queueUrl,
      lanes: [
        createQueueHandler({
          prewarmer: stack.prewarmer({ presets: ['thumb'], formats: ['webp'] }),
          log,
          results: results(),
          maxReceives: 2,
        }),
      ],
      batchSize: 1,
      visibilityTimeoutSeconds: 1,
      untilEmpty: true,
      log,
    });
    const stats = await worker.done;
    sqs.destroy();
    expect(stats).toMatchObject({ messages: 1, deleted: 1, failed: 0 });
    expect(await walkJob(results(), job)).toMatchObject({ complete: true, units: { done: 1, pending: 0 } });
  }, 60_000);

  it('keeps a message it works on longer than the visibility timeout from other workers (heartbeat)', async () => {
    const sqs = createSqsClient(queues.queueUrl);
    await stack.put('photos/long.jpg', await bigOriginal(3), 'image/jpeg');
    const job = await sendJob(sqs, [{ seq: 1, unit: { id: 'long', image: 'photos/long.jpg' } }]);
    const real = createQueueHandler({
      prewarmer: stack.prewarmer({ presets: ['thumb'], formats: ['webp'] }),
      log,
      results: results(),
      maxReceives: 2,
    });
    // A long message by construction: the handler waits 4 s (4 visibility timeouts) first.
    const received: string[] = [];
    const lane = (name: string) => async (records: Parameters<typeof real>[0]) => {
      received.push(name);
      await sleep(4000);
      return real(records);
    };
    const options = {
      sqs,
      queueUrl: queues.queueUrl,
      batchSize: 1,
      visibilityTimeoutSeconds: 1,
      waitSeconds: 1,
      untilEmpty: true,
      log,
    };
    const a = startQueueWorker({ ...options, lanes: [lane('a')] });
    await sleep(300);
    const b = startQueueWorker({ ...options, lanes: [lane('b')] });
    const [sa, sb] = await Promise.all([a.done, b.done]);
    sqs.destroy();
    expect(received).toHaveLength(1);
    expect(sa.messages + sb.messages).toBe(1);
    expect(sa.deleted + sb.deleted).toBe(1);
    expect(await walkJob(results(), job)).toMatchObject({ complete: true, units: { done: 1 } });
  }, 60_000);

  it('after maxReceiveCount receives; status shows the unit failed with the last error', async () => {
    const sqs = createSqsClient(queues.queueUrl);
    await stack.put('photos/ok.jpg', await bigOriginal(1), 'image/jpeg');
    const job = await sendJob(sqs, [
      { seq: 1, unit: { id: 'ok', image: 'photos/ok.jpg' } },
      { seq: 2, unit: { id: 'boom', image: 'photos/boom.jpg' } },
    ]);
    // A store that throws a plain Error for one key: an internal fault by construction.
    const boom = () => {
      throw new Error('boom by construction');
    };
    const broken = {
      ...stack.store,
      getOriginal: async (...args: Parameters<PrewarmStack['store']['getOriginal']>) =>
        args[0] === 'photos/boom.jpg' ? boom() : stack.store.getOriginal(...args),
      headOriginal: async (key: string) =>
        key === 'photos/boom.jpg' ? boom() : stack.store.headOriginal(key),
    };
    const facts = await queueFacts(sqs, queues.queueUrl);
    expect(facts.maxReceiveCount).toBe(2);
    const handle = createQueueHandler({
      prewarmer: createPrewarmer({
        store: broken,
        transformer: createTransformer(DEFAULT_LIMITS),
        settings: testSettings({ presets: ['thumb'], formats: ['webp'] }),
        log,
      }),
      log,
      results: results(),
      maxReceives: facts.maxReceiveCount ?? 3,
    });
    const worker = startQueueWorker({
      sqs,
      queueUrl: queues.queueUrl,
      lanes: [handle],
      batchSize: 1,
      visibilityTimeoutSeconds: 1,
      waitSeconds: 1,
      log,
    });
    const count = async (url: string) => {
      const out = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return (
        Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
        Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
      );
    };
    let inDlq = 0;
    for (let i = 0; i < 200 && inDlq === 0; i++) {
      await sleep(100);
      inDlq = await count(queues.deadLetterQueueUrl);
    }
    const stats = await worker.stop();
    sqs.destroy();
    expect(inDlq).toBe(1);
    expect(await count(queues.queueUrl)).toBe(0);
    // Received twice (maxReceiveCount), failed both times, never deleted.
    expect(stats).toMatchObject({ messages: 2, failed: 2, deleted: 0 });

    const status = await walkJob(results(), job);
    expect(status).toMatchObject({
      complete: true,
      units: { sent: 2, done: 1, failed: 1, pending: 0 },
    });
    expect(status.failures).toEqual([
      expect.objectContaining({
        seq: 2,
        id: 'boom',
        code: 'PREWARM_IMAGES_FAILED',
        image: expect.objectContaining({ ref: 'photos/boom.jpg', code: 'IMG_INTERNAL' }),
      }),
    ]);
  }, 60_000);
});
