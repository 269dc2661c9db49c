/**
 * `litepix prewarm` as a child process (spawned asynchronously: the servers under test run in
 * this process). The end-to-end case runs the whole local stack and fetches the rewritten URLs
 * through the local CDN; the crash case SIGKILLs the command mid-batch and runs it again.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../../cli/dev-stack.ts';
import { fixture } from '../helpers/images.ts';
import { devOptions, startCli } from '../helpers/local-stack.ts';
import { type PrewarmStack, startPrewarmStack } from './helpers.ts';

const CHROME = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';

const start = (args: string[], env: Record<string, string>) =>
  startCli(['prewarm', ...args], { LITEPIX_LOG_LEVEL: 'silent', ...env });
const run = (args: string[], env: Record<string, string> = {}) => start(args, env).done;

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe.concurrent('litepix prewarm: usage', () => {
  it('prints its help', async () => {
    const res = await run(['--help']);
    expect(res.code).toBe(0);
    expect(res.out).toContain('Usage: litepix prewarm <file|->');
  });

  it.each([
    [
      ['a.ndjson', '--concurrency', 'zero'],
      'Invalid LITEPIX_PREWARM_CONCURRENCY "zero": expected an integer from 1 to 64',
    ],
    [['no-such-file.ndjson'], 'cannot read "no-such-file.ndjson": no such file'],
    [
      ['a.ndjson', '--aws'],
      '--aws needs the CDN base of the rewritten URLs: --cdn <url> or LITEPIX_CDN_BASE',
    ],
  ])('exits 2 on %j', async (args, message) => {
    const res = await run(args, { LITEPIX_CDN_BASE: '' });
    expect(res.code).toBe(2);
    expect(res.err).toContain(message);
  });
});

describe('litepix prewarm without a stack', () => {
  it('says the store is unreachable once, and exits 1', async () => {
    const res = await run(['examples/data-units/unit.json'], { LITEPIX_S3_PORT: '1' });
    expect(res.code).toBe(1);
    expect(res.err).toContain(
      "cannot reach the local stack's S3 at http://127.0.0.1:1; is `litepix dev` (npm start) running?",
    );
  });
});

describe('litepix prewarm against the local stack (npm start)', () => {
  let stack: DevStack;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'litepix-prewarm-cli-'));
    stack = await startDevStack(devOptions({ dataDir: join(dir, 'data') }));
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the report and rewritten units; the CDN then serves every rewritten URL without the origin', async () => {
    const input = join(dir, 'units.ndjson');
    const cdn = stack.url;
    writeFileSync(
      input,
      `${readFileSync('examples/data-units/units.ndjson', 'utf8').replaceAll('http://127.0.0.1:8080', cdn)}{"id":"bad",\n`,
    );
    const out = join(dir, 'out.ndjson');
    const report = join(dir, 'report.json');
    const env = { LITEPIX_S3_PORT: new URL(stack.s3Endpoint).port };
    const res = await run([input, '--cdn', cdn, '--presets', 'thumb', '--out', out, '--report', report], env);
    expect(res.code).toBe(1);
    expect(res.err).toMatch(
      /prewarm: 4 units \(3 done, 1 failed\), 4 images \(4 ok, 0 skipped-existing, 0 failed\), variants 9 produced/,
    );

    const written = lines(out);
    expect(written.map((l) => [l.seq, l.status])).toEqual([
      [1, 'done'],
      [2, 'done'],
      [3, 'done'],
      [4, 'failed'],
    ]);
    expect(written[3]).toMatchObject({ code: 'PREWARM_BAD_JSON' });
    const r = JSON.parse(readFileSync(report, 'utf8')) as {
      totals: { units: { total: number }; savings: number };
      units: Array<{ images: Array<{ status: string; bytesBefore: number; bytesAfter: number }> }>;
    };
    expect(r.totals.units.total).toBe(4);
    expect(r.totals.savings).toBeGreaterThan(0.9);
    expect(r.units[1]?.images.map((i) => i.status)).toEqual(['ok', 'ok']);
    expect(existsSync(`${out}.partial`)).toBe(false);

    const urls =
      JSON.stringify(written).match(/http:\/\/127\.0\.0\.1:\d+\/samples\/[^"]+\?preset=thumb/g) ?? [];
    expect(urls).toHaveLength(4);
    for (const url of urls) {
      for (const accept of [CHROME, 'image/webp,*/*', '*/*']) {
        const got = await fetch(url, { headers: { accept } });
        await got.arrayBuffer();
        expect(got.status).toBe(200);
        const from =
          got.headers.get('x-cache') === 'Hit from litepix-dev' ? 'cache' : got.headers.get('x-litepix-from');
        expect(from === 'cache' || from === 'variants').toBe(true);
      }
    }

    // Again: nothing to do, same output.
    const again = await run([input, '--cdn', cdn, '--presets', 'thumb', '--out', out], env);
    expect(again.err).toContain('variants 0 produced, 9 existing, 0 failed');
    expect(lines(out)).toEqual(written);
  });
});

describe('litepix prewarm: crash safety', () => {
  let stack: PrewarmStack;
  let dir: string;
  const N = 12;
  beforeAll(async () => {
    stack = await startPrewarmStack();
    dir = mkdtempSync(join(tmpdir(), 'litepix-prewarm-crash-'));
    // One distinct original per unit, so every unit's work is its own.
    for (let i = 1; i <= N; i++) await stack.put(`crash/${i}.jpg`, fixture('kodim03-q95.jpg'), 'image/jpeg');
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('after SIGKILL mid-batch, a re-run loses no unit, reports none twice and redoes no finished work', async () => {
    const input = join(dir, 'units.ndjson');
    writeFileSync(
      input,
      Array.from({ length: N }, (_, i) =>
        JSON.stringify({ id: `c${i + 1}`, img: `crash/${i + 1}.jpg` }),
      ).join('\n'),
    );
    const out = join(dir, 'out.ndjson');
    const report = join(dir, 'report.json');
    const args = [
      input,
      '--presets',
      'thumb',
      '--formats',
      'webp,jpeg',
      '--concurrency',
      '1',
      '--window',
      '2',
      '--out',
      out,
      '--report',
      report,
    ];
    const env = { LITEPIX_S3_PORT: String(stack.s3.port) };

    const first = start(args, env);
    const journal = `${out}.partial`;
    let journaled = 0;
    for (let waited = 0; waited < 60_000 && journaled < 3; waited += 10) {
      await sleep(10);
      if (existsSync(journal))
        journaled = readFileSync(journal, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('{"seq"')).length;
    }
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    // Killed before the end: no final files, only the journal.
    expect(existsSync(out)).toBe(false);
    expect(existsSync(report)).toBe(false);
    const journaledUnits = readFileSync(journal, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{"seq"')).length;
    expect(journaledUnits).toBeGreaterThanOrEqual(3);
    expect(journaledUnits).toBeLessThan(N);
    const storedAtKill = (await stack.variantKeys()).length;

    const second = await run(args, env);
    expect(second.code).toBe(0);
    expect(second.err).toContain(`(resumed after unit ${journaledUnits})`);
    expect(existsSync(journal)).toBe(false);

    const written = lines(out);
    expect(written.map((l) => l.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(written.every((l) => l.status === 'done')).toBe(true);
    const r = JSON.parse(readFileSync(report, 'utf8')) as {
      totals: { units: { total: number; done: number } };
      units: Array<{ seq: number; images: Array<{ variants: Array<{ status: string }> }> }>;
    };
    expect(r.units.map((u) => u.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(r.totals.units).toMatchObject({ total: N, done: N });

    // Units of the re-run: exactly the variants stored before the kill but not journaled were
    // found existing; only the rest were made.
    const statuses = (from: number) =>
      r.units
        .filter((u) => u.seq > from)
        .flatMap((u) => u.images.flatMap((i) => i.variants.map((v) => v.status)));
    const rerun = statuses(journaledUnits);
    expect(rerun.filter((s) => s === 'existing')).toHaveLength(storedAtKill - 2 * journaledUnits);
    expect(rerun.filter((s) => s === 'produced')).toHaveLength(2 * N - storedAtKill);
    expect(await stack.variantKeys()).toHaveLength(2 * N);
  });
});
