/**
 * The S3 adapter of the storage port: originals are read from one bucket, variants read from
 * and written to another.
 *
 * Error mapping (by the SDK's error `name` and `$metadata.httpStatusCode`, never message text):
 * | S3 answer                                   | getOriginal        | getVariant | putVariant |
 * |---------------------------------------------|--------------------|------------|------------|
 * | NoSuchKey / NotFound / other 404            | 404 IMG_NOT_FOUND  | undefined  | 503        |
 * | AccessDenied (403)                          | 404 IMG_NOT_FOUND¹ | undefined¹ | 503        |
 * | NoSuchBucket, other 4xx, 5xx, SlowDown,      | 503 IMG_STORAGE_UNAVAILABLE (cause attached, logged)  |
 * |   network errors, timeouts, truncated body, |                    |            |            |
 * |   aborted by the caller's `signal`          |                    |            |            |
 * | object larger than `maxBytes`               | 413 IMG_TOO_LARGE  | —          | —          |
 *
 * ¹ S3 answers 403 AccessDenied instead of 404 for a missing key when the caller lacks
 *   s3:ListBucket on the bucket (the least-privilege origin role has GetObject only), so a
 *   denied read is treated as "not there" and logged. Other 403s (SignatureDoesNotMatch,
 *   InvalidAccessKeyId, ExpiredToken) are credential faults and become 503.
 */
import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { badRequest, ImageError, storageUnavailable, tooLarge } from './errors.ts';
import {
  type ImageStore,
  lowerCaseKeys,
  originalNotFound,
  originalTooLarge,
  type PutVariant,
  quoteKey,
  type StoreCallOptions,
  type StoredObject,
} from './image-store.ts';
import { BodyTooLargeError, readCapped } from './read-capped.ts';

/** The part of the structured logger the store uses. */
export interface StoreLog {
  warn(message: string, fields: Record<string, unknown>): void;
}

export interface S3StoreOptions {
  client: S3Client;
  originalsBucket: string;
  variantsBucket: string;
  log?: StoreLog | undefined;
}

/** S3 object keys are at most 1024 bytes of UTF-8. */
const MAX_KEY_BYTES = 1024;
const UNAVAILABLE_MESSAGE = 'Image storage is temporarily unavailable; retry in a moment';

/**
 * A storage fault as every S3 adapter reports it: logged with its loggable facts (op, bucket,
 * key, the SDK's name and status), returned as the 503 ImageError the caller throws.
 */
export function storageFault(
  log: StoreLog | undefined,
  op: string,
  bucket: string,
  key: string,
  err: unknown,
): ImageError {
  log?.warn('s3 request failed', { op, bucket, key, ...describe(err) });
  return storageUnavailable(UNAVAILABLE_MESSAGE, err);
}

/** A missing object (NoSuchKey, NotFound, another 404), not a missing bucket or another fault. */
export const isMissingObject = (err: unknown): boolean => classify(err) === 'not-found';

export function createS3Store(options: S3StoreOptions): ImageStore {
  const { client, originalsBucket, variantsBucket, log } = options;
  checkBucket('originalsBucket', originalsBucket);
  checkBucket('variantsBucket', variantsBucket);

  const fail = (op: string, bucket: string, key: string, err: unknown) =>
    storageFault(log, op, bucket, key, err);

  return {
    async getOriginal(key, maxBytes, options) {
      checkKey(key);
      if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
        throw new RangeError(`Invalid maxBytes "${String(maxBytes)}": expected a positive integer`);
      }
      let out: GetObjectCommandOutput;
      try {
        out = await client.send(
          new GetObjectCommand({ Bucket: originalsBucket, Key: key }),
          sendOptions(options),
        );
      } catch (err) {
        const kind = classify(err);
        if (kind === 'not-found') throw originalNotFound(key, err);
        if (kind === 'access-denied') {
          log?.warn('s3 access denied, treated as not found', {
            op: 'getOriginal',
            bucket: originalsBucket,
            key,
            ...describe(err),
          });
          throw originalNotFound(key, err);
        }
        throw fail('getOriginal', originalsBucket, key, err);
      }
      const body = nodeBody(out.Body);
      if (out.ContentLength !== undefined && out.ContentLength > maxBytes) {
        body.destroy();
        throw originalTooLarge(key, out.ContentLength, maxBytes);
      }
      let bytes: Buffer;
      try {
        bytes = await readCapped(body, maxBytes, out.ContentLength, options?.signal);
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          throw tooLarge('IMG_TOO_LARGE', `Original image ${quoteKey(key)} is larger than ${maxBytes} bytes`);
        }
        throw fail('getOriginal', originalsBucket, key, err);
      }
      return toStoredObject(out, bytes);
    },

    async getVariant(key, options) {
      checkKey(key);
      let out: GetObjectCommandOutput;
      try {
        out = await client.send(
          new GetObjectCommand({ Bucket: variantsBucket, Key: key }),
          sendOptions(options),
        );
      } catch (err) {
        // AccessDenied: see ¹ above; a real permission fault shows up on the putVariant that follows.
        if (classify(err) !== 'unavailable') return undefined;
        throw fail('getVariant', variantsBucket, key, err);
      }
      const body = nodeBody(out.Body);
      try {
        return toStoredObject(
          out,
          await readCapped(body, Number.POSITIVE_INFINITY, out.ContentLength, options?.signal),
        );
      } catch (err) {
        throw fail('getVariant', variantsBucket, key, err);
      }
    },

    async putVariant(variant: PutVariant, options) {
      checkKey(variant.key);
      // One PutObject with the whole buffer and its length: S3 stores all of it or nothing
      // (single PUTs go up to 5 GB), and concurrent writers of one key leave the last complete
      // object. Never a multipart or streamed upload that could be left half done.
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: variantsBucket,
            Key: variant.key,
            Body: variant.bytes,
            ContentLength: variant.bytes.length,
            ContentType: variant.contentType,
            CacheControl: variant.cacheControl,
            Metadata: variant.metadata,
          }),
          sendOptions(options),
        );
      } catch (err) {
        throw fail('putVariant', variantsBucket, variant.key, err);
      }
    },
  };
}

