/**
 * Shared by the tests of the local stack and the CLI: the dev stack's options on free ports
 * with a fresh data dir, the `litepix` command run as a child process, and the queue tests'
 * stack.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type DevOptions, type DevStack, startDevStack, throwawayDevOptions } from '../../cli/dev-stack.ts';
import { localS3Client } from '../../cli/local-s3.ts';

/** Options of a test stack: any free ports, seeded, silent, in a new temp data dir. */
export const devOptions = throwawayDevOptions;

export interface CliOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** Starts `litepix <args…>` (asynchronously: a stack under test in this process keeps serving). */
export function startCli(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<CliOutcome> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/litepix.ts', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const done = new Promise<CliOutcome>((ok) =>
    child.on('close', (code, signal) => ok({ code, signal, out, err })),
  );
  return { child, done };
}

export const runCli = (args: string[], env: Record<string, string> = {}) => startCli(args, env).done;

/** A local stack for the queue tests: no in-process worker, no samples, an S3 client on it. */
export interface QueueTestStack {
  stack: DevStack;
  dir: string;
  /** The environment `litepix` commands need to find this stack (plus the given settings). */
  env: Record<string, string>;
  s3: S3Client;
  putOriginal(key: string, body: Buffer): Promise<void>;
  /** Polls `litepix prewarm status` until the job is complete; its JSON. */
  waitForJob(job: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startQueueTestStack(
  settings: Record<string, string>,
  overrides: Partial<DevOptions> = {},
): Promise<QueueTestStack> {
  const dir = mkdtempSync(join(tmpdir(), 'litepix-queue-'));
  const options = devOptions({ dataDir: join(dir, 'data'), seed: false, worker: false, ...overrides });
  const stack = await startDevStack(options);
  const env = { ...settings, LITEPIX_DATA_DIR: options.dataDir };
  const s3 = localS3Client(stack.s3Endpoint);
  return {
    stack,
    dir,
    env,
    s3,
    async putOriginal(key, body) {
      await s3.send(
        new PutObjectCommand({
          Bucket: options.originalsBucket,
          Key: key,
          Body: body,
          ContentType: 'image/jpeg',
        }),
      );
    },
    async waitForJob(job) {
      for (let i = 0; i < 600; i++) {
        const res = await runCli(['prewarm', 'status', job, '--json'], env);
        if (res.code === 0) return JSON.parse(res.out) as Record<string, unknown>;
        await sleep(500);
      }
      throw new Error(`job ${job} did not complete in 5 minutes`);
    },
    async stop() {
      s3.destroy();
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
