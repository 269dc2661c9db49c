/**
 * The queue path end to end, through the real parts: the local stack (s3rver, fauxqs over
 * HTTP), `litepix prewarm --queue` and `litepix worker` as child processes, `status` and
 * `collect`. The same input also runs through `litepix prewarm --out --report` (direct), and
 * the two must agree unit by unit.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../helpers/images.ts';
import { type QueueTestStack, runCli, startCli, startQueueTestStack } from '../helpers/local-stack.ts';

const SETTINGS = {
  LITEPIX_PREWARM_PRESETS: 'thumb',
  LITEPIX_PREWARM_FORMATS: 'webp',
  LITEPIX_LOG_LEVEL: 'warn',
};
const PHOTOS = ['kodim03-q95.jpg', 'kodim23-q95.jpg', 'kodim13-crop-q95.jpg', 'jpeg-grayscale.jpg'];

interface Report {
  totals: {
    units: { done: number; failed: number };
    images: { total: number; failed: number };
    variants: { produced: number; existing: number; failed: number };
    bytesBefore: number;
    bytesAfter: number;
  };
  units: unknown[];
}

const lines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** 1,000 units: shared originals, broken JSON, missing images, units without images, several images. */
function mixedUnits(n: number): string {
  const out: string[] = [];
  for (let i = 1; i <= n; i++) {
    if (i % 97 === 0) out.push(`{"id":"u${i}", broken`);
    else if (i % 31 === 0) out.push(JSON.stringify({ id: `u${i}`, photo: `photos/missing-${i}.jpg` }));
    else if (i % 53 === 0) out.push(JSON.stringify({ id: `u${i}`, text: 'no images here' }));
    else
      out.push(
        JSON.stringify({
          id: `u${i}`,
          images: [
            `photos/${PHOTOS[i % PHOTOS.length]}`,
            ...(i % 5 === 0 ? [`photos/${PHOTOS[(i + 1) % PHOTOS.length]}`] : []),
          ],
        }),
      );
  }
  return `${out.join('\n')}\n`;
}

describe('queue path: producer → fauxqs → two workers → results', () => {
  let q: QueueTestStack;
  let dir: string;
  let env: Record<string, string>;
  let s3: QueueTestStack['s3'];
  beforeAll(async () => {
    q = await startQueueTestStack(SETTINGS, { queueVisibilitySeconds: 5 });
    ({ dir, env, s3 } = q);
    for (const name of PHOTOS) await q.putOriginal(`photos/${name}`, fixture(name));
  });
  afterAll(() => q?.stop());

  it('gives every unit back exactly once, in order, as the direct run does', async () => {
    const input = join(dir, 'units.ndjson');
    writeFileSync(input, mixedUnits(1000));
    const sent = await runCli(['prewarm', input, '--queue'], env);
    expect(sent.err).toMatch(/sent 1000 units in 100 messages \(10\.0 units and [\d.]+ KB per message\)/);
    expect(sent.code).toBe(0);
    const job = sent.out.trim();
    expect(job).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);

    const pending = await runCli(['prewarm', 'status', job, '--json'], env);
    expect(pending.code).toBe(3);
    expect(JSON.parse(pending.out)).toMatchObject({ state: 'sent', complete: false, units: { sent: 1000 } });

    const workers = [startCli(['worker', '--lanes', '2'], env), startCli(['worker', '--lanes', '2'], env)];
    const status = await q.waitForJob(job);
    for (const w of workers) w.child.kill('SIGTERM');
    const stopped = await Promise.all(workers.map((w) => w.done));
    for (const s of stopped) {
      expect(s.code).toBe(0);
      expect(s.err).toMatch(/litepix worker: stopped after \d+ messages/);
    }
    // Both workers took part.
    const taken = stopped.map((s) => Number(/stopped after (\d+) messages/.exec(s.err)?.[1]));
    expect(taken.every((n) => n > 0)).toBe(true);
    expect(taken.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(100);

    const out = join(dir, 'collected.ndjson');
    const report = join(dir, 'collected.json');
    const collected = await runCli(['prewarm', 'collect', job, '--out', out, '--report', report], env);
    expect(collected.code).toBe(1); // some units failed, as in the input
    const got = lines(readFileSync(out, 'utf8'));
    expect(got.map((l) => l.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));

    const directOut = join(dir, 'direct.ndjson');
    const directReport = join(dir, 'direct.json');
    const direct = await runCli(['prewarm', input, '--out', directOut, '--report', directReport], env);
    expect(direct.code).toBe(1);
    // Unit by unit the same lines: status, code, message, the rewritten unit.
    expect(got).toEqual(lines(readFileSync(directOut, 'utf8')));

    const d = JSON.parse(readFileSync(directReport, 'utf8')) as Report;
    const c = JSON.parse(readFileSync(report, 'utf8')) as Report;
    expect(c.units).toHaveLength(1000);
    expect(status).toMatchObject({
      complete: true,
      units: { sent: 1000, done: d.totals.units.done, failed: d.totals.units.failed, pending: 0 },
      images: { total: d.totals.images.total, failed: d.totals.images.failed },
      bytesBefore: d.totals.bytesBefore,
      bytesAfter: d.totals.bytesAfter,
    });
    expect(d.totals.units.failed).toBeGreaterThan(40);
    // The workers made every original's one variant (two batches may race to make the same one:
    // same key, same bytes, so the second PUT overwrites); the direct run found them all made.
    const variants = status.variants as { produced: number; failed: number };
    expect(variants.produced).toBeGreaterThanOrEqual(PHOTOS.length);
    expect(variants.failed).toBe(0);
    expect(d.totals.variants).toEqual({ produced: 0, existing: PHOTOS.length, failed: 0 });
    const stored = await s3.send(new ListObjectsV2Command({ Bucket: 'litepix-variants' }));
    expect(stored.Contents?.map((o) => o.Key)).toHaveLength(PHOTOS.length);
    const results = await s3.send(
      new ListObjectsV2Command({ Bucket: 'litepix-results', Prefix: `results/${job}/` }),
    );
    expect(results.Contents?.length).toBe(101); // 100 messages + job.json
  });
});