/** The SDK's per-request options: its abortSignal cancels the HTTP request. */
function sendOptions(options: StoreCallOptions | undefined): { abortSignal?: AbortSignal } {
  return options?.signal ? { abortSignal: options.signal } : {};
}

type Failure = 'not-found' | 'access-denied' | 'unavailable';

function classify(err: unknown): Failure {
  const { name, status } = describe(err);
  // A missing bucket is a deployment fault, not a missing image.
  if (name === 'NoSuchBucket') return 'unavailable';
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) return 'not-found';
  if (name === 'AccessDenied') return 'access-denied';
  return 'unavailable';
}

/** Loggable facts about an SDK or network error (no message text, no headers). */
function describe(err: unknown): { name?: string; status?: number; code?: string; attempts?: number } {
  if (typeof err !== 'object' || err === null) return {};
  const out: { name?: string; status?: number; code?: string; attempts?: number } = {};
  if ('name' in err && typeof err.name === 'string') out.name = err.name;
  if ('code' in err && typeof err.code === 'string') out.code = err.code;
  if ('$metadata' in err && typeof err.$metadata === 'object' && err.$metadata !== null) {
    const meta = err.$metadata;
    if ('httpStatusCode' in meta && typeof meta.httpStatusCode === 'number') out.status = meta.httpStatusCode;
    if ('attempts' in meta && typeof meta.attempts === 'number') out.attempts = meta.attempts;
  }
  return out;
}

function nodeBody(body: GetObjectCommandOutput['Body']): Readable {
  // In Node the SDK hands back the http.IncomingMessage (a Readable) with helper mixins.
  if (body instanceof Readable) return body;
  throw new ImageError(500, 'IMG_INTERNAL', 'Internal error while reading the image', {
    cause: new TypeError('S3 GetObject returned no Node.js Readable body'),
  });
}

function toStoredObject(out: GetObjectCommandOutput, bytes: Buffer): StoredObject {
  const metadata = lowerCaseKeys(out.Metadata);
  return {
    bytes,
    contentType: out.ContentType,
    etag: out.ETag,
    versionId: out.VersionId,
    lastModified: out.LastModified,
    metadata,
  };
}

function checkKey(key: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  const bad = key === '' || Buffer.byteLength(key) > MAX_KEY_BYTES || /[\u0000-\u001f\u007f]/.test(key);
  if (bad) {
    throw badRequest(
      'IMG_BAD_KEY',
      `Invalid storage key ${quoteKey(key)}: expected 1 to ${MAX_KEY_BYTES} bytes without control characters`,
    );
  }
}

/**
 * An S3 bucket name: 3–63 lower-case letters, digits, dots and hyphens, no "..", no `xn--`
 * prefix. The one rule of the origin, pre-warm and stack settings.
 */
export function isBucketName(bucket: string): boolean {
  return /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket);
}

function checkBucket(name: string, bucket: string): void {
  if (!isBucketName(bucket)) {
    throw new RangeError(`Invalid ${name} ${JSON.stringify(bucket)}: expected an S3 bucket name`);
  }
}
