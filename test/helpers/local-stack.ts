/**
 * Shared by the tests of the local stack and the CLI: the dev stack's options on free ports
 * with a fresh data dir, and the `litepix` command run as a child process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DevOptions } from '../../cli/dev-stack.ts';

/** Options of a test stack: any free ports, seeded, silent, in a new temp data dir. */
export function devOptions(overrides: Partial<DevOptions> = {}): DevOptions {
  return {
    port: 0,
    s3Port: 0,
    sqsPort: 0,
    dataDir: mkdtempSync(join(tmpdir(), 'litepix-test-stack-')),
    originalsBucket: 'litepix-originals',
    variantsBucket: 'litepix-variants',
    seed: true,
    logLevel: 'silent',
    ...overrides,
  };
}

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
