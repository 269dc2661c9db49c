/**
 * Builds the one S3 client of a process (create it once per cold start, never per request).
 *
 * Settings that matter:
 * - checksums only WHEN_REQUIRED: the SDK's default CRC32 trailers turn uploads into
 *   `aws-chunked` streams that S3-compatible servers (s3rver, older MinIO) store corrupted, and
 *   every variant is written in one PutObject with a known length anyway;
 * - explicit timeouts: the SDK has none by default (a stuck socket would hold the Lambda until
 *   it is killed), and its `requestTimeout` only logs a warning unless `throwOnRequestTimeout`;
 * - keep-alive agents, so warm invocations reuse their TLS connections.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

export interface S3ClientOptions {
  /** Endpoint of an S3-compatible server (s3rver, MinIO); omit for AWS. */
  endpoint?: string | undefined;
  region: string;
  /** Path-style URLs (`http://host/bucket/key`); needed by s3rver. Default false. */
  forcePathStyle?: boolean | undefined;
  /** Static credentials; omit to use the default provider chain (the Lambda role). */
  credentials?: S3ClientConfig['credentials'] | undefined;
  /** Time allowed to open a TCP connection. Default 1000 ms. */
  connectTimeoutMs?: number | undefined;
  /**
   * Time allowed until the response headers arrive, and the longest silence on the socket
   * while a body is sent or read. Default 5000 ms.
   */
  requestTimeoutMs?: number | undefined;
  /** Attempts per request, first one included (1 = no retry). Default 3. */
  maxAttempts?: number | undefined;
  /** Sockets per host. Default 50. */
  maxSockets?: number | undefined;
}

export const S3_CLIENT_DEFAULTS = {
  connectTimeoutMs: 1_000,
  requestTimeoutMs: 5_000,
  maxAttempts: 3,
  maxSockets: 50,
} as const;

export function createS3Client(options: S3ClientOptions): S3Client {
  const connectTimeoutMs = checkInt(
    'connectTimeoutMs',
    options.connectTimeoutMs ?? S3_CLIENT_DEFAULTS.connectTimeoutMs,
    1,
    600_000,
  );
  const requestTimeoutMs = checkInt(
    'requestTimeoutMs',
    options.requestTimeoutMs ?? S3_CLIENT_DEFAULTS.requestTimeoutMs,
    1,
    600_000,
  );
  const maxAttempts = checkInt('maxAttempts', options.maxAttempts ?? S3_CLIENT_DEFAULTS.maxAttempts, 1, 10);
  const maxSockets = checkInt('maxSockets', options.maxSockets ?? S3_CLIENT_DEFAULTS.maxSockets, 1, 1_000);
  if (options.region.trim() === '') throw new RangeError('Invalid S3 region "": expected a region name');

  return new S3Client({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    forcePathStyle: options.forcePathStyle ?? false,
    maxAttempts,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Handler options (not a NodeHttpHandler instance): the SDK builds its own NodeHttpHandler
    // from them, so we need no direct dependency on @smithy/node-http-handler.
    requestHandler: {
      connectionTimeout: connectTimeoutMs,
      requestTimeout: requestTimeoutMs,
      throwOnRequestTimeout: true,
      socketTimeout: requestTimeoutMs,
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
    },
  });
}

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Invalid ${name} "${String(value)}": expected an integer from ${min} to ${max}`);
  }
  return value;
}
