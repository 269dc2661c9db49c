/**
 * A real S3-compatible server for tests: s3rver on 127.0.0.1, a random free port, data in a
 * fresh temp directory that `stop()` removes.
 *
 * We own the HTTP server (s3rver is a Koa app) instead of calling `s3rver.run()`: listen errors
 * reject instead of crashing the process, `down()` can cut open connections the way a dead
 * store would, and `up()` listens again on the SAME port and directory, so a client built
 * before the outage reaches the store when it comes back.
 *
 * s3rver quirks the client settings account for (see origin-fn/s3-client.ts): it accepts only
 * the credentials S3RVER/S3RVER, needs path-style URLs, stores `aws-chunked` (checksum trailer)
 * uploads corrupted unless checksums are WHEN_REQUIRED, and ignores conditional writes
 * (If-Match, If-None-Match: *).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { createS3Client, type S3ClientOptions } from '../../origin-fn/s3-client.ts';

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
const HOST = '127.0.0.1';

export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  /** The temp directory holding the buckets. */
  directory: string;
  /** A client for this server (default timeouts and retries); destroyed by `stop()`. */
  client: S3Client;
  /** Stops listening and cuts open connections; port and data are kept for `up()`. */
  down(): Promise<void>;
  /** Listens again on the same port, serving the same directory. */
  up(): Promise<void>;
  /** `down()` then `up()`. */
  restart(): Promise<void>;
  /** Closes the server and the client and removes the directory. Safe to call more than once. */
  stop(): Promise<void>;
}

export interface StartS3rverOptions {
  buckets: string[];
}

export async function startS3rver(options: StartS3rverOptions): Promise<S3rverHandle> {
  const directory = await mkdtemp(join(tmpdir(), 'litepix-s3rver-'));
  const app = new S3rver({
    silent: true,
    directory,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  let server: Server | undefined;
  let port = 0;
  try {
    await app.configureBuckets();
    port = await listen(0);
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  const endpoint = `http://${HOST}:${port}`;
  const client = createS3rverClient(endpoint);

  async function listen(onPort: number): Promise<number> {
    const next = createServer(app.callback());
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(onPort, HOST, () => {
        next.off('error', reject);
        resolve();
      });
    });
    server = next;
    const address = next.address();
    if (address === null || typeof address === 'string')
      throw new Error('s3rver: no TCP address after listen');
    return address.port;
  }

  async function down(): Promise<void> {
    const current = server;
    if (current === undefined) return;
    server = undefined;
    const closed = new Promise<void>((resolve) => current.close(() => resolve()));
    current.closeAllConnections();
    await closed;
  }

  async function up(): Promise<void> {
    if (server !== undefined) return;
    await listen(port);
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await down();
      client.destroy();
      await rm(directory, { recursive: true, force: true });
    })();
    return stopping;
  };

  return {
    endpoint,
    port,
    directory,
    client,
    down,
    up,
    restart: async () => {
      await down();
      await up();
    },
    stop,
  };
}

/** A client for an s3rver endpoint; `overrides` set timeouts and retries (e.g. for fault tests). */
export function createS3rverClient(
  endpoint: string,
  overrides: Pick<S3ClientOptions, 'connectTimeoutMs' | 'requestTimeoutMs' | 'maxAttempts'> = {},
): S3Client {
  return createS3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    ...overrides,
  });
}
