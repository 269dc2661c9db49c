/**
 * The storage port in memory: originals and variants in two Maps, with the S3 adapter's
 * contract (a missing original is 404 IMG_NOT_FOUND, one over `maxBytes` 413 IMG_TOO_LARGE, a
 * variant is stored whole or not at all, user metadata keys lower-case, ETags the MD5 of the
 * bytes). For benches, tests and embedding litepix without S3; it implements the pre-warm port,
 * which extends the origin's, so both cores run on it.
 */
import {
  lowerCaseKeys,
  originalNotFound,
  originalTooLarge,
  type StoredObject,
} from '../origin-fn/image-store.ts';
import { etagOf } from '../origin-fn/produce-variant.ts';
import type { ObjectInfo, PrewarmStore } from './prewarm-store.ts';

export interface MemoryStore extends PrewarmStore {
  /** Puts an original (a test's or a bench's upload). */
  setOriginal(key: string, bytes: Buffer, contentType?: string): void;
  readonly originals: ReadonlyMap<string, StoredObject>;
  readonly variants: ReadonlyMap<string, StoredObject>;
}

function stored(
  bytes: Buffer,
  contentType: string | undefined,
  metadata: Record<string, string>,
): StoredObject {
  return {
    bytes,
    contentType,
    etag: etagOf(bytes),
    lastModified: new Date(),
    metadata: lowerCaseKeys(metadata),
  };
}

function info(object: StoredObject): ObjectInfo {
  return {
    bytes: object.bytes.length,
    etag: object.etag?.replaceAll('"', ''),
    lastModified: object.lastModified,
    contentType: object.contentType,
    metadata: object.metadata,
  };
}

export function createMemoryStore(): MemoryStore {
  const originals = new Map<string, StoredObject>();
  const variants = new Map<string, StoredObject>();
  return {
    originals,
    variants,
    setOriginal(key, bytes, contentType) {
      originals.set(key, stored(bytes, contentType, {}));
    },
    async getOriginal(key, maxBytes) {
      const object = originals.get(key);
      if (!object) throw originalNotFound(key);
      if (object.bytes.length > maxBytes) throw originalTooLarge(key, object.bytes.length, maxBytes);
      return object;
    },
    async getVariant(key) {
      return variants.get(key);
    },
    async putVariant(variant) {
      variants.set(variant.key, stored(variant.bytes, variant.contentType, variant.metadata));
    },
    async headVariant(key) {
      const object = variants.get(key);
      return object ? info(object) : undefined;
    },
    async headOriginal(key) {
      const object = originals.get(key);
      return object ? info(object) : undefined;
    },
    async putOriginal(key, bytes, contentType) {
      originals.set(key, stored(bytes, contentType, {}));
    },
    async listVariants(prefix) {
      return [...variants]
        .filter(([key]) => key.startsWith(prefix))
        .map(([key, object]) => ({ key, lastModified: object.lastModified }));
    },
    async deleteVariants(keys) {
      for (const key of keys) variants.delete(key);
    },
  };
}
