/**
 * signUrl() for backends in Node: the URL a viewer may request when signing is on.
 * Other languages: see docs/urls.md "Signed URLs" (the message is the URL itself when parameters
 * use short names in sorted order).
 */
import { createHmac } from 'node:crypto';
import { canonicalName, isError } from './grammar/params.ts';
import { signingMessage } from './grammar/signature.ts';
import { encodeKeyPath, sourceFromPath } from './grammar/source-key.ts';
import type { QueryParam } from './grammar/types.ts';

export type UrlParams = Record<string, string | number | undefined>;

export function hmacSha256Base64Url(secret: string, message: string): string {
  return createHmac('sha256', secret).update(message).digest('base64url');
}

/**
 * `signUrl('/photos/a.jpg', { w: 800 }, secret)` → `/photos/a.jpg?w=800&s=…`.
 * `target` may be a path or an absolute URL (its origin is kept). Parameters are written with
 * their short names, sorted; undefined values are left out. Throws on an unsafe path or an
 * unknown parameter name, so a backend cannot sign a URL the edge would refuse as malformed.
 */
export function signUrl(target: string, params: UrlParams, secret: string): string {
  const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(target);
  const url = absolute ? new URL(target) : undefined;
  const path = url ? url.pathname : target;
  const source = sourceFromPath(path);
  if (isError(source)) throw new Error(source.message);
  const list = sortedParams(params);
  const signature = hmacSha256Base64Url(secret, signingMessage(source, list));
  const query = list.map((p) => `${p.name}=${encodeURIComponent(p.value)}`);
  query.push(`s=${signature}`);
  return `${url ? url.origin : ''}/${encodeKeyPath(source)}?${query.join('&')}`;
}

/** Parameters with their short names, sorted by name; undefined values left out. */
function sortedParams(params: UrlParams): QueryParam[] {
  const list: QueryParam[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const short = canonicalName(name, false);
    if (isError(short)) throw new Error(short.message);
    list.push({ name: short, value: String(value) });
  }
  return list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The CDN URL of an original with parameters: `cdnUrl('https://cdn', 'photos/a.jpg', { w: 800 })`
 * → `https://cdn/photos/a.jpg?w=800`; signed (signUrl) when a secret is given. The one URL
 * builder of the CLI, the pre-warm rewrite and the playground.
 */
export function cdnUrl(base: string, key: string, params: UrlParams, secret?: string | undefined): string {
  const root = base.replace(/\/+$/, '');
  const path = `/${encodeKeyPath(key.replace(/^\/+/, ''))}`;
  if (secret) return `${root}${signUrl(path, params, secret)}`;
  const query = sortedParams(params).map((p) => `${p.name}=${encodeURIComponent(p.value)}`);
  return `${root}${path}${query.length > 0 ? `?${query.join('&')}` : ''}`;
}

const DURATION = /^([0-9]{1,9})(s|m|h|d)$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `30s`, `15m`, `1h`, `7d` → seconds; throws naming what is allowed otherwise. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  const seconds = m ? Number(m[1]) * (UNIT_SECONDS[m[2] as string] as number) : 0;
  if (!(seconds > 0)) {
    throw new Error(
      `Invalid duration ${JSON.stringify(text)}: expected a positive whole number and a unit, s, m, h or d (e.g. 30s, 15m, 1h, 7d)`,
    );
  }
  return seconds;
}

/**
 * The `exp` of a link that expires `seconds` from now (Unix seconds, rounded up), to pass in
 * signUrl()/cdnUrl() params: `cdnUrl(base, key, { w: 800, exp: expiresIn(3600) }, secret)`.
 * The edge serves it until 30 s after `exp` (clock skew; docs/urls.md "Expiring links").
 */
export function expiresIn(seconds: number, nowMs: number = Date.now()): number {
  if (!(Number.isFinite(seconds) && seconds > 0)) {
    throw new Error(`Invalid expiry ${seconds}: expected a positive number of seconds`);
  }
  return Math.ceil(nowMs / 1000 + seconds);
}
