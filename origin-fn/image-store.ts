/**
 * The storage port. The origin reads originals and reads/writes variants only through it;
 * the S3 adapter (s3-store.ts) is one implementation, the memory store (prewarm/memory-store.ts)
 * another: both answer with the errors and metadata shape below.
 */
import { notFound, tooLarge } from './errors.ts';

/** A key in a message: JSON-quoted, cut at 200 characters. */
export const quoteKey = (value: string) =>
  JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);

export interface StoredObject {
  bytes: Buffer;
  contentType?: string | undefined;
  etag?: string | undefined;
  versionId?: string | undefined;
  lastModified?: Date | undefined;
  /** User metadata (x-amz-meta-*), keys lower-case. */
  metadata: Record<string, string>;
}

export interface PutVariant {
  key: string;
  bytes: Buffer;
  contentType: string;
  cacheControl: string;
  metadata: Record<string, string>;
}

/**
 * Per-call options. `signal` aborts the call (request, and body being read) when the caller's
 * time budget runs out; an aborted call throws 503 IMG_STORAGE_UNAVAILABLE and writes nothing.
 */
export interface StoreCallOptions {
  signal?: AbortSignal | undefined;
}

export interface ImageStore {
  /**
   * Reads an original. Throws ImageError 404 (IMG_NOT_FOUND) when it does not exist, 413
   * (IMG_TOO_LARGE) as soon as it is known to exceed `maxBytes` (without buffering more than
   * that), 503 (IMG_STORAGE_UNAVAILABLE) on a storage fault.
   */
  getOriginal(key: string, maxBytes: number, options?: StoreCallOptions): Promise<StoredObject>;
  /** Reads a stored variant, or undefined when there is none. 503 on a storage fault. */
  getVariant(key: string, options?: StoreCallOptions): Promise<StoredObject | undefined>;
  /** Writes a complete variant in one request (never a partial object). 503 on a storage fault. */
  putVariant(variant: PutVariant, options?: StoreCallOptions): Promise<void>;
}

/** The store's answers about originals, the same from every adapter. */
export const originalNotFound = (key: string, cause?: unknown) =>
  notFound(`Original image ${quoteKey(key)} not found`, cause);
export const originalTooLarge = (key: string, bytes: number, maxBytes: number) =>
  tooLarge(
    'IMG_TOO_LARGE',
    `Original image ${quoteKey(key)} is ${bytes} bytes; the limit is ${maxBytes} bytes`,
  );

/** User metadata with its keys lower-case (S3 clients differ in the case they hand back). */
export function lowerCaseKeys(metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) out[name.toLowerCase()] = value;
  return out;
}
