/**
 * 10,000 Data Units streamed from an NDJSON file: each unit carries 4 KB of text, so holding the
 * input (about 40 MB on disk, twice that as JS strings) or the outputs in memory would show as
 * heap growth far beyond the bound checked here.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readUnits } from '../../prewarm/input.ts';
import { fixture } from '../helpers/images.ts';
import { type PrewarmStack, startPrewarmStack } from './helpers.ts';

const UNITS = 10_000;
const PADDING = 'lorem ipsum dolor sit amet '.repeat(150); // ~4 KB

// A full GC before each sample, so the heap measured is what is still referenced, not garbage
// waiting for a collection.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('NDJSON streaming', () => {
  let stack: PrewarmStack;
  let dir: string;
  beforeAll(async () => {
    stack = await startPrewarmStack();
    for (const n of [1, 2, 3])
      await stack.put(`tiny/${n}.png`, fixture('png-palette-256-colors.png'), 'image/png');
    dir = await mkdtemp(join(tmpdir(), 'litepix-ndjson-'));
  });
  afterAll(async () => {
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('pre-warms 10,000 units in order with bounded memory', async () => {
    const input = join(dir, 'units.ndjson');
    const w = createWriteStream(input);
    for (let i = 1; i <= UNITS; i++) {
      const line = JSON.stringify({ id: `u${i}`, text: `${i} ${PADDING}`, image: `tiny/${(i % 3) + 1}.png` });
      if (!w.write(`${line}\n`)) await new Promise<void>((r) => w.once('drain', () => r()));
    }
    w.end();
    await finished(w);

    const mb = (n: number) => n / 1024 / 1024;
    const p = stack.prewarmer({ window: 50, formats: ['webp'] });
    const out = createWriteStream(join(dir, 'out.ndjson'));
    gc();
    const baseline = process.memoryUsage();
    let peakHeap = baseline.heapUsed;
    let peakRss = baseline.rss;
    let expected = 1;
    let outOfOrder = 0;
    let done = 0;
    const totals = await p.run(readUnits(createReadStream(input)), async (r) => {
      if (r.report.seq !== expected++) outOfOrder++;
      if (r.report.status === 'done') done++;
      if (!out.write(`${JSON.stringify(r.unit)}\n`))
        await new Promise<void>((res) => out.once('drain', () => res()));
      if (r.report.seq % 1000 === 0) {
        gc();
        const m = process.memoryUsage();
        peakHeap = Math.max(peakHeap, m.heapUsed);
        peakRss = Math.max(peakRss, m.rss);
      }
    });
    out.end();
    await finished(out);

    expect(totals.units).toEqual({ total: UNITS, done: UNITS, failed: 0 });
    expect(done).toBe(UNITS);
    expect(outOfOrder).toBe(0);
    expect(p.counters.transforms).toBe(3);

    // Holding the input alone would add ~80 MB of live heap; 2 windows of 50 units are ~1 MB.
    expect(mb(peakHeap - baseline.heapUsed)).toBeLessThan(24);
    expect(mb(peakRss - baseline.rss)).toBeLessThan(160);
  });
});
