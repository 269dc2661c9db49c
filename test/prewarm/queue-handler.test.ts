/**
 * The queue path's core without a queue: message packing and decoding, and a batch of job
 * messages through the handler over s3rver (originals, variants and results buckets).
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLog } from '../../origin-fn/log.ts';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import { createPrewarmer, type InputItem } from '../../prewarm/prewarmer.ts';
import { createQueueHandler } from '../../prewarm/queue-handler.ts';
import { createPacker, DEFAULT_MESSAGE_BYTES, decodeMessage, newJobId } from '../../prewarm/queue-message.ts';
import { createResultsStore, walkJob } from '../../prewarm/results.ts';
import { fixture } from '../helpers/images.ts';
import { startS3rver } from '../helpers/s3rver.ts';
import { type PrewarmStack, startPrewarmStack, testSettings } from './helpers.ts';

const log = createLog({ level: 'silent' });
const RESULTS = 'litepix-results';

describe('message packing', () => {
  const unit = (i: number) => ({ id: `u${i}`, images: [`photos/${i}.jpg`] });

  it('packs units in input order, at most maxUnits per message, each keeping its seq', () => {
    const packer = createPacker({ job: 'job-1', maxUnits: 3 });
    const bodies = [];
    for (let seq = 1; seq <= 7; seq++) bodies.push(...packer.add({ seq, unit: unit(seq) }));
    const last = packer.flush();
    if (last) bodies.push(last);
    expect(bodies.map((b) => [b.firstSeq, b.lastSeq, b.units])).toEqual([
      [1, 3, 3],
      [4, 6, 3],
      [7, 7, 1],
    ]);
    const decoded = decodeMessage(bodies[1]?.body ?? '');
    expect(decoded.job).toBe('job-1');
    expect(decoded.items).toEqual([4, 5, 6].map((seq) => ({ seq, unit: unit(seq) })));
  });

  it('never makes a body over maxBytes (UTF-8 bytes, as SQS counts)', () => {
    const packer = createPacker({ job: 'job-2', maxBytes: 2000, maxUnits: 1000 });
    const sizes: number[] = [];
    for (let seq = 1; seq <= 200; seq++)
      for (const m of packer.add({ seq, unit: { id: seq, text: 'é'.repeat(seq % 97) } })) sizes.push(m.bytes);
    for (const m of [packer.flush()]) if (m) sizes.push(m.bytes);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2000);
    expect(sizes.length).toBeGreaterThan(5);
  });

  it('refuses a unit larger than a message alone with its seq, as a failed item that still travels', () => {
    const refused: InputItem[] = [];
    const packer = createPacker({ job: 'job-3', maxBytes: 1024, onRefused: (i) => refused.push(i) });
    packer.add({ seq: 1, unit: { id: 'small' } });
    packer.add({ seq: 2, unit: { id: 'big', blob: 'x'.repeat(5000) } });
    const body = packer.flush()?.body ?? '';
    expect(refused).toHaveLength(1);
    expect(refused[0]?.error?.code).toBe('PREWARM_UNIT_TOO_LARGE');
    expect(refused[0]?.error?.message).toMatch(
      /^Data Unit 2 is \d+ bytes as JSON; a queue message holds at most \d+ bytes/,
    );
    expect(decodeMessage(body).items.map((i) => [i.seq, i.error?.code])).toEqual([
      [1, undefined],
      [2, 'PREWARM_UNIT_TOO_LARGE'],
    ]);
  });

  it('escapes the two characters JSON leaves raw that SQS refuses', () => {
    const packer = createPacker({ job: 'job-4' });
    packer.add({ seq: 1, unit: { text: 'a\uFFFEb\uFFFF' } });
    const body = packer.flush()?.body ?? '';
    expect(body).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(decodeMessage(body).items[0]?.unit).toEqual({ text: 'a\uFFFEb\uFFFF' });
  });

  it('reads bare bodies as before and refuses malformed envelopes with a reason', () => {
    expect(decodeMessage('{"id":"a"}\n{"id":"b"}', 5).items.map((i) => i.seq)).toEqual([5, 6]);
    expect(() => decodeMessage('{"litepix":"prewarm/9","job":"j","units":[]}')).toThrow(
      'Unknown message kind "prewarm/9": expected "prewarm/1"',
    );
    expect(() => decodeMessage('{"litepix":"prewarm/1","job":"../x","units":[{"seq":1}]}')).toThrow(
      /Invalid job id/,
    );
    expect(() =>
      decodeMessage('{"litepix":"prewarm/1","job":"j","units":[{"seq":2,"unit":{}},{"seq":2,"unit":{}}]}'),
    ).toThrow('Unit 2 of the message has seq 2: expected an integer above 2 (increasing)');
    expect(DEFAULT_MESSAGE_BYTES).toBe(262_144);
    expect(newJobId(new Date('2026-12-04T08:00:00.123Z'))).toMatch(/^20261204T080000Z-[0-9a-f]{6}$/);
  });
});

describe('queue handler with job messages', () => {
  let stack: PrewarmStack;
  let results: ReturnType<typeof createResultsStore>;
  let s3: Awaited<ReturnType<typeof startS3rver>>;
  beforeAll(async () => {
    stack = await startPrewarmStack();
    s3 = await startS3rver({ buckets: [RESULTS] });
    results = createResultsStore({ client: s3.client, bucket: RESULTS });
    await stack.put('photos/hats.jpg', fixture('kodim03-q95.jpg'), 'image/jpeg');
  });
  afterAll(async () => {
    await s3?.stop();
    await stack?.stop();
  });

  const body = (job: string, items: InputItem[]) => {
    const packer = createPacker({ job, maxUnits: 100 });
    for (const i of items) packer.add(i);
    return packer.flush()?.body ?? '';
  };

  it('writes each message whole under <job>/<first>-<last>.ndjson, failed units included, and keeps them', async () => {
    const handle = createQueueHandler({ prewarmer: stack.prewarmer(), log, results, maxReceives: 3 });
    const job = 'handler-job';
    await results.putManifest({
      job,
      state: 'sent',
      units: 4,
      messages: 2,
      startedAt: new Date().toISOString(),
    });
    const out = await handle([
      {
        messageId: 'm1',
        receiveCount: 1,
        body: body(job, [
          { seq: 1, unit: { id: 'a', images: ['photos/hats.jpg'] } },
          { seq: 2, error: { code: 'PREWARM_BAD_JSON', message: 'Data Unit 2 is not valid JSON' } },
        ]),
      },
      {
        messageId: 'm2',
        receiveCount: 1,
        body: body(job, [
          { seq: 3, unit: { id: 'c', images: ['photos/missing.jpg'] } },
          { seq: 4, unit: { id: 'd', images: ['photos/hats.jpg'] } },
        ]),
      },
    ]);
    // A missing image and a broken unit are answers: both messages are done, nothing retried.
    expect(out.failed).toEqual([]);
    expect(out.written).toEqual([
      'results/handler-job/0000000001-0000000002.ndjson',
      'results/handler-job/0000000003-0000000004.ndjson',
    ]);
    const { records: lines } = await results.read(out.written[1] as string);
    expect(lines.map((l) => [l.seq, l.status, l.report.images[0]?.code])).toEqual([
      [3, 'failed', 'IMG_NOT_FOUND'],
      [4, 'done', undefined],
    ]);
    expect(JSON.stringify(lines[1]?.unit)).toContain('https://cdn.example.test/photos/hats.jpg');

    const status = await walkJob(results, job);
    expect(status).toMatchObject({
      complete: true,
      units: { sent: 4, done: 2, failed: 2, pending: 0 },
      messages: { sent: 2, finished: 2 },
    });
    expect(status.failures.map((f) => f.seq)).toEqual([2, 3]);
  });

  it('a redelivered message overwrites its results (one object, each unit once)', async () => {
    const job = 'redelivered';
    const message = body(job, [{ seq: 1, unit: { id: 'a', images: ['photos/hats.jpg'] } }]);
    for (let receive = 1; receive <= 2; receive++) {
      const handle = createQueueHandler({ prewarmer: stack.prewarmer(), log, results, maxReceives: 3 });
      expect((await handle([{ messageId: 'm', receiveCount: receive, body: message }])).failed).toEqual([]);
    }
    const listed = await s3.client.send(
      new ListObjectsV2Command({ Bucket: RESULTS, Prefix: `results/${job}/` }),
    );
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['results/redelivered/0000000001-0000000001.ndjson']);
  });

  it('retries a message whose unit hit an internal error, writing nothing until its last receive', async () => {
    const job = 'internal';
    // A store that throws a plain Error for one key: an internal fault by construction (no real
    // server fails this way on demand).
    const broken = {
      ...stack.store,
      getOriginal: async (...args: Parameters<PrewarmStack['store']['getOriginal']>) => {
        if (args[0] === 'photos/boom.jpg') throw new Error('boom by construction');
        return stack.store.getOriginal(...args);
      },
      headOriginal: async (key: string) => {
        if (key === 'photos/boom.jpg') throw new Error('boom by construction');
        return stack.store.headOriginal(key);
      },
    };
    const prewarmer = createPrewarmer({
      store: broken,
      transformer: createTransformer(DEFAULT_LIMITS),
      settings: testSettings(),
      log,
    });
    const message = body(job, [
      { seq: 1, unit: { id: 'ok', images: ['photos/hats.jpg'] } },
      { seq: 2, unit: { id: 'boom', images: ['photos/boom.jpg'] } },
    ]);
    const handle = createQueueHandler({ prewarmer, log, results, maxReceives: 2 });
    const first = await handle([{ messageId: 'm', receiveCount: 1, body: message }]);
    expect(first).toMatchObject({ failed: ['m'], written: [] });
    const last = await handle([{ messageId: 'm', receiveCount: 2, body: message }]);
    expect(last).toMatchObject({ failed: ['m'], written: ['results/internal/0000000001-0000000002.ndjson'] });
    const { records: lines } = await results.read(last.written[0] as string);
    expect(lines.map((l) => [l.seq, l.status])).toEqual([
      [1, 'done'],
      [2, 'failed'],
    ]);
    expect(lines[1]?.report.images[0]?.code).toBe('IMG_INTERNAL');
  });
});
