/** The local stack's S3 (s3rver): the only credentials it accepts. Kept apart from dev-stack.ts so
 * commands that only talk to it (upload, prewarm) do not load miniflare. */
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../origin-fn/s3-client.ts';

export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** An S3 client on the local stack's s3rver (path-style, its credentials). */
export function localS3Client(endpoint: string, options: { maxAttempts?: number } = {}): S3Client {
  return createS3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: S3_CREDENTIALS,
    ...options,
  });
}
