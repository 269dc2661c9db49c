import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openJournal } from '../../cli/prewarm-journal.ts';
import { createTally } from '../../prewarm/tally.ts';
import type { UnitResult } from '../../prewarm/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'litepix-journal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const result = (seq: number): UnitResult => ({
  report: {
    seq,
    status: 'done',
    images: [{ pointer: '/img', ref: 'a.jpg', status: 'ok', bytesBefore: 100, bytesAfter: 10, variants: [] }],
  },
  unit: { id: seq, img: `https://cdn.test/a.jpg?preset=thumb` },
});

describe('the crash-safe journal', () => {
  it('resumes after the last complete line, cutting a half-written one', async () => {
    const path = join(dir, 'a.partial');
    const first = await openJournal(path, 'fp-1');
    expect(first.done).toBe(0);
    for (const seq of [1, 2, 3]) await first.append(result(seq), createTally().totals());
    await first.close();
    appendFileSync(path, '{"seq":4,"report":{"seq":4,"sta'); // killed mid-write

    const second = await openJournal(path, 'fp-1');
    expect(second.done).toBe(3);
    for (const seq of [4, 5]) await second.append(result(seq), createTally().totals());
    const out = join(dir, 'a.ndjson');
    const report = join(dir, 'a.json');
    const totals = await second.finish({ out, report }, {});
    expect(totals.units).toEqual({ total: 5, done: 5, failed: 0 });
    expect(totals.savings).toBe(0.9);
    expect(
      readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).seq),
    ).toEqual([1, 2, 3, 4, 5]);
    expect((JSON.parse(readFileSync(report, 'utf8')) as { units: unknown[] }).units).toHaveLength(5);
    expect(existsSync(path)).toBe(false);
  });

  it('starts over when the journal belongs to another input or other options', async () => {
    const path = join(dir, 'b.partial');
    const first = await openJournal(path, 'fp-old');
    await first.append(result(1), createTally().totals());
    await first.close();
    const second = await openJournal(path, 'fp-new');
    expect(second.done).toBe(0);
    await second.close();
    expect(readFileSync(path, 'utf8')).not.toContain('"seq":1');
  });
});
