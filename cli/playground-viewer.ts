/**
 * What the local CDN's viewer function makes of a playground request: the variant key of a CDN
 * URL sent with the viewer headers the page sets (Accept, Save-Data, ECT), worked out by the
 * very function the built bundle runs (handleViewerRequest) on a CloudFront-shaped event, and
 * whether this edge reads the ECT hint at all (does `ECT: 2g` change a key), probed the same
 * way, so the page can say so instead of showing an unchanged variant as if it were the answer.
 */
import { hmacSha256Base64Url } from '../edge-fn/sign-url.ts';
import {
  type CfRequest,
  type CfResponse,
  type CfValue,
  type EdgeConfig,
  handleViewerRequest,
} from '../edge-fn/viewer-handler.ts';

/** The request headers the page may set on its image fetch (none is a forbidden header name). */
export const VIEWER_HEADERS = ['accept', 'save-data', 'ect'] as const;
export type ViewerHeaders = Partial<Record<(typeof VIEWER_HEADERS)[number], string>>;

/** The network client hint values the page offers (the Network Information API's `effectiveType`). */
export const ECT_VALUES = ['4g', '3g', '2g', 'slow-2g'];

export type ViewerAnswer = { ok: true; key: string } | { ok: false; status: number; message: string };

const CHROME_ACCEPT = 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8';

function isResponse(result: CfRequest | CfResponse): result is CfResponse {
  return (result as CfResponse).statusCode !== undefined;
}

/** The variant key the edge makes of `url` (a CDN URL, signed when secrets are set) with `headers`. */
export function viewerKey(url: string, headers: ViewerHeaders, edge: EdgeConfig): ViewerAnswer {
  const parsed = new URL(url);
  // As the local CDN worker builds it: names and values percent-encoded, repeats as multiValue.
  const querystring: Record<string, CfValue> = Object.create(null);
  for (const [name, value] of parsed.searchParams) {
    const key = encodeURIComponent(name);
    const entry = { value: encodeURIComponent(value) };
    const seen = querystring[key];
    if (!seen) querystring[key] = entry;
    else {
      seen.multiValue = seen.multiValue ?? [{ value: seen.value }];
      seen.multiValue.push(entry);
    }
  }
  const cfHeaders: Record<string, CfValue> = Object.create(null);
  for (const name of VIEWER_HEADERS) {
    const value = headers[name];
    if (value !== undefined && value !== '') cfHeaders[name] = { value };
  }
  const signing = edge.secrets.length > 0 ? { secrets: edge.secrets, hmac: hmacSha256Base64Url } : undefined;
  const result = handleViewerRequest(
    { version: '1.0', request: { method: 'GET', uri: parsed.pathname, querystring, headers: cfHeaders } },
    edge,
    signing,
  );
  if (isResponse(result)) {
    return { ok: false, status: result.statusCode, message: result.body.data.trim() };
  }
  return { ok: true, key: decodeURIComponent(result.uri.slice(1)) };
}

export interface EdgeSupport {
  /** Whether `ECT: 2g` on a `q=auto` request changes its variant key (the edge reads the hint). */
  ect: boolean;
}

/** What this edge does with the page's ECT control, probed through handleViewerRequest. */
export function edgeSupport(edge: EdgeConfig): EdgeSupport {
  // Unsigned probes: with signing on, an unsigned URL is a 403 whatever it says.
  const probe: EdgeConfig = { grammar: edge.grammar, secrets: [] };
  const base = 'http://probe/samples/probe.jpg';
  const plain = viewerKey(base, { accept: CHROME_ACCEPT }, probe);
  const slow = viewerKey(base, { accept: CHROME_ACCEPT, ect: '2g' }, probe);
  return {
    ect: plain.ok && slow.ok && plain.key !== slow.key,
  };
}
