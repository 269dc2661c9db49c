/**
 * A Data Unit nested 100,000 levels deep parses (JSON.parse is not recursive) but overflows the
 * stack of every recursive walk after it: the string search, structuredClone, JSON.stringify of
 * the output line and the journal. Pre-warm refuses it alone (PREWARM_TOO_DEEP) and the batch
 * goes on, in the core, the SQS Lambda and `litepix prewarm` (as a child process, over s3rver).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLog } from '../../origin-fn/log.ts';
import { DEFAULT_MAX_UNIT_DEPTH } from '../../prewarm/config.ts';
import { createSqsHandler } from '../../prewarm/lambda.ts';
import { compileSelector } from '../../prewarm/selectors.ts';
import type { UnitResult } from '../../prewarm/types.ts';
import { nestedDeeperThan } from '../../prewarm/unit-depth.ts';
import { fixture } from '../helpers/images.ts';
import { runCli } from '../helpers/local-stack.ts';
import { items, type PrewarmStack, runAll, startPrewarmStack } from './helpers.ts';

/** `{"a":{"a":…{<inner>}…}}`: `levels` objects in all (the innermost holds `inner`). */
const nested = (levels: number, inner = '"x":1') =>
  `${'{"a":'.repeat(levels - 1)}{${inner}}${'}'.repeat(levels - 1)}`;
const DEEP = nested(100_000);
const DEEP_WITH_IMAGE = nested(100_000, '"cover":"photos/hats.jpg"');

describe('nestedDeeperThan', () => {
  it.each([
    [{}, 1],
    [{ a: [1, { b: 'c' }] }, 3],
    [[[], [[[]]]], 4],
    [JSON.parse(nested(64)), 64],
  ])('measures %j as %i levels', (value, levels) => {
    expect(nestedDeeperThan(value, levels)).toBe(false);
    expect(nestedDeeperThan(value, levels - 1)).toBe(true);
  });

  it('measures 100,000 levels without overflowing the stack', () => {
    expect(nestedDeeperThan(JSON.parse(DEEP), 99_999)).toBe(true);
    expect(nestedDeeperThan(JSON.parse(DEEP), 100_000)).toBe(false);
  });
});

