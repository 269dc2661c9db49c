/**
 * Signed URLs. The signed message is the request's canonical path and options, so neither
 * parameter order nor alias choice matters:
 *
 *   message = "/" + key (each segment percent-encoded like encodeURIComponent)
 *             + ("?" + the parameters except `s`, each `name=value` with the short name
 *                (width → w, …) lower-cased and the value as sent, sorted, joined by "&")
 *                 — omitted when there are none
 *   s       = base64url(HMAC-SHA256(secret, message)), without padding
 *
 * For a URL written with short names in sorted order, the message is the URL's own path and
 * query without `s`, e.g. `/photos/a.jpg?q=auto&w=800`.
 */
import { canonicalName, isError } from './params.ts';
import { encodeKeyPath } from './source-key.ts';
import { lower } from './text.ts';
import type { QueryParam } from './types.ts';

/** HMAC-SHA256 of `message` under `secret`, base64url without padding. */
export type HmacFn = (secret: string, message: string) => string;

export function signingMessage(source: string, params: QueryParam[]): string {
  const pairs: string[] = [];
  for (let i = 0; i < params.length; i++) {
    const p = params[i] as QueryParam;
    const name = canonicalName(p.name, true);
    const short = isError(name) ? lower(p.name) : name;
    if (short === 's') continue;
    pairs.push(`${short}=${p.value}`);
  }
  pairs.sort();
  const path = `/${encodeKeyPath(source)}`;
  return pairs.length > 0 ? `${path}?${pairs.join('&')}` : path;
}

/** Compares two strings in time that depends only on `expected`'s length. */
export function constantTimeEqual(given: string, expected: string): boolean {
  let diff = given.length === expected.length ? 0 : 1;
  for (let i = 0; i < expected.length; i++) {
    diff |= expected.charCodeAt(i) ^ (i < given.length ? given.charCodeAt(i) : 0);
  }
  return diff === 0;
}

export function stripPadding(signature: string): string {
  let end = signature.length;
  while (end > 0 && signature.charAt(end - 1) === '=') end--;
  return signature.slice(0, end);
}

/** True when `signature` matches the message under any of the active secrets (rotation). */
export function verifySignature(
  message: string,
  signature: string,
  secrets: string[],
  hmac: HmacFn,
): boolean {
  const given = stripPadding(signature);
  let ok = false;
  for (let i = 0; i < secrets.length; i++) {
    // No early exit: every secret is tried, so timing does not reveal which one matched.
    if (constantTimeEqual(given, stripPadding(hmac(secrets[i] as string, message)))) ok = true;
  }
  return ok;
}
