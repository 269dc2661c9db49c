/**
 * CloudFront invalidation of replaced or deleted originals, batched: one CreateInvalidation per
 * call with every path, deduplicated. For each original two wildcard paths: `/<key>*` (the URI
 * viewers request) and `/<version>/<key>/*` (the URI the viewer function rewrites it to, which is
 * what CloudFront caches under; AWS advises invalidating both when a function changes the URI).
 *
 * CloudFront allows at most 15 wildcard paths in progress per distribution, so when a batch
 * would need more, the keys are collapsed to their longest common prefix (`/photos/2024/*`),
 * which invalidates more than needed but never less.
 */
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { encodeKeyPath } from '../edge-fn/grammar/source-key.ts';

export interface Invalidator {
  /** Invalidates the CDN paths of these original keys; returns the invalidation id. */
  invalidate(keys: string[]): Promise<string | undefined>;
}

export const MAX_WILDCARD_PATHS = 15;

function commonPrefix(keys: string[]): string {
  let prefix = keys[0] ?? '';
  for (const k of keys) {
    let i = 0;
    while (i < prefix.length && i < k.length && prefix[i] === k[i]) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix;
}

/** The invalidation paths for these keys (see above), at most `max` of them. */
export function invalidationPaths(keys: string[], version: string, max = MAX_WILDCARD_PATHS): string[] {
  const unique = [...new Set(keys)].sort();
  if (unique.length === 0) return [];
  if (unique.length * 2 <= max) {
    return unique.flatMap((k) => [`/${encodeKeyPath(k)}*`, `/${version}/${encodeKeyPath(k)}/*`]);
  }
  const prefix = commonPrefix(unique);
  // Encode whole segments only (a cut inside a percent-encoded character would match nothing).
  const slash = prefix.lastIndexOf('/');
  const dir = prefix.slice(0, slash + 1);
  const tail = prefix.slice(slash + 1);
  const encoded = `${dir === '' ? '' : `${encodeKeyPath(dir.slice(0, -1))}/`}${/^[A-Za-z0-9._~-]*$/.test(tail) ? tail : ''}`;
  return [`/${encoded}*`, `/${version}/${encoded}*`];
}

export interface CloudFrontInvalidatorOptions {
  client: CloudFrontClient;
  distributionId: string;
  version: string;
  /** Unique per request (CloudFront refuses a reused reference with other paths). */
  callerReference?: (() => string) | undefined;
}

export function createCloudFrontInvalidator(options: CloudFrontInvalidatorOptions): Invalidator {
  const reference =
    options.callerReference ?? (() => `litepix-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`);
  return {
    async invalidate(keys) {
      const paths = invalidationPaths(keys, options.version);
      if (paths.length === 0) return undefined;
      const out = await options.client.send(
        new CreateInvalidationCommand({
          DistributionId: options.distributionId,
          InvalidationBatch: {
            CallerReference: reference(),
            Paths: { Quantity: paths.length, Items: paths },
          },
        }),
      );
      return out.Invalidation?.Id;
    },
  };
}

export { CloudFrontClient };
