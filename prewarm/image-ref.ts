/**
 * What an image reference in a Data Unit points at:
 *  - `key`: an original in the originals bucket, written as a URL under the CDN base
 *    (`https://cdn.example.com/photos/a.jpg?w=800`, the query is dropped), an `s3://` URI or
 *    S3 URL of the originals bucket, or a bare key (`photos/a.jpg`);
 *  - `external`: any other http(s) URL, to be ingested (see ingest.ts);
 *  - `invalid`: a reference that was explicitly selected but cannot be an image.
 * Auto-detection (no selectors) only takes strings that clearly are images: URLs under the CDN
 * base or of the originals bucket, `s3://` URIs, keys ending in an image extension, and URLs of
 * allow-listed ingest hosts. Anything else in the unit is text and left alone.
 */
import { checkSourceKey, decodePath } from '../edge-fn/grammar/source-key.ts';

export type ImageRef =
  | { kind: 'key'; key: string }
  | { kind: 'external'; url: string }
  | { kind: 'invalid'; code: 'PREWARM_BAD_REF'; message: string };

export interface RefContext {
  /** The CDN base, e.g. `https://d111.cloudfront.net` or `http://127.0.0.1:8080` (no trailing slash). */
  cdnBase: URL;
  originalsBucket: string;
  /** Path-style S3 endpoint whose `/<bucket>/<key>` URLs count as originals (local stacks). */
  s3Endpoint?: URL | undefined;
  /** Hosts external URLs may be ingested from (auto-detection takes their URLs). */
  isIngestHost: (host: string) => boolean;
}

const IMAGE_EXTENSION = /\.(jpe?g|png|webp|gif|avif|tiff?|heic|heif)$/i;
const MAX_REF_CHARS = 4096;

function keyRef(key: string, shown: string): ImageRef {
  const problem = checkSourceKey(key, shown);
  if (problem) return { kind: 'invalid', code: 'PREWARM_BAD_REF', message: problem.message };
  return { kind: 'key', key };
}

function fromPath(pathname: string, shown: string): ImageRef {
  const key = decodePath(pathname);
  if (typeof key !== 'string') return { kind: 'invalid', code: 'PREWARM_BAD_REF', message: key.message };
  return keyRef(key, shown);
}

function underBase(url: URL, base: URL): string | undefined {
  if (url.origin !== base.origin) return undefined;
  const prefix = base.pathname.replace(/\/+$/, '');
  if (prefix !== '' && !url.pathname.startsWith(`${prefix}/`)) return undefined;
  return url.pathname.slice(prefix.length);
}

/** The key of an S3 URL of the originals bucket (virtual-hosted or path style), if it is one. */
function s3UrlKey(url: URL, ctx: RefContext): string | undefined {
  const bucket = ctx.originalsBucket;
  if (ctx.s3Endpoint) {
    const path = underBase(url, ctx.s3Endpoint);
    if (path?.startsWith(`/${bucket}/`)) return path.slice(bucket.length + 1);
  }
  if (!url.hostname.endsWith('.amazonaws.com')) return undefined;
  if (url.hostname.startsWith(`${bucket}.s3.`) || url.hostname.startsWith(`${bucket}.s3-`))
    return url.pathname;
  if (/^s3[.-]/.test(url.hostname) && url.pathname.startsWith(`/${bucket}/`))
    return url.pathname.slice(bucket.length + 1);
  return undefined;
}

/**
 * Classifies one string. `selected`: the string sits where a selector points, so it must be an
 * image reference (an unusable one is `invalid`); otherwise (auto-detection) strings that do not
 * look like image references give undefined.
 */
export function classifyRef(text: string, ctx: RefContext, selected: boolean): ImageRef | undefined {
  const value = text.trim();
  const invalid = (why: string): ImageRef | undefined =>
    selected
      ? {
          kind: 'invalid',
          code: 'PREWARM_BAD_REF',
          message: `Invalid image reference ${show(value)}: ${why}`,
        }
      : undefined;
  if (value === '' || value.length > MAX_REF_CHARS)
    return invalid(`expected 1 to ${MAX_REF_CHARS} characters`);

  if (/^s3:\/\//i.test(value)) {
    const rest = value.slice(5);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    if (bucket !== ctx.originalsBucket || slash < 0)
      return invalid(`only s3://${ctx.originalsBucket}/<key> (the originals bucket) can be pre-warmed`);
    return keyRef(rest.slice(slash + 1), value);
  }

  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return invalid('not a valid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return invalid(`the scheme ${url.protocol} is not supported: expected https, http or s3`);
    const cdnPath = underBase(url, ctx.cdnBase);
    if (cdnPath !== undefined) return fromPath(cdnPath, value);
    const s3Key = s3UrlKey(url, ctx);
    if (s3Key !== undefined) return fromPath(s3Key, value);
    if (selected || ctx.isIngestHost(url.hostname)) return { kind: 'external', url: url.href };
    return undefined;
  }

  // A key (optionally written as a path with one leading slash).
  const key = value.startsWith('/') ? value.slice(1) : value;
  if (!selected && (!IMAGE_EXTENSION.test(key) || /\s/.test(key))) return undefined;
  const ref = keyRef(key, value);
  return ref.kind === 'invalid' && !selected ? undefined : ref;
}

/**
 * Why auto-detection took no string of a unit as an image. When one is an http(s) URL of an
 * image under another base (`http://127.0.0.1:8080/a.jpg` while the CDN is on another port),
 * it is named with the setting that would take it, rather than passed over in silence.
 */
export function noImagesReason(strings: Iterable<{ value: string }>, ctx: RefContext): string {
  const reason = 'no string in it is an image URL under the CDN base, an s3:// URI or an image key';
  for (const { value: text } of strings) {
    let url: URL;
    try {
      url = new URL(text.trim());
    } catch {
      continue;
    }
    if ((url.protocol === 'http:' || url.protocol === 'https:') && IMAGE_EXTENSION.test(url.pathname)) {
      const base = ctx.cdnBase.href.replace(/\/+$/, '');
      return `${reason}; ${show(text.trim())} is an image URL outside the CDN base ${base} (write it under that base or as its key, or allow its host in LITEPIX_INGEST_HOSTS to ingest it)`;
    }
  }
  return reason;
}

function show(value: string): string {
  return JSON.stringify(value.length > 120 ? `${value.slice(0, 120)}…` : value);
}
