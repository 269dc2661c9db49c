/**
 * A replaced or deleted original takes its variants with it, locally as on AWS. There the
 * S3-event Lambda (prewarm/s3-events.ts, with `uploadNotifications`) deletes the variants made
 * from another version of the original and invalidates their CDN paths; here the stack's S3
 * door does the same, with the same `reconcile`, for every write of an original it lets
 * through: after s3rver has stored (or deleted) it and BEFORE the writer gets its answer, so
 * once `litepix upload` (or any S3 client) returns, the local CDN serves the new image.
 *
 * Unlike the Lambda it does not pre-warm the presets on upload (variants are made on first
 * request, as they are without uploadNotifications): what is served is the same, only the
 * first request's latency differs. Multi-object deletes (POST ?delete) are not followed.
 */
import type { IncomingMessage } from 'node:http';
import type { GrammarConfig } from '../edge-fn/grammar/config.ts';
import { encodeKeyPath } from '../edge-fn/grammar/source-key.ts';
import { checkOriginalKey } from '../edge-fn/grammar/variant-key.ts';
import type { Log } from '../origin-fn/log.ts';
import type { PrewarmStore } from '../prewarm/prewarm-store.ts';
import { reconcile } from '../prewarm/s3-events.ts';

/** The original an S3 request stores or deletes (path style), if it is one. */
export function originalWriteOf(
  method: string | undefined,
  target: string,
  originalsBucket: string,
): string | undefined {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
  const prefix = `/${originalsBucket}/`;
  if (!path.startsWith(prefix) || path.length === prefix.length) return undefined;
  // PutObject and CopyObject (no sub-resource), DeleteObject, CompleteMultipartUpload. The
  // AWS SDK names the operation in `x-id`, which is not a sub-resource.
  const whole = [...query.keys()].every((name) => name === 'x-id');
  const writes =
    ((method === 'PUT' || method === 'DELETE') && whole) || (method === 'POST' && query.has('uploadId'));
  if (!writes) return undefined;
  try {
    return decodeURIComponent(path.slice(prefix.length));
  } catch {
    return undefined;
  }
}

export interface OriginalsSyncDeps {
  store: PrewarmStore;
  originalsBucket: string;
  grammar: GrammarConfig;
  /** Drops these variant keys from the local CDN's cache (the CloudFront invalidation's part). */
  purge(cacheKeys: string[]): Promise<void>;
  log: Log;
}

/** The CDN cache key of a variant: the URI the viewer function rewrites requests to. */
export const cacheUriOf = (variantKey: string) => `/${encodeKeyPath(variantKey)}`;

/** The door's hook: called once the upstream answered a request with 2xx. */
export function createOriginalsSync(deps: OriginalsSyncDeps): (req: IncomingMessage) => Promise<void> {
  return async (req) => {
    const key = originalWriteOf(req.method, req.url ?? '/', deps.originalsBucket);
    if (key === undefined || checkOriginalKey(key, deps.grammar)) return;
    const { exists, stale } = await reconcile(deps.store, key, deps.grammar.version);
    if (stale.length > 0) {
      await deps.store.deleteVariants(stale);
      await deps.purge(stale.map(cacheUriOf));
    }
    deps.log.info({ key, exists, staleVariants: stale.length }, 'original reconciled');
  };
}
