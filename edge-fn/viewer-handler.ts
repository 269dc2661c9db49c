/**
 * The viewer-request logic on CloudFront's event shapes: it folds the query string, `Accept`,
 * `Save-Data` and the client hints (ECT, RTT, Downlink, Sec-CH-DPR, Sec-CH-Width) into the URI (the variant key) and empties the query string, or answers
 * 400/403 itself. Pure: the config and signing are passed in (viewer-request.ts bakes them;
 * viewer-request-kvs.ts reads the secrets from a CloudFront KeyValueStore per request).
 */
import type { GrammarConfig } from './grammar/config.ts';
import { badParam, quote } from './grammar/errors.ts';
import { badSignature, normalizeRequest, type Signing } from './grammar/normalize.ts';
import { encodeKeyPath } from './grammar/source-key.ts';
import type { GrammarError, QueryParam } from './grammar/types.ts';

export interface CfValue {
  value: string;
  multiValue?: Array<{ value: string }>;
}

export interface CfRequest {
  method?: string;
  uri: string;
  querystring: Record<string, CfValue>;
  headers: Record<string, CfValue>;
  cookies?: Record<string, CfValue>;
}

export interface CfEvent {
  version?: string;
  request: CfRequest;
}

export interface CfResponse {
  statusCode: number;
  statusDescription: string;
  headers: Record<string, { value: string }>;
  body: { encoding: 'text'; data: string };
}

export interface EdgeConfig {
  grammar: GrammarConfig;
  /** Signing secrets baked in at build time (empty = unsigned URLs are served). */
  secrets: string[];
}

/** The runtime's `crypto` module: only HMAC is used. */
export interface HmacModule {
  createHmac(alg: string, key: string): { update(s: string): { digest(enc: string): string } };
}

/** A refusal the edge answers itself: a grammar error, or 503 when signing cannot be checked. */
interface Refusal {
  status: 400 | 403 | 503;
  code: string;
  message: string;
}

function refuse(error: Refusal): CfResponse {
  const bad = error.status === 400;
  return {
    statusCode: error.status,
    statusDescription: bad ? 'Bad Request' : error.status === 403 ? 'Forbidden' : 'Service Unavailable',
    headers: {
      'content-type': { value: 'text/plain; charset=utf-8' },
      // A bad URL stays bad: browsers may keep the answer a minute. A 403 or 503 is not kept.
      'cache-control': { value: bad ? 'public, max-age=60' : 'no-store' },
      'x-litepix-error': { value: error.code },
    },
    body: { encoding: 'text', data: `${error.message}\n` },
  };
}

/**
 * Signing is on but no valid secrets could be read (the KeyValueStore key is missing or
 * malformed): refuse everything rather than serve unsigned URLs.
 */
export function signingUnavailable(): CfResponse {
  return refuse({
    status: 503,
    code: 'IMG_SIGNING_UNAVAILABLE',
    message: 'Signing is on but no valid secrets are configured',
  });
}

function header(request: CfRequest, name: string): string | undefined {
  const h = request.headers ? request.headers[name] : undefined;
  return h ? h.value : undefined;
}

function decode(text: string): string {
  return text.indexOf('%') < 0 ? text : decodeURIComponent(text);
}

/** CloudFront's `{name: {value, multiValue}}` → a flat, decoded list. */
export function queryParams(querystring: Record<string, CfValue> | undefined): QueryParam[] | GrammarError {
  const out: QueryParam[] = [];
  if (!querystring) return out;
  const names = Object.keys(querystring);
  for (let i = 0; i < names.length; i++) {
    const raw = names[i] as string;
    const entry = querystring[raw] as CfValue;
    const list = entry.multiValue && entry.multiValue.length > 0 ? entry.multiValue : [entry];
    for (let j = 0; j < list.length; j++) {
      try {
        out.push({ name: decode(raw), value: decode((list[j] as CfValue).value) });
      } catch (_e) {
        return badParam(`Invalid query string: malformed percent-encoding in parameter ${quote(raw)}`);
      }
    }
  }
  return out;
}

export function handleViewerRequest(
  event: CfEvent,
  config: EdgeConfig,
  signing?: Signing,
): CfRequest | CfResponse {
  const request = event.request;
  const signed = signing !== undefined && signing.secrets.length > 0;
  const params = queryParams(request.querystring);
  // Signed mode: a query that cannot be decoded cannot be verified, so it is a 403 like any
  // unsigned request (never a 400 that tells what was wrong).
  if (!Array.isArray(params)) return refuse(signed ? badSignature() : params);
  const result = normalizeRequest(
    {
      path: request.uri,
      params: params,
      accept: header(request, 'accept'),
      saveData: header(request, 'save-data'),
      ectHint: header(request, 'ect'),
      rttHint: header(request, 'rtt'),
      downlinkHint: header(request, 'downlink'),
      dprHint: header(request, 'sec-ch-dpr') || header(request, 'dpr'),
      widthHint: header(request, 'sec-ch-width') || header(request, 'width'),
    },
    config.grammar,
    signing,
  );
  if (!result.ok) return refuse(result);
  request.uri = `/${encodeKeyPath(result.key)}`;
  request.querystring = {};
  return request;
}
