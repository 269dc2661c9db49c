#!/usr/bin/env node
/**
 * The `litepix` command. `litepix dev` runs the local stack. Exit codes: 0 ok, 1 failed,
 * 2 usage or input error.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readEdgeConfig } from '../scripts/build.ts';
import { readDevOptions } from './dev-options.ts';
import { prewarmCommand } from './prewarm.ts';
import { upload } from './upload.ts';
import { checkedUrl, expiresAfter } from './url.ts';
import { workerCommand } from './worker.ts';

// The AWS SDK's notice that its releases after January 2027 need Node 22: this project pins its
// SDK version, so the nine lines on every command tell its users nothing they can act on.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const USAGE = `Usage: litepix <command> [options]

Commands:
  dev                 run the local CDN (s3rver + origin + the edge function in miniflare)
                      and the pre-warm queue (fauxqs) with one worker
  upload <file…>      put originals into the originals bucket (local stack by default)
                      [--key <key> | --prefix <p>] [--bucket <real bucket>] [--replace]
  url <key>           print the CDN URL of a variant, signed when secrets are configured
                      [--w n] [--h n] [--dpr n] [--fit f] [--q n|auto] [--f fmt] [--preset p] [--base url]
                      [--expires 30s|15m|1h|7d]
  prewarm <file|->    pre-warm the variants of Data Units and rewrite them with CDN URLs
                      [--presets a,b] [--formats auto|a,b] [--out f] [--report f] [--concurrency n]
                      [--cdn url] [--selector s]… [--rewrite preset|map]  (litepix prewarm --help)
                      --queue [url]: send them to the pre-warm queue instead; prints a job id
  prewarm status <job>   a queue job's units sent / done / failed / pending [--json]
  prewarm collect <job>  its rewritten units and report, in input order [--out f] [--report f]
  worker              take pre-warm jobs from the queue (local stack's, or --queue url / --aws)
                      [--lanes n] [--batch n] [--concurrency n] [--until-empty]  (litepix worker --help)

Options:
  -h, --help         this text; litepix <command> --help for one command
  -v, --version      the litepix version

upload, url, prewarm and worker talk to the running local stack (found from
LITEPIX_DATA_DIR/stack.json, or PORT / LITEPIX_S3_PORT / LITEPIX_SQS_PORT when set); --aws: AWS. Exit codes: 0 ok, 1 some items failed, 2 usage or input error.
`;

const DEV_USAGE = `Usage: litepix dev [options]   (npm start -- [options], or npm start --port=8081)

Runs the local CDN: s3rver (the buckets) + the origin + the built edge function in miniflare,
and the pre-warm queue (fauxqs) with one worker.
Options (each also read from the environment):
  --port <n>         CDN port (PORT, default 8080)
  --s3-port <n>      local S3 port (LITEPIX_S3_PORT, default 4569)
  --sqs-port <n>     local pre-warm queue port (LITEPIX_SQS_PORT, default 4570)
  --data-dir <dir>   where buckets and cache live (LITEPIX_DATA_DIR, default .litepix)
  --no-seed          do not copy the sample images into the originals bucket
  -h, --help         this text
`;

const UPLOAD_USAGE = `Usage: litepix upload <file…> [options]

Puts images into the originals bucket, checking from its bytes that each file is an image.
Options:
  --key <key>        the object key (one file only)
  --prefix <p>       key prefix for every file (default: none, the file name is the key)
  --bucket <name>    a real bucket through the standard AWS environment (AWS_REGION,
                     AWS_PROFILE, AWS_ENDPOINT_URL_S3) instead of the local stack
  --replace          replace a key that holds a different image (refused otherwise: browsers
                     keep its old variants up to a year, so a changed picture wants a new key)
  -h, --help         this text
`;

const URL_USAGE = `Usage: litepix url <key> [options]

Prints the CDN URL of a variant, checked with the edge's grammar, signed when secrets are set.
Options:
  --w <n>  --h <n>  --dpr <n>  --fit <f>  --q <n|auto>  --f <format>  --preset <name>
  --maxkb <n>        byte budget in KB (snapped down to the budget ladder)
  --crop <x,y,w,h>   region in per-mille of the image, e.g. 0,250,1000,500
  --pos <p>          anchor of fit=cover/contain: top … bottom-right, attention, entropy
  --base <url>       CDN base (default: the running local stack)
  --expires <d>      the link expires after d (30s, 15m, 1h, 7d): exp= in the signed URL
  -h, --help         this text (the height is --h)
`;

import { localStack } from './stack-file.ts';
import { UsageError } from './usage-error.ts';

async function dev(args: string[]): Promise<void> {
  const options = readDevOptions(args);
  if (options === 'help') {
    process.stdout.write(DEV_USAGE);
    return;
  }
  // Loaded here only: miniflare and s3rver are not needed by the other commands.
  const { startDevStack } = await import('./dev-stack.ts');
  const stack = await startDevStack(options);
  const example = stack.seeded[0] ? `${stack.url}/${stack.seeded[0]}?w=828` : stack.url;
  console.log(`litepix dev: local CDN on ${stack.url}  (playground: ${stack.url}/, try ${example})`);
  console.log(
    `litepix dev: pre-warm queue ${stack.queueUrl} with one local worker (litepix prewarm units.ndjson --queue)`,
  );
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
    options: {
      key: { type: 'string' },
      prefix: { type: 'string' },
      bucket: { type: 'string' },
      replace: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(UPLOAD_USAGE);
    return;
  }
  if (positionals.length === 0)
    throw new UsageError('upload: expected at least one file (litepix upload <file…>)');
  if (values.key && values.prefix) throw new UsageError('upload: use --key or --prefix, not both');
  if (values.key && positionals.length > 1)
    throw new UsageError('upload: --key names one object; give one file or use --prefix');
  const local = localStack();
  const outcomes = await upload({
    files: positionals,
    key: values.key,
    prefix: values.prefix,
    bucket: values.bucket,
    replace: values.replace,
    s3Endpoint: local.s3Endpoint,
    cdnBase: local.cdnBase,
  });
  for (const o of outcomes) (o.ok ? console.log : console.error)(o.ok ? o.message : `litepix: ${o.message}`);
  if (outcomes.some((o) => !o.ok)) process.exitCode = 1;
}

async function urlCommand(args: string[]): Promise<void> {
  const names = ['w', 'h', 'dpr', 'fit', 'pos', 'crop', 'q', 'f', 'maxkb', 'preset'] as const;
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])),
      base: { type: 'string' },
      expires: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(URL_USAGE);
    return;
  }
  if (positionals.length !== 1) throw new UsageError('url: expected one key (litepix url <key> [--w 800] …)');
  const params: Record<string, string> = {};
  for (const n of names) {
    const v = (values as Record<string, unknown>)[n] as string | undefined;
    if (v !== undefined) params[n] = v;
  }
  if (values.expires !== undefined) params.exp = String(expiresAfter(values.expires));
  const base = (values.base ?? localStack().cdnBase).replace(/\/+$/, '');
  console.log(checkedUrl(positionals[0] as string, params, base, readEdgeConfig()));
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help') {
    process.stdout.write(USAGE);
    if (command === undefined) process.exitCode = 2;
    return;
  }
  if (command === '-v' || command === '--version') {
    console.log(`litepix ${VERSION}`);
    return;
  }
  if (command === 'dev') return dev(rest);
  if (command === 'upload') return uploadCommand(rest);
  if (command === 'url') return urlCommand(rest);
  if (command === 'prewarm') return prewarmCommand(rest);
  if (command === 'worker') return workerCommand(rest);
  throw new UsageError(
    `Unknown command ${JSON.stringify(command)}: expected dev, upload, url, prewarm or worker (see litepix --help)`,
  );
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  console.error(`litepix: ${(err as Error).message}`);
  if ((err as { code?: string }).code === 'EADDRINUSE')
    console.error('litepix: a port is taken; choose others with --port / --s3-port');
  process.exit(usage ? 2 : 1);
});
