/**
 * S3 event notifications on the originals bucket → keep variants consistent with originals.
 *
 * Variants are cached as immutable, so a replaced or deleted original must take its variants
 * with it. For every key named in the batch (one pass per key, whatever the number of events,
 * so replays and out-of-order delivery are harmless), `reconcile` compares the stored variants
 * with the original AS IT IS NOW (not as the event says, since events may be late):
 *  - original gone → every variant under `<version>/<key>/` is stale;
 *  - original present → a variant is stale when its `original-etag` metadata (written by the
 *    origin and by pre-warm) differs from the original's current ETag; a variant without that
 *    metadata is stale when it is older than the original (LastModified).
 * Stale variants are deleted, then the CDN paths of every key that had stale variants or was
 * removed are invalidated in one batched request; finally, originals that exist are pre-warmed
 * with the default presets (skipping what is already there and current).
 *
 * A key that is itself a variant key (`v1/a.jpg/w256.qauto.webp`, refused by the origin as an
 * original) is ignored with a logged reason: no reconcile, no pre-warm, no `v1/v1/…` variants.
 */
import type { GrammarConfig } from '../edge-fn/grammar/config.ts';
import { checkOriginalKey } from '../edge-fn/grammar/variant-key.ts';
import type { Log } from '../origin-fn/log.ts';
import type { Invalidator } from './invalidation.ts';
import type { PrewarmStore } from './prewarm-store.ts';
import type { Prewarmer } from './prewarmer.ts';
import type { Totals } from './types.ts';

export interface S3EventRecord {
  eventName: string;
  s3: { bucket: { name: string }; object: { key: string; eTag?: string; sequencer?: string } };
}

export interface S3Event {
  Records: S3EventRecord[];
}

export interface S3EventDeps {
  store: PrewarmStore;
  prewarmer: Prewarmer;
  invalidator?: Invalidator | undefined;
  originalsBucket: string;
  /** The grammar: its version prefix and the variant-key check. */
  grammar: GrammarConfig;
  log: Log;
}

export interface S3EventResult {
  keys: number;
  /** Keys refused as originals (variant keys), with the reason. */
  ignored: Array<{ key: string; code: string; message: string }>;
  deletedVariants: number;
  invalidated: string[];
  invalidationId?: string | undefined;
  prewarm?: Totals | undefined;
}

/** Keys in S3 events are URL-encoded with `+` for spaces. */
export function decodeEventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

export async function reconcile(
  store: PrewarmStore,
  key: string,
  version: string,
): Promise<{ exists: boolean; stale: string[] }> {
  const original = await store.headOriginal(key);
  const listed = await store.listVariants(`${version}/${key}/`);
  // Only keys exactly one level below the original's folder are its variants
  // (`v1/a.jpg/x/…` would be the variants of the original `a.jpg/x`).
  const variants = listed.filter((v) => !v.key.slice(version.length + key.length + 2).includes('/'));
  if (!original) return { exists: false, stale: variants.map((v) => v.key) };
  const stale: string[] = [];
  for (const v of variants) {
    const head = await store.headVariant(v.key);
    if (!head) continue;
    const madeFrom = head.metadata['original-etag'];
    const outdated =
      madeFrom !== undefined
        ? madeFrom !== original.etag
        : (head.lastModified?.getTime() ?? 0) < (original.lastModified?.getTime() ?? 0);
    if (outdated) stale.push(v.key);
  }
  return { exists: true, stale };
}

export function createS3EventHandler(deps: S3EventDeps) {
  return async (event: S3Event): Promise<S3EventResult> => {
    const removed = new Set<string>();
    const keys = new Set<string>();
    const ignored: S3EventResult['ignored'] = [];
    const version = deps.grammar.version;
    for (const record of event.Records ?? []) {
      if (record.s3.bucket.name !== deps.originalsBucket) {
        deps.log.warn({ bucket: record.s3.bucket.name }, 'event for another bucket ignored');
        continue;
      }
      const key = decodeEventKey(record.s3.object.key);
      const problem = checkOriginalKey(key, deps.grammar);
      if (problem) {
        if (!ignored.some((i) => i.key === key)) {
          ignored.push({ key, code: problem.code, message: problem.message });
          deps.log.warn({ key, code: problem.code }, `upload ignored: ${problem.message}`);
        }
        continue;
      }
      keys.add(key);
      if (record.eventName.startsWith('ObjectRemoved')) removed.add(key);
    }
    const toInvalidate: string[] = [];
    const toPrewarm: string[] = [];
    let deletedVariants = 0;
    for (const key of keys) {
      const { exists, stale } = await reconcile(deps.store, key, version);
      if (stale.length > 0) {
        await deps.store.deleteVariants(stale);
        deletedVariants += stale.length;
      }
      if (stale.length > 0 || removed.has(key) || !exists) toInvalidate.push(key);
      if (exists) toPrewarm.push(key);
      deps.log.info({ key, exists, staleVariants: stale.length }, 'original reconciled');
    }
    let invalidationId: string | undefined;
    if (toInvalidate.length > 0 && deps.invalidator)
      invalidationId = await deps.invalidator.invalidate(toInvalidate);

    let prewarm: Totals | undefined;
    if (toPrewarm.length > 0) {
      const failures: string[] = [];
      prewarm = await deps.prewarmer.run(
        toPrewarm.map((key, i) => ({
          seq: i + 1,
          unit: { original: `s3://${deps.originalsBucket}/${key}` },
        })),
        (r) => {
          for (const image of r.report.images) {
            if (image.status === 'failed') {
              deps.log.warn(
                { key: image.source, code: image.code, transient: image.transient },
                image.message ?? 'failed',
              );
              if (image.transient) failures.push(image.source ?? image.ref);
            }
          }
        },
      );
      // Transient faults: fail the invocation so Lambda retries it (S3 invokes asynchronously).
      if (failures.length > 0)
        throw Object.assign(
          new Error(`Pre-warm hit transient faults for ${failures.length} originals; retrying`),
          {
            name: 'TransientPrewarmFailure',
          },
        );
    }
    return { keys: keys.size, ignored, deletedVariants, invalidated: toInvalidate, invalidationId, prewarm };
  };
}
