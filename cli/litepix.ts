#!/usr/bin/env node
/**
 * The `litepix` command. `litepix dev` runs the local stack. Exit codes: 0 ok, 1 failed,
 * 2 usage or input error.
 */
import { parseArgs } from 'node:util';
import { readEdgeConfig } from '../scripts/build.ts';
import type { DevOptions } from './dev-stack.ts';
import { prewarmCommand } from './prewarm.ts';
import { upload } from './upload.ts';
import { checkedUrl } from './url.ts';

const USAGE = `Usage: litepix <command> [options]

Commands:
  dev                 run the local CDN (s3rver + origin + the edge function in miniflare)
  upload <file…>      put originals into the originals bucket (local stack by default)
                      [--key <key> | --prefix <p>] [--bucket <real bucket>]
  url <key>           print the CDN URL of a variant, signed when secrets are configured
                      [--w n] [--h n] [--dpr n] [--fit f] [--q n|auto] [--f fmt] [--preset p] [--base url]
  prewarm <file|->    pre-warm the variants of Data Units and rewrite them with CDN URLs
                      [--presets a,b] [--formats auto|a,b] [--out f] [--report f] [--concurrency n]
                      [--cdn url] [--selector s]… [--rewrite preset|map]  (litepix prewarm --help)

Options for dev (each also read from the environment):
  --port <n>         CDN port (PORT, default 8080)
  --s3-port <n>      local S3 port (LITEPIX_S3_PORT, default 4569)
  --data-dir <dir>   where buckets and cache live (LITEPIX_DATA_DIR, default .litepix)
  --no-seed          do not copy the sample images into the originals bucket
  -h, --help         this text

upload uses LITEPIX_S3_PORT for the local stack; with --bucket it uses the standard AWS
environment (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_S3).
Exit codes: 0 ok, 1 some items failed, 2 usage or input error.
`;

import { UsageError } from './usage-error.ts';

function port(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 0 && n <= 65535))
    throw new UsageError(`Invalid ${name} ${JSON.stringify(raw)}: expected a port from 0 to 65535`);
  return n;
}

async function dev(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      's3-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'no-seed': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const options: DevOptions = {
    port: port('--port / PORT', values.port ?? process.env.PORT, 8080),
    s3Port: port('--s3-port / LITEPIX_S3_PORT', values['s3-port'] ?? process.env.LITEPIX_S3_PORT, 4569),
    dataDir: values['data-dir'] ?? process.env.LITEPIX_DATA_DIR ?? '.litepix',
    originalsBucket: process.env.LITEPIX_ORIGINALS_BUCKET || 'litepix-originals',
    variantsBucket: process.env.LITEPIX_VARIANTS_BUCKET || 'litepix-variants',
    seed: !values['no-seed'],
    logLevel: process.env.LITEPIX_LOG_LEVEL ?? 'warn',
  };
  // Loaded here only: miniflare and s3rver are not needed by the other commands.
  const { startDevStack } = await import('./dev-stack.ts');
  const stack = await startDevStack(options);
  const example = stack.seeded[0] ? `${stack.url}/${stack.seeded[0]}?w=828` : stack.url;
  console.log(`litepix dev: local CDN on ${stack.url}  (playground: ${stack.url}/, try ${example})`);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    process.exit(0);
  };
  // miniflare's exit hook would exit at once on a signal, before workerd, s3rver and the
  // servers are closed; this stack owns shutdown, so its handler replaces that one.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, shutdown);
  }
}

async function uploadCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { key: { type: 'string' }, prefix: { type: 'string' }, bucket: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length === 0)
    throw new UsageError('upload: expected at least one file (litepix upload <file…>)');
  if (values.key && values.prefix) throw new UsageError('upload: use --key or --prefix, not both');
  if (values.key && positionals.length > 1)
    throw new UsageError('upload: --key names one object; give one file or use --prefix');
  const outcomes = await upload({
    files: positionals,
    key: values.key,
    prefix: values.prefix,
    bucket: values.bucket,
    s3Port: port('LITEPIX_S3_PORT', process.env.LITEPIX_S3_PORT, 4569),
    cdnBase: `http://127.0.0.1:${port('PORT', process.env.PORT, 8080)}`,
  });
  for (const o of outcomes)
    (o.ok ? console.log : console.error)(o.ok ? `uploaded ${o.message}` : `litepix: ${o.message}`);
  if (outcomes.some((o) => !o.ok)) process.exitCode = 1;
}

async function urlCommand(args: string[]): Promise<void> {
  const names = ['w', 'h', 'dpr', 'fit', 'q', 'f', 'preset'] as const;
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])),
      base: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError('url: expected one key (litepix url <key> [--w 800] …)');
  const params: Record<string, string> = {};
  for (const n of names) {
    const v = (values as Record<string, string | undefined>)[n];
    if (v !== undefined) params[n] = v;
  }
  const base = (values.base ?? `http://127.0.0.1:${port('PORT', process.env.PORT, 8080)}`).replace(
    /\/+$/,
    '',
  );
  console.log(checkedUrl(positionals[0] as string, params, base, readEdgeConfig()));
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help') {
    process.stdout.write(USAGE);
    if (command === undefined) process.exitCode = 2;
    return;
  }
  if (command === 'dev') return dev(rest);
  if (command === 'upload') return uploadCommand(rest);
  if (command === 'url') return urlCommand(rest);
  if (command === 'prewarm') return prewarmCommand(rest);
  throw new UsageError(
    `Unknown command ${JSON.stringify(command)}: expected dev, upload, url or prewarm (see litepix --help)`,
  );
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  console.error(`litepix: ${(err as Error).message}`);
  if ((err as { code?: string }).code === 'EADDRINUSE')
    console.error('litepix: a port is taken; choose others with --port / --s3-port');
  process.exit(usage ? 2 : 1);
});
