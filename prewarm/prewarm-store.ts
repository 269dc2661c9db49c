/**
 * The storage pre-warm needs beyond the origin's ImageStore port: HEAD (skip what exists, size
 * of an original), listing and deleting an original's variants (S3-event Lambda), and writing
 * ingested originals. `createS3PrewarmStore` extends the origin's S3 adapter over the same client,
 * with its error mapping, logging and metadata handling (exported by s3-store.ts, not copied): a
 * missing object is `undefined`, any other fault a logged 503 ImageError (transient, retried by
 * the scheduler).
 */
import {
  DeleteObjectsCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { storageUnavailable } from '../origin-fn/errors.ts';
import { type ImageStore, lowerCaseKeys } from '../origin-fn/image-store.ts';
import { createS3Store, isMissingObject, type S3StoreOptions, storageFault } from '../origin-fn/s3-store.ts';

export interface ObjectInfo {
  bytes: number;
  etag?: string | undefined;
  lastModified?: Date | undefined;
  contentType?: string | undefined;
  /** User metadata, keys lower-case. */
  metadata: Record<string, string>;
}

export interface ListedObject {
  key: string;
  lastModified?: Date | undefined;
}

export interface PrewarmStore extends ImageStore {
  headVariant(key: string): Promise<ObjectInfo | undefined>;
  headOriginal(key: string): Promise<ObjectInfo | undefined>;
  putOriginal(key: string, bytes: Buffer, contentType: string): Promise<void>;
  /** Every variant key under `prefix` (paged internally). */
  listVariants(prefix: string): Promise<ListedObject[]>;
  /** Deletes variants in batches of 1000 (S3's DeleteObjects limit). */
  deleteVariants(keys: string[]): Promise<void>;
}

function info(out: HeadObjectCommandOutput): ObjectInfo {
  return {
    bytes: out.ContentLength ?? 0,
    etag: out.ETag?.replaceAll('"', ''),
    lastModified: out.LastModified,
    contentType: out.ContentType,
    metadata: lowerCaseKeys(out.Metadata),
  };
}

export function createS3PrewarmStore(options: S3StoreOptions): PrewarmStore {
  const { client, originalsBucket, variantsBucket, log } = options;
  const base = createS3Store(options);
  const head = async (Bucket: string, Key: string) => {
    try {
      return info(await client.send(new HeadObjectCommand({ Bucket, Key })));
    } catch (err) {
      if (isMissingObject(err)) return undefined;
      throw storageFault(log, 'head', Bucket, Key, err);
    }
  };
  return {
    ...base,
    headVariant: (key) => head(variantsBucket, key),
    headOriginal: (key) => head(originalsBucket, key),
    async putOriginal(key, bytes, contentType) {
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: originalsBucket,
            Key: key,
            Body: bytes,
            ContentLength: bytes.length,
            ContentType: contentType,
          }),
        );
      } catch (err) {
        throw storageFault(log, 'putOriginal', originalsBucket, key, err);
      }
    },
    async listVariants(prefix) {
      const out: ListedObject[] = [];
      let token: string | undefined;
      try {
        do {
          const page = await client.send(
            new ListObjectsV2Command({ Bucket: variantsBucket, Prefix: prefix, ContinuationToken: token }),
          );
          for (const o of page.Contents ?? [])
            if (o.Key) out.push({ key: o.Key, lastModified: o.LastModified });
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      } catch (err) {
        throw storageFault(log, 'listVariants', variantsBucket, prefix, err);
      }
      return out;
    },
    async deleteVariants(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        let failed: number;
        try {
          const out = await client.send(
            new DeleteObjectsCommand({
              Bucket: variantsBucket,
              Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
            }),
          );
          failed = out.Errors?.length ?? 0;
        } catch (err) {
          throw storageFault(log, 'deleteVariants', variantsBucket, batch[0] ?? '', err);
        }
        if (failed > 0)
          throw storageUnavailable(`${failed} of ${batch.length} variants could not be deleted; retry`);
      }
    },
  };
}
