/**
 * Crash-safe output of `litepix prewarm`. Results are appended, in input order, to a journal
 * (`<out>.partial`, NDJSON) as units complete; only when the input is exhausted are the final
 * files written (to temporary names, then renamed), and the journal removed. So:
 *  - a run killed at any moment leaves at most a journal, never a half-written `--out` or
 *    `--report`;
 *  - re-running the same command resumes: units already in the journal are skipped (not
 *    processed, not reported again), the unit being written when the process died is redone
 *    (its finished variants are found in the bucket and reported `skipped-existing`);
 *  - a journal of another input or other options (the header's fingerprint) is discarded.
 *
 * Journal lines: a header `{"journal":1,"fingerprint":…}`, then one line per unit
 * `{"seq":n,"report":{…},"unit":{…},"variants":[produced,existing,failed]}` where `variants` are
 * the cumulative counts of the run that wrote it (a resumed run starts a new header).
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, rm, stat, truncate } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { outLine } from '../prewarm/results.ts';
import { createTally } from '../prewarm/tally.ts';
import type { Totals, UnitReport, UnitResult } from '../prewarm/types.ts';

export { outLine };

export interface JournalLine {
  seq: number;
  report: UnitReport;
  unit?: unknown;
  variants: [number, number, number];
}

export interface Journal {
  /** Units 1…done are already in the journal (skip them). */
  done: number;
  append(result: UnitResult, totals: Totals): Promise<void>;
  /** Writes `out` (rewritten units) and `report`, renames them in place, removes the journal. */
  finish(
    files: { out?: string | undefined; report?: string | undefined },
    extra: Record<string, unknown>,
  ): Promise<Totals>;
  close(): Promise<void>;
}

async function* journalLines(path: string): AsyncGenerator<Record<string, unknown>> {
  const lines = createInterface({
    input: createReadStream(path, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    yield JSON.parse(line) as Record<string, unknown>;
  }
}

/** Reads an existing journal: how many units it holds in order, or undefined when it can't be resumed. */
async function resumable(path: string, fingerprint: string): Promise<number | undefined> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return undefined;
  }
  // A process killed mid-write may leave a partial last line: cut the file after the last newline.
  const fh = await open(path, 'r');
  try {
    const tailSize = Math.min(size, 1 << 20);
    const tail = Buffer.alloc(tailSize);
    let end = size;
    for (;;) {
      const start = Math.max(0, end - tailSize);
      const { bytesRead } = await fh.read(tail, 0, end - start, start);
      const nl = tail.subarray(0, bytesRead).lastIndexOf(10);
      if (nl >= 0) {
        end = start + nl + 1;
        break;
      }
      if (start === 0) {
        end = 0;
        break;
      }
      end = start;
    }
    if (end !== size) await truncate(path, end);
  } finally {
    await fh.close();
  }
  let done = 0;
  let first = true;
  try {
    for await (const line of journalLines(path)) {
      if ('journal' in line) {
        if (line.fingerprint !== fingerprint) return undefined;
        first = false;
        continue;
      }
      if (first || line.seq !== done + 1) return undefined;
      done++;
    }
  } catch {
    return undefined;
  }
  return first ? undefined : done;
}

export async function openJournal(path: string, fingerprint: string): Promise<Journal> {
  const resumeFrom = await resumable(path, fingerprint);
  const done = resumeFrom ?? 0;
  const stream: WriteStream = createWriteStream(path, { flags: resumeFrom === undefined ? 'w' : 'a' });
  const write = (text: string) =>
    new Promise<void>((resolve, reject) => stream.write(text, (err) => (err ? reject(err) : resolve())));
  await write(`${JSON.stringify({ journal: 1, fingerprint })}\n`);
  const close = async () => {
    if (stream.closed) return;
    stream.end();
    await finished(stream);
  };
  return {
    done,
    /** Serialises first: when that throws (an unwritable unit), nothing is written. */
    async append(result, totals) {
      const v = totals.variants;
      const line: JournalLine = {
        seq: result.report.seq,
        report: result.report,
        ...(result.unit === undefined ? {} : { unit: result.unit }),
        variants: [v.produced, v.existing, v.failed],
      };
      await write(`${JSON.stringify(line)}\n`);
    },
    async finish(files, extra) {
      await close();
      const totals = await summarize(path);
      totals.durationMs = Number(extra.durationMs ?? totals.durationMs);
      const outTmp = files.out ? `${files.out}.tmp-${process.pid}` : undefined;
      const reportTmp = files.report ? `${files.report}.tmp-${process.pid}` : undefined;
      const out = outTmp ? createWriteStream(outTmp) : undefined;
      const report = reportTmp ? createWriteStream(reportTmp) : undefined;
      report?.write(`{\n"totals": ${JSON.stringify({ ...totals, ...extra })},\n"units": [\n`);
      let n = 0;
      for await (const line of journalLines(path)) {
        if ('journal' in line) continue;
        const j = line as unknown as JournalLine;
        if (out && !out.write(`${outLine({ report: j.report, unit: j.unit })}\n`)) await once(out);
        if (report && !report.write(`${n++ === 0 ? '' : ',\n'}${JSON.stringify(j.report)}`))
          await once(report);
      }
      report?.write('\n]\n}\n');
      for (const s of [out, report]) {
        if (!s) continue;
        s.end();
        await finished(s);
      }
      if (outTmp && files.out) await rename(outTmp, files.out);
      if (reportTmp && files.report) await rename(reportTmp, files.report);
      await rm(path, { force: true });
      return { ...totals };
    },
    close,
  };
}

const once = (s: WriteStream) => new Promise<void>((resolve) => s.once('drain', () => resolve()));

/** Totals over a whole journal (every run that contributed to it). */
async function summarize(path: string): Promise<Totals> {
  const tally = createTally();
  const variants = { produced: 0, existing: 0, failed: 0 };
  let segment: [number, number, number] = [0, 0, 0];
  const closeSegment = () => {
    variants.produced += segment[0];
    variants.existing += segment[1];
    variants.failed += segment[2];
    segment = [0, 0, 0];
  };
  for await (const line of journalLines(path)) {
    if ('journal' in line) {
      closeSegment();
      continue;
    }
    const j = line as unknown as JournalLine;
    segment = j.variants;
    tally.addUnit(j.report);
  }
  closeSegment();
  return { ...tally.totals(), variants };
}
