/**
 * Where a running local stack says it is: `litepix dev` writes `<data dir>/stack.json` (its CDN
 * URL, S3 endpoint and pid) once it serves and removes it on stop, so `litepix upload`, `url`
 * and `prewarm` find a stack started on other ports without PORT / LITEPIX_S3_PORT being set
 * again (and the queue path's queue URL and results bucket). An explicit variable still wins; a file left by a process that is gone is ignored.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CDN_PORT, DEFAULT_S3_PORT, DEFAULT_SQS_PORT, portSetting } from './settings.ts';

export interface StackFile {
  url: string;
  s3Endpoint: string;
  /** The pre-warm work queue and the results bucket of the queue path. */
  queueUrl?: string | undefined;
  deadLetterQueueUrl?: string | undefined;
  resultsBucket?: string | undefined;
  pid: number;
}

export { DEFAULT_CDN_PORT, DEFAULT_S3_PORT, DEFAULT_SQS_PORT, portSetting };
/** The local stack's work queue (its dead-letter queue: the same name + "-dlq"). */
export const LOCAL_QUEUE = 'litepix-prewarm';
export const DEFAULT_RESULTS_BUCKET = 'litepix-results';

export function stackFilePath(dataDir: string): string {
  return join(dataDir, 'stack.json');
}

export function writeStackFile(dataDir: string, stack: Omit<StackFile, 'pid'>): void {
  writeFileSync(stackFilePath(dataDir), `${JSON.stringify({ ...stack, pid: process.pid })}\n`);
}

export function removeStackFile(dataDir: string): void {
  try {
    const file = JSON.parse(readFileSync(stackFilePath(dataDir), 'utf8')) as StackFile;
    if (file.pid === process.pid) rmSync(stackFilePath(dataDir), { force: true });
  } catch {
    // Not ours, or already gone.
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The stack running from `dataDir` (LITEPIX_DATA_DIR, default .litepix), if any. */
export function runningStack(env: NodeJS.ProcessEnv = process.env): StackFile | undefined {
  const dataDir = env.LITEPIX_DATA_DIR || '.litepix';
  try {
    const file = JSON.parse(readFileSync(stackFilePath(dataDir), 'utf8')) as StackFile;
    const shaped =
      typeof file.url === 'string' && typeof file.s3Endpoint === 'string' && Number.isInteger(file.pid);
    return shaped && alive(file.pid) ? file : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The local stack the CLI talks to: PORT / LITEPIX_S3_PORT when set, else the running stack's
 * own (stack.json), else the defaults.
 */
export function localStack(env: NodeJS.ProcessEnv = process.env): {
  cdnBase: string;
  s3Endpoint: string;
  queueUrl: string | undefined;
  resultsBucket: string;
} {
  const running = runningStack(env);
  const cdnPort = env.PORT ? portSetting('PORT', env.PORT, DEFAULT_CDN_PORT) : undefined;
  const s3Port = env.LITEPIX_S3_PORT
    ? portSetting('LITEPIX_S3_PORT', env.LITEPIX_S3_PORT, DEFAULT_S3_PORT)
    : undefined;
  const sqsPort = env.LITEPIX_SQS_PORT
    ? portSetting('LITEPIX_SQS_PORT', env.LITEPIX_SQS_PORT, DEFAULT_SQS_PORT)
    : undefined;
  return {
    cdnBase:
      cdnPort !== undefined
        ? `http://127.0.0.1:${cdnPort}`
        : (running?.url ?? `http://127.0.0.1:${DEFAULT_CDN_PORT}`),
    s3Endpoint:
      s3Port !== undefined
        ? `http://127.0.0.1:${s3Port}`
        : (running?.s3Endpoint ?? `http://127.0.0.1:${DEFAULT_S3_PORT}`),
    queueUrl:
      // fauxqs names its queues by this host (the client connects to 127.0.0.1).
      sqsPort !== undefined
        ? `http://sqs.us-east-1.localhost:${sqsPort}/000000000000/${LOCAL_QUEUE}`
        : running?.queueUrl,
    resultsBucket: running?.resultsBucket ?? DEFAULT_RESULTS_BUCKET,
  };
}
