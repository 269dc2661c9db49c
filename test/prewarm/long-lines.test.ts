/**
 * NDJSON lines are capped while they are read (prewarm/line-reader.ts), not after: an
 * over-long line is one failed unit (PREWARM_LINE_TOO_LONG, with its line number) and the lines
 * after it go on. A bad first line is one failed unit too, never a rejected file. The 600 MiB
 * line below is streamed from one reused 1 MiB chunk: a reader that buffered it would throw
 * "Invalid string length" (V8's limit is 512 MiB) instead of reporting it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, type ReadOptions, readUnits } from '../../prewarm/input.ts';
import { lineReader } from '../../prewarm/line-reader.ts';
import type { InputItem } from '../../prewarm/prewarmer.ts';
import { fixture } from '../helpers/images.ts';
import { type PrewarmStack, startPrewarmStack } from './helpers.ts';

const MiB = 1024 * 1024;

async function collect(
  chunks: Iterable<Buffer | string> | AsyncIterable<Buffer | string>,
  options?: ReadOptions,
) {
  const out: InputItem[] = [];
  for await (const item of readUnits(Readable.from(chunks), options)) out.push(item);
  return out;
}
const summary = (items: InputItem[]) => items.map((i) => i.error?.code ?? i.unit);

describe('lineReader', () => {
  it('splits on \\n across chunks, strips \\r, keeps UTF-8 split between chunks, ends without a final \\n', async () => {
    const bytes = Buffer.from('ab\r\ncé\n\nlast');
    const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 6), bytes.subarray(6)]; // "é" is cut in two
    const reader = lineReader(Readable.from(chunks));
    const got = [];
    for (let l = await reader.next(100); l; l = await reader.next(100)) got.push(l);
    expect(got).toEqual([
      { number: 1, bytes: 3, text: 'ab' },
      { number: 2, bytes: 3, text: 'cé' },
      { number: 3, bytes: 0, text: '' },
      { number: 4, bytes: 4, text: 'last' },
    ]);
  });

  it('drops a line over the cap but counts all its bytes', async () => {
    const reader = lineReader(Readable.from(['12345', '6789\nok\n']));
    expect(await reader.next(4)).toEqual({ number: 1, bytes: 9, text: undefined });
    expect(await reader.next(4)).toEqual({ number: 2, bytes: 2, text: 'ok' });
    expect(await reader.next(4)).toBeUndefined();
  });
});

describe('reading NDJSON with a line cap', () => {
  it('reports a 600 MiB line as PREWARM_LINE_TOO_LONG without buffering it, and reads the lines after it', async () => {
    const chunk = Buffer.alloc(MiB, 'x');
    async function* input() {
      yield Buffer.from('{"id":1}\n{"pad":"');
      for (let i = 0; i < 600; i++) yield chunk; // the same buffer each time: nothing new allocated
      yield Buffer.from('"}\n{"id":3}\n\n{"id":4}');
    }
    const before = process.memoryUsage().rss;
    const got = await collect(input(), { maxLineBytes: MiB });
    expect(summary(got)).toEqual([{ id: 1 }, 'PREWARM_LINE_TOO_LONG', { id: 3 }, { id: 4 }]);
    expect(got[1]?.error?.message).toBe(
      `Data Unit 2 (line 2) is ${600 * MiB + 10} bytes long; an NDJSON line may hold at most ${MiB} bytes`,
    );
    expect(got.map((g) => g.seq)).toEqual([1, 2, 3, 4]);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * MiB);
  });

  it('holds the 16 MiB default: a longer line fails, one just under it is read', async () => {
    const long = `{"pad":"${'x'.repeat(16 * MiB)}"}`;
    const fits = `{"pad":"${'y'.repeat(16 * MiB - 20)}"}`;
    const got = await collect([`{"id":1}\n${long}\n${fits}\n`]);
    expect(got.map((g) => g.error?.code ?? 'ok')).toEqual(['ok', 'PREWARM_LINE_TOO_LONG', 'ok']);
  });
});

describe('format detection never lets a bad first line reject an NDJSON file', () => {
  it.each([
    [
      'two bad lines first',
      'oops\n{"id": nope\n{"id":3}\n{"id":4}\n',
      ['PREWARM_BAD_JSON', 'PREWARM_BAD_JSON', { id: 3 }, { id: 4 }],
    ],
    ['a bad first line', '{"id": oops\n{"id":2}\n', ['PREWARM_BAD_JSON', { id: 2 }]],
    ['a whole array on line 1, then units', '[1,2]\n{"id":2}\n', [[1, 2], { id: 2 }]],
    ['one bad line only', '{"id":', ['PREWARM_BAD_JSON']],
  ])('reads %s as NDJSON, one unit per line', async (_, text, expected) => {
    expect(summary(await collect([text]))).toEqual(expected);
  });

  it('still reads pretty-printed documents, even with a line that is an object on its own', async () => {
    const pretty = '{\n  "id": "x",\n  "images": [\n    {"url": "a.jpg"},\n    {"url": "b.jpg"}\n  ]\n}\n';
    expect(summary(await collect([pretty]))).toEqual([
      { id: 'x', images: [{ url: 'a.jpg' }, { url: 'b.jpg' }] },
    ]);
    expect(summary(await collect(['[{"id":1},{"id":2}]']))).toEqual([{ id: 1 }, { id: 2 }]);
    expect(summary(await collect(['[\n {"id":1},\n {"id":2}\n]']))).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('reports a first line over the document cap as one failed unit when JSON lines follow', async () => {
    const got = await collect([`{"pad":"${'x'.repeat(4096)}"}\n{"id":2}\n`], {
      maxDocumentBytes: 1024,
      maxLineBytes: 512,
    });
    expect(summary(got)).toEqual(['PREWARM_LINE_TOO_LONG', { id: 2 }]);
  });

  it('refuses, naming the limit, input that is no NDJSON and too large for a document', async () => {
    const text = `{\n${'  "k": 1,\n'.repeat(200)}`;
    await expect(collect([text], { maxDocumentBytes: 1024 })).rejects.toThrow(
      new InputError(
        'The input is not NDJSON (none of its first lines is a JSON value) and, as one JSON document, it is larger than 1024 bytes',
      ),
    );
    await expect(collect(['[\n', '{"id":1}\n'.repeat(200)], { maxDocumentBytes: 1024 })).rejects.toThrow(
      InputError,
    );
  });
});

describe('litepix prewarm with an over-long line and a bad first line', () => {
  let stack: PrewarmStack;
  let dir: string;
  beforeAll(async () => {
    stack = await startPrewarmStack();
    await stack.put('photos/hats.jpg', fixture('kodim03-q95.jpg'), 'image/jpeg');
    dir = mkdtempSync(join(tmpdir(), 'litepix-long-lines-'));
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = (args: string[]) =>
    new Promise<{ code: number | null; err: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'cli/litepix.ts', 'prewarm', ...args], {
        env: { ...process.env, LITEPIX_LOG_LEVEL: 'silent', LITEPIX_S3_PORT: String(stack.s3.port) },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      child.on('close', (code) => resolve({ code, err }));
    });

  it('writes one failure line for each, pre-warms the rest, and exits 1', async () => {
    const input = join(dir, 'units.ndjson');
    const good = '{"cover":"photos/hats.jpg"}';
    writeFileSync(input, ['{"broken": ', good, `{"pad":"${'x'.repeat(17 * MiB)}"}`, good].join('\n'));
    const out = join(dir, 'out.ndjson');
    const res = await cli([input, '--presets', 'thumb', '--formats', 'webp', '--out', out]);
    expect(res.code).toBe(1);
    const written = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; status: string; code?: string; message?: string });
    expect(written.map((l) => [l.seq, l.code ?? l.status])).toEqual([
      [1, 'PREWARM_BAD_JSON'],
      [2, 'done'],
      [3, 'PREWARM_LINE_TOO_LONG'],
      [4, 'done'],
    ]);
    expect(written[2]?.message).toContain(
      '(line 3) is 17825802 bytes long; an NDJSON line may hold at most 16777216 bytes',
    );
    expect(res.err).toContain('prewarm: 4 units (2 done, 2 failed)');
  });
});
