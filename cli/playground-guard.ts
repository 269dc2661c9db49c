/**
 * The playground's API is the local stack's own and writes into it (uploads, pre-warm), so a
 * web page the developer happens to open must not be able to call it:
 * - every playground route answers only to a loopback host name (`127.0.0.1`, `localhost`,
 *   `[::1]`), so a DNS-rebinding page (evil.example resolving to 127.0.0.1) is refused;
 * - a state-changing request (not GET/HEAD) is refused when the browser says it comes from
 *   another site or origin (`Sec-Fetch-Site` other than `same-origin`/`none`, or an `Origin`
 *   other than the host it was sent to). Tools that send neither header (curl, the CLI) pass.
 * The local CDN worker passes `Origin`, `Sec-Fetch-Site` and the viewer's host
 * (`X-Forwarded-Host`) on to these routes.
 */
import type { IncomingMessage } from 'node:http';

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);
const SAFE_METHODS = new Set(['GET', 'HEAD']);

export interface Refusal {
  code: 'LOCAL_FORBIDDEN_HOST' | 'LOCAL_CROSS_SITE';
  message: string;
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `127.0.0.1:8080` → `127.0.0.1`; `[::1]:8080` → `[::1]`. */
function hostName(host: string): string {
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.lastIndexOf(':');
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}

/** Why this request may not use the playground's API, or undefined when it may. */
export function playgroundRefusal(req: IncomingMessage): Refusal | undefined {
  const host = one(req.headers['x-forwarded-host']) ?? one(req.headers.host) ?? '';
  if (!LOOPBACK_NAMES.has(hostName(host))) {
    return {
      code: 'LOCAL_FORBIDDEN_HOST',
      message: `The playground answers on 127.0.0.1, localhost or [::1] only, not on host "${host}"`,
    };
  }
  if (SAFE_METHODS.has(req.method ?? 'GET')) return undefined;
  const site = one(req.headers['sec-fetch-site']);
  const origin = one(req.headers.origin);
  let from: string | undefined;
  if (site !== undefined && site !== 'same-origin' && site !== 'none') from = `Sec-Fetch-Site: ${site}`;
  else if (origin !== undefined && origin !== `http://${host}`) from = `Origin: ${origin}`;
  if (from === undefined) return undefined;
  return {
    code: 'LOCAL_CROSS_SITE',
    message: `The playground's API takes ${req.method} requests from its own page only (${from}; expected http://${host})`,
  };
}
