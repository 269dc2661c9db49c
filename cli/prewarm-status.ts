/**
 * `litepix prewarm status <job>` and `litepix prewarm collect <job>`: read a queue job's
 * results (results.ts), nothing else. Status prints units sent / done / failed / pending,
 * variants and bytes (`--json` for scripts); exit 0 when every unit sent has its result (failed
 * ones included: a script waiting with `until litepix prewarm status JOB; do sleep 10; done`
 * must end), 3 while units are pending, 2 for an unknown job. Collect writes the rewritten
 * units (`--out`, NDJSON, the lines `litepix prewarm --out` writes) and the report
 * (`--report`) in input order, each unit once; it refuses a job with pending units (exit 3)
 * unless `--partial`.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { assertJobId } from '../prewarm/queue-message.ts';
import { type JobStatus, outLine, walkJob } from '../prewarm/results.ts';
import { describeQueueError } from '../prewarm/sqs-client.ts';
import { resultsContext } from './queue-context.ts';
import { UsageError } from './usage-error.ts';

export const STATUS_USAGE = `Usage: litepix prewarm status <job> [--json] [--aws]
       litepix prewarm collect <job> [--out rewritten.ndjson] [--report report.json] [--partial] [--aws]

status: units sent / done / failed / pending, variants, bytes, from the job's results.
  Exit 0 complete (failed units included), 3 units pending, 2 unknown job.
collect: the rewritten units (--out, default stdout) and the report (--report), in input order,
  each unit once. Exit 0 all done, 1 some failed, 3 pending (unless --partial), 2 unknown job.
--aws reads LITEPIX_RESULTS_BUCKET through the standard AWS environment instead of the local stack.
`;

const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

export function statusText(s: JobStatus): string {
  const u = s.units;
  const state = s.complete
    ? 'complete'
    : s.state === 'sending'
      ? 'sending (the producer is still running)'
      : 'pending';
  const lines = [
    `job ${s.job}: ${state}`,
    `units: ${u.sent} sent, ${u.done} done, ${u.failed} failed, ${u.pending} pending (${s.messages.finished} of ${s.messages.sent} messages)`,
    `images: ${s.images.total} (${s.images.ok} ok, ${s.images.skippedExisting} skipped-existing, ${s.images.failed} failed)`,
    `variants: ${s.variants.produced} produced, ${s.variants.existing} existing, ${s.variants.failed} failed`,
    `bytes: ${mb(s.bytesBefore)} → ${mb(s.bytesAfter)} (${pct(s.savings)} lighter)`,
  ];
  for (const f of s.failures.slice(0, 5))
    lines.push(
      `failed: unit ${f.seq}${f.id ? ` (${f.id})` : ''}: ${f.code ?? ''} ${f.message ?? ''}`.trimEnd() +
        (f.image ? `; ${f.image.ref}: ${f.image.code ?? ''} ${f.image.message ?? ''}`.trimEnd() : ''),
    );
  if (s.units.failed > 5)
    lines.push(`… ${s.units.failed - 5} more failed (litepix prewarm collect ${s.job} --report report.json)`);
  return `${lines.join('\n')}\n`;
}

export async function statusCommand(sub: 'status' | 'collect', args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
      report: { type: 'string' },
      partial: { type: 'boolean', default: false },
      aws: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(STATUS_USAGE);
    return;
  }
  if (positionals.length !== 1)
    throw new UsageError(`prewarm ${sub}: expected one job id (litepix prewarm ${sub} <job>)`);
  let job: string;
  try {
    job = assertJobId(positionals[0] as string);
  } catch (err) {
    throw new UsageError(`prewarm ${sub}: ${(err as Error).message}`);
  }
  const { s3, results, where } = resultsContext(values.aws);
  try {
    let manifest: Awaited<ReturnType<typeof results.getManifest>>;
    try {
      manifest = await results.getManifest(job);
    } catch (err) {
      throw new UsageError(
        `prewarm ${sub}: cannot reach the results at ${where}: ${describeQueueError(err)}`,
      );
    }
    if (!manifest) throw new UsageError(`prewarm ${sub}: no job ${job} in ${where}`);
    if (sub === 'status') {
      const status = await walkJob(results, job);
      process.stdout.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : statusText(status));
      if (!status.complete) process.exitCode = 3;
      return;
    }
    await collect(results, job, values);
  } finally {
    s3.destroy();
  }
}

async function collect(
  results: Parameters<typeof walkJob>[0],
  job: string,
  values: { out?: string | undefined; report?: string | undefined; partial: boolean },
) {
  // Two passes: the totals lead the report (as in `litepix prewarm --report`), and a pending job writes nothing.
  const before = await walkJob(results, job);
  if (!before.complete && !values.partial) {
    process.stderr.write(statusText(before));
    process.stderr.write(`prewarm collect: ${before.units.pending} units pending; wait, or use --partial\n`);
    process.exitCode = 3;
    return;
  }
  const outTmp = values.out ? `${values.out}.tmp-${process.pid}` : undefined;
  const reportTmp = values.report ? `${values.report}.tmp-${process.pid}` : undefined;
  const out: WriteStream | NodeJS.WriteStream = outTmp ? createWriteStream(outTmp) : process.stdout;
  const report = reportTmp ? createWriteStream(reportTmp) : undefined;
  const write = async (s: NodeJS.WritableStream, text: string) => {
    if (!s.write(text)) await new Promise<void>((r) => s.once('drain', () => r()));
  };
  let n = 0;
  const { failures: _failures, ...totals } = before;
  report?.write(`{\n"totals": ${JSON.stringify(totals)},\n"units": [\n`);
  const status = await walkJob(results, job, async (r) => {
    await write(out, `${outLine({ report: r.report, unit: r.unit })}\n`);
    if (report) await write(report, `${n++ === 0 ? '' : ',\n'}${JSON.stringify(r.report)}`);
  });
  if (report) {
    report.write('\n]\n}\n');
    report.end();
    await finished(report);
    await rename(reportTmp as string, values.report as string);
  }
  if (outTmp) {
    (out as WriteStream).end();
    await finished(out as WriteStream);
    await rename(outTmp, values.out as string);
  }
  process.stderr.write(
    `prewarm collect: ${status.units.done + status.units.failed} units of job ${job} (${status.units.done} done, ${status.units.failed} failed${status.units.pending ? `, ${status.units.pending} pending` : ''})${values.out ? ` → ${values.out}` : ''}${values.report ? `, report → ${values.report}` : ''}\n`,
  );
  if (status.units.failed > 0) process.exitCode = 1;
  if (status.units.pending > 0) process.exitCode = 3;
}
