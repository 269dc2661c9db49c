/**
 * `litepix url <key>`: the CDN URL of a variant. Parameters are checked with the grammar the
 * edge runs (a URL the edge would refuse is a usage error), and signed when secrets are set.
 */
import { normalizeRequest } from '../edge-fn/grammar/normalize.ts';
import { encodeKeyPath } from '../edge-fn/grammar/source-key.ts';
import { cdnUrl, expiresIn, parseDuration } from '../edge-fn/sign-url.ts';
import type { EdgeConfig } from '../edge-fn/viewer-handler.ts';
import { UsageError } from './usage-error.ts';

/** The CDN URL of `key` with `params`, refused (UsageError) when the edge would refuse it. */
export function checkedUrl(
  key: string,
  params: Record<string, string>,
  base: string,
  config: EdgeConfig,
): string {
  const path = `/${encodeKeyPath(key.replace(/^\/+/, ''))}`;
  const sorted = Object.keys(params)
    .sort()
    .map((name) => ({ name, value: params[name] as string }));
  const check = normalizeRequest({ path, params: sorted }, config.grammar);
  if (!check.ok) throw new UsageError(`url: ${check.message}`);
  return cdnUrl(base, key, params, config.secrets[0]);
}

/** `--expires 1h` → the link's `exp` (Unix seconds); a malformed duration is a usage error. */
export function expiresAfter(duration: string, nowMs: number = Date.now()): number {
  try {
    return expiresIn(parseDuration(duration), nowMs);
  } catch (e) {
    throw new UsageError(`url: --expires: ${(e as Error).message}`);
  }
}
