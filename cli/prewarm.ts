/**
 * `litepix prewarm <file|->`: pre-warms the variants of every image in a file of Data Units
 * (one JSON unit, an array, or NDJSON) and writes the rewritten units and a report. Defaults
 * target the local stack (`npm start`): its s3rver (LITEPIX_S3_PORT) and CDN
 * (http://127.0.0.1:8080); `--aws` uses the standard AWS environment and real buckets.
 * Output is crash-safe and resumable (prewarm-journal.ts). Exit: 0 every unit done, 1 some
 * failed, 2 usage or unreadable input.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { createLog } from '../origin-fn/log.ts';
import { readPrewarmConfig } from '../prewarm/config.ts';
import { InputError, readUnits } from '../prewarm/input.ts';
import type { InputItem } from '../prewarm/prewarmer.ts';
import { createPrewarmRuntime } from '../prewarm/runtime.ts';
import { compileSelector } from '../prewarm/selectors.ts';
import type { Totals } from '../prewarm/types.ts';
import { readEdgeConfig } from '../scripts/build.ts';
import { S3_CREDENTIALS } from './local-s3.ts';
import { openJournal, outLine } from './prewarm-journal.ts';
import { sendToQueue } from './prewarm-queue.ts';
import { statusCommand } from './prewarm-status.ts';
import { takeQueueFlag } from './queue-context.ts';
import { localStack } from './stack-file.ts';
import { UsageError } from './usage-error.ts';

export const PREWARM_USAGE = `Usage: litepix prewarm <file|-> [options]

Pre-warms every variant of the images referenced by Data Units (one JSON unit, a JSON array of
them, or NDJSON; "-" reads stdin) and writes the units with CDN URLs in place of the originals.

Options:
  --presets <a,b>        presets to pre-warm (LITEPIX_PREWARM_PRESETS, default thumb,mobile,full)
  --formats <auto|a,b>   formats (LITEPIX_PREWARM_FORMATS, default auto: avif, webp and the legacy one)
  --out <file>           rewritten units, NDJSON (default: stdout)
  --report <file>        report JSON: per unit, per image status and bytes; totals
  --concurrency <n>      transforms at once (LITEPIX_PREWARM_CONCURRENCY, default: cores, ≤ 8)
  --window <n>           units planned together (LITEPIX_PREWARM_WINDOW, default 50)
  --cdn <base>           CDN base of the rewritten URLs (LITEPIX_CDN_BASE, default: the local stack's)
  --selector <s>         where images are, repeatable: "/cover/url" or "images[*].url" (default: auto)
  --rewrite <preset|map> a reference becomes one URL (the --rewrite-preset) or a map preset → URL
  --rewrite-preset <p>   preset of the rewritten URL (default mobile)
  --facts                a reference becomes its facts: URLs, sizes and bytes per preset and
                         format, and a ThumbHash placeholder (docs/prewarm.md "Facts")
  --expires <d>          rewritten URLs expire d after the run writes them (30s, 15m, 1h, 7d): exp=
  --verify-cdn           also fetch each variant through the CDN (status and content-type)
  --ingest-host <h>      allow ingest of external URLs from this host (repeatable; *.example.com)
  --allow-address <cidr> let ingest connect to this non-public address (repeatable; e.g. 127.0.0.1)
  --aws                  real buckets (AWS_REGION, AWS_PROFILE, LITEPIX_*_BUCKET) instead of the local stack
  -h, --help             this text

At scale, through the queue (workers make the variants: litepix worker, or the SQS Lambda):
  --queue [url]          send the units to the pre-warm queue (default: the local stack's; with
                         --aws: LITEPIX_PREWARM_QUEUE_URL); prints the job id on stdout
  --job <id>             job id (default: time + random); re-sending a job overwrites its results
  --units-per-message <n> units packed per message (default 10)
  --message-bytes <n>    largest message body (default 262144, capped by the queue's limit)
  litepix prewarm status <job> [--json]   units sent / done / failed / pending (exit 3 pending)
  litepix prewarm collect <job> --out f --report f   the results in input order, each unit once

With --out (or --report) a run is crash-safe: results go to <out>.partial first; re-running the
same command after a crash resumes where it stopped. Exit: 0 all done, 1 some failed, 2 usage.
`;

const list = (values: string[] | undefined) =>
  (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);

export interface PrewarmCliResult {
  totals: Totals;
  exitCode: 0 | 1;
}

/** The flags that shape a pre-warm runtime, shared by `prewarm` and `worker`. */
export const RUNTIME_OPTIONS = {
  presets: { type: 'string' },
  formats: { type: 'string' },
  concurrency: { type: 'string' },
  window: { type: 'string' },
  cdn: { type: 'string' },
  selector: { type: 'string', multiple: true },
  rewrite: { type: 'string' },
  'rewrite-preset': { type: 'string' },
  facts: { type: 'boolean', default: false },
  expires: { type: 'string' },
  'verify-cdn': { type: 'boolean', default: false },
  'ingest-host': { type: 'string', multiple: true },
  'allow-address': { type: 'string', multiple: true },
  aws: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function prewarmCommand(argv: string[]): Promise<void> {
  if (argv[0] === 'status' || argv[0] === 'collect') return statusCommand(argv[0], argv.slice(1));
  const { args, queue } = takeQueueFlag(argv);
  const { values, positionals } = parseArgs({
    args,
    options: {
      job: { type: 'string' },
      'units-per-message': { type: 'string' },
      'message-bytes': { type: 'string' },
      out: { type: 'string' },
      report: { type: 'string' },
      ...RUNTIME_OPTIONS,
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(PREWARM_USAGE);
    return;
  }
  if (positionals.length !== 1)
    throw new UsageError('prewarm: expected one input file or "-" (litepix prewarm <file|->)');
  const inputPath = positionals[0] as string;
  if (queue !== undefined) {
    const workerSide = [
      'presets',
      'formats',
      'out',
      'report',
      'concurrency',
      'window',
      'cdn',
      'selector',
      'rewrite',
      'rewrite-preset',
      'expires',
      'ingest-host',
      'allow-address',
    ] as const;
    const misplaced =
      workerSide.find((name) => values[name] !== undefined) ??
      (values['verify-cdn'] ? 'verify-cdn' : values.facts ? 'facts' : undefined);
    if (misplaced)
      throw new UsageError(
        `prewarm: --${misplaced} does not go with --queue: ${misplaced === 'out' || misplaced === 'report' ? 'the results are read with litepix prewarm collect <job> --out/--report' : "the workers apply it (litepix worker, or the Lambda's LITEPIX_PREWARM_* settings)"}`,
      );
    return sendToQueue(values, inputPath, queue);
  }
  for (const name of ['job', 'units-per-message', 'message-bytes'] as const)
    if (values[name] !== undefined) throw new UsageError(`prewarm: --${name} goes with --queue`);

  // Settings are checked first, then the input file, then the store is reached.
  let opened: Awaited<ReturnType<typeof openInput>> | undefined;
  const { config, selectors, runtime } = await prewarmRuntime(values, {}, async () => {
    opened = await openInput(inputPath);
  });
  const { input, inputStat } = opened as Awaited<ReturnType<typeof openInput>>;
  const { client, prewarmer } = runtime;
  const journalPath = values.out ?? values.report;
  const fingerprint = JSON.stringify({
    input: inputStat ? { path: resolve(inputPath), ...inputStat } : `stdin-${process.pid}-${Date.now()}`,
    presets: config.presets,
    formats: config.formats,
    rewrite: [config.rewrite, config.rewritePreset, config.facts, config.expiresSeconds],
    cdn: config.cdnBase,
    selectors: selectors.map((s) => s.text),
  });
  const journal = journalPath ? await openJournal(`${journalPath}.partial`, fingerprint) : undefined;
  const skip = journal?.done ?? 0;

  const bar =
    process.stderr.isTTY && inputPath !== '-'
      ? new SingleBar({
          stream: process.stderr,
          format: 'prewarm [{bar}] {value} units | {failed} failed | {eta_formatted}',
        })
      : undefined;
  if (bar && inputStat) bar.start(await countLines(inputPath), skip, { failed: 0 });

  let failedNow = 0;
  async function* remaining(): AsyncGenerator<InputItem> {
    for await (const item of readUnits(input)) if (item.seq > skip) yield item;
  }
  let totals: Totals;
  try {
    totals = await prewarmer.run(remaining(), async (result) => {
      // Serialise before writing anything: a unit that cannot be written throws here, and the
      // pre-warmer reports it failed instead (one failure line, the batch goes on).
      const line = values.out ? undefined : outLine(result);
      if (journal) await journal.append(result, prewarmer.snapshot());
      if (line !== undefined) process.stdout.write(`${line}\n`);
      if (result.report.status === 'failed') failedNow++;
      bar?.increment(1, { failed: failedNow });
    });
  } catch (err) {
    bar?.stop();
    await journal?.close();
    client.destroy();
    if (err instanceof InputError) throw new UsageError(`prewarm: ${err.message}`);
    throw err;
  }
  bar?.stop();
  client.destroy();
  if (journal) {
    const all = await journal.finish(
      { out: values.out, report: values.report },
      {
        durationMs: totals.durationMs,
        unitsPerSecond: totals.unitsPerSecond,
        variantsPerSecond: totals.variantsPerSecond,
        resumedAfter: skip,
      },
    );
    totals = {
      ...all,
      durationMs: totals.durationMs,
      unitsPerSecond: totals.unitsPerSecond,
      variantsPerSecond: totals.variantsPerSecond,
    };
  }
  process.stderr.write(`${summaryLine(totals, skip)}\n`);
  if (totals.units.total === 0 && skip === 0) throw new UsageError('prewarm: the input holds no Data Units');
  if (totals.units.failed > 0) process.exitCode = 1;
}

/** The input file (or stdin for "-"), refused with a usage error when it cannot be read. */
export async function openInput(inputPath: string, command = 'prewarm') {
  let input: Readable;
  let inputStat: { size: number; mtimeMs: number } | undefined;
  if (inputPath === '-') input = process.stdin;
  else {
    try {
      const s = await stat(inputPath);
      if (!s.isFile()) throw new Error('not a file');
      inputStat = { size: s.size, mtimeMs: s.mtimeMs };
    } catch {
      throw new UsageError(`${command}: cannot read ${JSON.stringify(inputPath)}: no such file`);
    }
    input = createReadStream(inputPath);
  }
  return { input, inputStat };
}

/** The options `prewarm` and `worker` share (parseArgs values). */
export interface RuntimeFlags {
  presets?: string | undefined;
  formats?: string | undefined;
  concurrency?: string | undefined;
  window?: string | undefined;
  cdn?: string | undefined;
  selector?: string[] | undefined;
  rewrite?: string | undefined;
  'rewrite-preset'?: string | undefined;
  facts?: boolean | undefined;
  expires?: string | undefined;
  'verify-cdn'?: boolean | undefined;
  'ingest-host'?: string[] | undefined;
  'allow-address'?: string[] | undefined;
  aws?: boolean | undefined;
}

/**
 * The pre-warm runtime of a CLI run, from the environment and the flags (the local stack's S3
 * and CDN unless --aws), after one request that shows the store answers. `extraEnv` adds
 * settings (the worker's results bucket and max receives).
 */
export async function prewarmRuntime(
  values: RuntimeFlags,
  extraEnv: Record<string, string> = {},
  beforeConnect: () => Promise<void> = async () => {},
) {
  const env: Record<string, string | undefined> = { ...process.env, ...extraEnv };
  if (!values.aws) {
    const local = localStack(env);
    env.AWS_ENDPOINT_URL_S3 = local.s3Endpoint;
    env.LITEPIX_CDN_BASE ??= local.cdnBase;
  }
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) env[name] = value;
  };
  set('LITEPIX_PREWARM_PRESETS', values.presets);
  set('LITEPIX_PREWARM_FORMATS', values.formats);
  set('LITEPIX_PREWARM_CONCURRENCY', values.concurrency);
  set('LITEPIX_PREWARM_WINDOW', values.window);
  set('LITEPIX_CDN_BASE', values.cdn);
  set('LITEPIX_PREWARM_REWRITE', values.rewrite);
  set('LITEPIX_PREWARM_REWRITE_PRESET', values['rewrite-preset']);
  set('LITEPIX_PREWARM_EXPIRES', values.expires);
  if (values['verify-cdn']) env.LITEPIX_PREWARM_VERIFY_CDN = 'true';
  if (values.facts) env.LITEPIX_PREWARM_FACTS = 'true';
  if (values['ingest-host']) env.LITEPIX_INGEST_HOSTS = list(values['ingest-host']).join(',');
  if (values['allow-address']) env.LITEPIX_INGEST_ALLOW_ADDRESSES = list(values['allow-address']).join(',');
  env.LITEPIX_LOG_LEVEL ??= 'warn';
  // On AWS the local default base would rewrite every unit to 127.0.0.1 URLs.
  if (values.aws && !env.LITEPIX_CDN_BASE)
    throw new UsageError(
      'prewarm: --aws needs the CDN base of the rewritten URLs: --cdn <url> or LITEPIX_CDN_BASE (the stack output CdnBaseUrl)',
    );

  let config: ReturnType<typeof readPrewarmConfig>;
  let selectors: ReturnType<typeof compileSelector>[];
  try {
    config = readPrewarmConfig(env);
    selectors = values.selector ? values.selector.map(compileSelector) : config.selectors;
  } catch (err) {
    throw new UsageError(`prewarm: ${(err as Error).message}`);
  }
  if (!config.signingSecret) {
    const edge = readEdgeConfig();
    if (edge.secrets[0]) config.signingSecret = edge.secrets[0];
  }
  await beforeConnect();

  const runtime = createPrewarmRuntime(
    { ...config, selectors },
    {
      log: createLog({ level: config.logLevel, destination: process.stderr }),
      ...(values.aws ? {} : { credentials: S3_CREDENTIALS }),
    },
  );
  const { client, store } = runtime;
  try {
    // One request first, so an unreachable store is one clear message, not a failure per image.
    await store.headOriginal('.litepix-preflight');
  } catch {
    client.destroy();
    const where = values.aws
      ? `bucket ${config.originalsBucket}`
      : `the local stack's S3 at ${config.endpoint}`;
    const hint = values.aws
      ? 'check AWS_REGION / AWS_PROFILE and LITEPIX_ORIGINALS_BUCKET'
      : 'is `litepix dev` (npm start) running? (LITEPIX_S3_PORT)';
    throw new Error(`prewarm: cannot reach ${where}; ${hint}`);
  }
  return { config, selectors, runtime };
}

export function summaryLine(t: Totals, resumed: number): string {
  const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
  return [
    `prewarm: ${t.units.total} units (${t.units.done} done, ${t.units.failed} failed)`,
    `${t.images.total} images (${t.images.ok} ok, ${t.images.skippedExisting} skipped-existing, ${t.images.failed} failed)`,
    `variants ${t.variants.produced} produced, ${t.variants.existing} existing, ${t.variants.failed} failed`,
    `${pct(t.savings)} lighter`,
    `${t.unitsPerSecond} units/s in ${(t.durationMs / 1000).toFixed(1)} s${resumed ? ` (resumed after unit ${resumed})` : ''}`,
  ].join(', ');
}

export async function countLines(path: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(path)) {
    for (const byte of chunk as Buffer) if (byte === 10) n++;
  }
  return Math.max(n, 1);
}