describe('a too deep Data Unit fails alone', () => {
  let stack: PrewarmStack;
  let dir: string;
  beforeAll(async () => {
    stack = await startPrewarmStack();
    await stack.put('photos/hats.jpg', fixture('kodim03-q95.jpg'), 'image/jpeg');
    dir = mkdtempSync(join(tmpdir(), 'litepix-deep-'));
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports PREWARM_TOO_DEEP for units past the limit (auto-detection and selectors), pre-warms the rest', async () => {
    const atLimit = nested(DEFAULT_MAX_UNIT_DEPTH, '"cover":"photos/hats.jpg"');
    const overLimit = nested(DEFAULT_MAX_UNIT_DEPTH + 1, '"cover":"photos/hats.jpg"');
    const units = [DEEP, DEEP_WITH_IMAGE, atLimit, overLimit, '{"id":"ok","cover":"photos/hats.jpg"}'];
    for (const selectors of [[], [compileSelector('cover')]]) {
      const { results, totals } = await runAll(
        stack.prewarmer({ selectors }),
        items(...units.map((u) => JSON.parse(u))),
      );
      const codes = results.map((r) => r.report.code ?? r.report.status);
      if (selectors.length === 0)
        expect(codes).toEqual(['PREWARM_TOO_DEEP', 'PREWARM_TOO_DEEP', 'done', 'PREWARM_TOO_DEEP', 'done']);
      // With a selector "cover" only the top level is looked at: the unit at the limit has none.
      else
        expect(codes).toEqual([
          'PREWARM_TOO_DEEP',
          'PREWARM_TOO_DEEP',
          'PREWARM_NO_IMAGES',
          'PREWARM_TOO_DEEP',
          'done',
        ]);
      expect(results[0]?.report.message).toBe(
        'Data Unit 1 nests objects and arrays more than 64 levels deep; at most 64 are allowed (LITEPIX_PREWARM_MAX_DEPTH)',
      );
      // The refused unit is not echoed back (writing it would be the overflowing walk).
      expect(results[0]).not.toHaveProperty('unit');
      expect(totals.units.failed).toBe(selectors.length === 0 ? 3 : 4);
    }
  });

  it('turns a unit whose result cannot be written into one PREWARM_OUTPUT_FAILED, and goes on', async () => {
    // A BigInt cannot be serialised: the real JSON.stringify of the output step throws.
    const written: string[] = [];
    const seen: UnitResult[] = [];
    const totals = await stack
      .prewarmer()
      .run(items({ cover: 'photos/hats.jpg', n: 1n }, { cover: 'photos/hats.jpg' }), (r) => {
        written.push(JSON.stringify(r));
        seen.push(r);
      });
    expect(seen.map((r) => [r.report.seq, r.report.status, r.report.code])).toEqual([
      [1, 'failed', 'PREWARM_OUTPUT_FAILED'],
      [2, 'done', undefined],
    ]);
    expect(seen[0]?.report.message).toBe(
      'The result of Data Unit 1 could not be written: Do not know how to serialize a BigInt',
    );
    expect(written).toHaveLength(2);
    expect(totals.units).toEqual({ total: 2, done: 1, failed: 1 });
  });

  it('fails only the SQS messages holding a too deep or malformed unit', async () => {
    const result = await createSqsHandler({
      prewarmer: stack.prewarmer(),
      log: createLog({ level: 'silent' }),
    })({
      Records: [
        { messageId: 'good', body: '{"cover":"photos/hats.jpg"}' },
        { messageId: 'deep', body: DEEP },
        { messageId: 'malformed', body: '{"cover":"photos/hats.jpg"' },
        { messageId: 'also-good', body: '[{"cover":"photos/hats.jpg"}]' },
      ],
    });
    expect(result).toEqual({
      batchItemFailures: [{ itemIdentifier: 'deep' }, { itemIdentifier: 'malformed' }],
    });
  });

  const cli = (args: string[]) =>
    runCli(['prewarm', ...args], { LITEPIX_LOG_LEVEL: 'silent', LITEPIX_S3_PORT: String(stack.s3.port) });
  const parsed = (text: string) =>
    text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { seq: number; status: string; code?: string });

  it('litepix prewarm writes one failure line for the deep unit, then --out and --report (exit 1)', async () => {
    const input = join(dir, 'units.ndjson');
    writeFileSync(
      input,
      ['{"id":"a","cover":"photos/hats.jpg"}', DEEP, '{"id":"c","cover":"photos/hats.jpg"}'].join('\n'),
    );
    const out = join(dir, 'out.ndjson');
    const report = join(dir, 'report.json');
    const args = [input, '--presets', 'thumb', '--formats', 'webp', '--out', out, '--report', report];
    const res = await cli(args);
    expect(res.err).not.toContain('Maximum call stack');
    expect(res.code).toBe(1);
    expect(parsed(readFileSync(out, 'utf8')).map((l) => [l.seq, l.status, l.code])).toEqual([
      [1, 'done', undefined],
      [2, 'failed', 'PREWARM_TOO_DEEP'],
      [3, 'done', undefined],
    ]);
    const r = JSON.parse(readFileSync(report, 'utf8')) as { totals: { units: unknown } };
    expect(r.totals.units).toEqual({ total: 3, done: 2, failed: 1 });

    // Without --out the lines go to stdout, the deep unit's among them.
    const toStdout = await cli([input, '--presets', 'thumb', '--formats', 'webp']);
    expect(toStdout.code).toBe(1);
    expect(parsed(toStdout.out).map((l) => l.code ?? l.status)).toEqual(['done', 'PREWARM_TOO_DEEP', 'done']);
  });
});
