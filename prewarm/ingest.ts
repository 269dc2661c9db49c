/**
 * Ingest: an external http(s) image → the originals bucket under a content-addressed key
 * (`ingest/<sha256>.<ext>`), so the CDN can serve its variants like any other original.
 *
 * SSRF safety, checked on every hop (redirects are followed by hand, at most `maxRedirects`):
 *  - http and https only, no credentials in the URL, the host on the allow-list
 *    (`images.example.com` or `*.example.com`);
 *  - a literal IP host must be a public unicast address (address-policy.ts);
 *  - a DNS name is resolved inside the socket's own `lookup` hook, and every address it resolves
 *    to is checked there: the address checked is the address connected to (no gap between check
 *    and connect for a DNS rebinding to slip through);
 *  - the whole download (all hops and the body) has one deadline, and the body is read with a
 *    running byte cap (Content-Length is checked first when present);
 *  - the type comes from the bytes (sharp reads the header), never from Content-Type.
 */
import { createHash } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import sharp, { type Metadata } from 'sharp';
import { BodyTooLargeError, readCapped } from '../origin-fn/read-capped.ts';
import { SOURCE_CONTENT_TYPES, SOURCE_EXTENSIONS } from '../origin-fn/transform/formats.ts';
import { type Cidr, checkAddress, isIpLiteral } from './address-policy.ts';
import { PrewarmError } from './errors.ts';

export interface IngestPolicy {
  /** Allowed hosts: exact names or IPs, or `*.example.com` (any subdomain). Empty = ingest off. */
  hosts: string[];
  /** Non-public addresses explicitly allowed (e.g. 127.0.0.1/32 in tests). */
  allowAddresses: Cidr[];
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
}

/** Resolves a host name to addresses (injectable: tests use a fixed table, no real DNS). */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses: LookupAddress[]) =>
      err ? reject(err) : resolve(addresses),
    );
  });

export function isHostAllowed(host: string, hosts: string[]): boolean {
  const h = host.toLowerCase();
  return hosts.some((pattern) => {
    const p = pattern.toLowerCase();
    return p.startsWith('*.') ? h.endsWith(p.slice(1)) && h.length > p.length - 1 : h === p;
  });
}

const refused = (url: string, why: string) =>
  new PrewarmError('INGEST_REFUSED', `Refused to fetch ${shown(url)}: ${why}`, { status: 403 });

function shown(url: string): string {
  return JSON.stringify(url.length > 200 ? `${url.slice(0, 200)}…` : url);
}

function checkUrl(raw: string, policy: IngestPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused(raw, 'not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw refused(raw, `the scheme ${url.protocol} is not allowed (http and https only)`);
  if (url.username || url.password) throw refused(raw, 'credentials in URLs are not allowed');
  if (!isHostAllowed(url.hostname, policy.hosts))
    throw refused(raw, `the host ${url.hostname} is not on the ingest allow-list (LITEPIX_INGEST_HOSTS)`);
  if (isIpLiteral(url.hostname)) {
    const verdict = checkAddress(url.hostname, policy.allowAddresses);
    if (!verdict.ok) throw refused(raw, `${url.hostname} is a ${verdict.range} address`);
  }
  return url;
}

/** The socket's lookup: resolve, refuse if ANY address is not allowed, connect to a checked one. */
function guardedLookup(url: string, resolver: Resolver, allow: Cidr[]): LookupFunction {
  return (hostname, options, callback) => {
    resolver(hostname)
      .then((addresses) => {
        if (addresses.length === 0) throw new Error(`${hostname} has no addresses`);
        for (const a of addresses) {
          const verdict = checkAddress(a.address, allow);
          if (!verdict.ok)
            throw refused(url, `${hostname} resolves to ${a.address}, a ${verdict.range} address`);
        }
        return addresses;
      })
      .then(
        (addresses) => {
          const first = addresses[0] as { address: string; family: number };
          if (options.all) callback(null, addresses as LookupAddress[]);
          else callback(null, first.address, first.family);
        },
        (err: unknown) => callback(err as NodeJS.ErrnoException, '', 0),
      );
  };
}

export interface Fetched {
  bytes: Buffer;
  finalUrl: string;
}

/** Downloads one external image under the policy. Throws PrewarmError INGEST_*. */
export async function fetchExternal(
  raw: string,
  policy: IngestPolicy,
  resolver: Resolver = systemResolver,
): Promise<Fetched> {
  if (policy.hosts.length === 0)
    throw new PrewarmError(
      'PREWARM_EXTERNAL_OFF',
      `Cannot pre-warm ${shown(raw)}: ingest of external URLs is off (set LITEPIX_INGEST_HOSTS)`,
    );
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), policy.timeoutMs);
  try {
    let current = raw;
    for (let hop = 0; ; hop++) {
      const url = checkUrl(current, policy);
      const res = await request(url, resolver, policy, controller.signal, raw);
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (hop >= policy.maxRedirects) throw refused(raw, `more than ${policy.maxRedirects} redirects`);
        current = new URL(res.headers.location, url).href;
        continue;
      }
      if (status !== 200) {
        res.resume();
        throw new PrewarmError('INGEST_HTTP', `Fetching ${shown(raw)} answered HTTP ${status}`, {
          status: 502,
          transient: status >= 500 || status === 429,
        });
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > policy.maxBytes) {
        res.destroy();
        throw tooLarge(raw, policy.maxBytes);
      }
      return { bytes: await readBody(res, policy.maxBytes, raw), finalUrl: url.href };
    }
  } catch (err) {
    if (controller.signal.aborted && !(err instanceof PrewarmError && err.code !== 'INGEST_UNREACHABLE'))
      throw new PrewarmError(
        'INGEST_TIMEOUT',
        `Fetching ${shown(raw)} took longer than ${policy.timeoutMs} ms`,
        {
          status: 504,
          transient: true,
          cause: err,
        },
      );
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

const tooLarge = (raw: string, max: number) =>
  new PrewarmError(
    'INGEST_TOO_LARGE',
    `${shown(raw)} is larger than ${max} bytes (LITEPIX_INGEST_MAX_BYTES)`,
    {
      status: 413,
    },
  );

function request(
  url: URL,
  resolver: Resolver,
  policy: IngestPolicy,
  signal: AbortSignal,
  raw: string,
): Promise<IncomingMessage> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, {
      method: 'GET',
      agent: false,
      signal,
      lookup: guardedLookup(raw, resolver, policy.allowAddresses),
      headers: { accept: 'image/avif,image/webp,image/*;q=0.8', 'user-agent': 'litepix-ingest/1' },
    });
    req.on('response', resolve);
    req.on('error', (err) => {
      if (err instanceof PrewarmError) reject(err);
      else
        reject(
          new PrewarmError(
            'INGEST_UNREACHABLE',
            `Cannot reach ${shown(raw)} (${(err as NodeJS.ErrnoException).code ?? err.name})`,
            {
              status: 502,
              transient: true,
              cause: err,
            },
          ),
        );
    });
    req.end();
  });
}

async function readBody(res: IncomingMessage, max: number, raw: string): Promise<Buffer> {
  try {
    return await readCapped(res, max);
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw tooLarge(raw, max);
    throw new PrewarmError('INGEST_UNREACHABLE', `The download of ${shown(raw)} was cut off`, {
      status: 502,
      transient: true,
      cause: err,
    });
  }
}

/** The raster formats ingest stores (SVG is never ingested). */
const INGESTED: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff']);

/** The image type from the bytes (sharp reads the header): extension and content type. */
export async function sniffImage(bytes: Buffer, raw: string): Promise<{ ext: string; type: string }> {
  const notImage = () =>
    new PrewarmError(
      'INGEST_NOT_IMAGE',
      `${shown(raw)} is not an image (expected JPEG, PNG, WebP, GIF, AVIF or TIFF)`,
      {
        status: 415,
      },
    );
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (err) {
    throw Object.assign(notImage(), { cause: err });
  }
  if (meta.format === 'heif') {
    if (meta.compression === 'av1') return { ext: SOURCE_EXTENSIONS.avif, type: SOURCE_CONTENT_TYPES.avif };
    throw notImage();
  }
  if (!INGESTED.has(meta.format)) throw notImage();
  const format = meta.format as 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff';
  return { ext: SOURCE_EXTENSIONS[format], type: SOURCE_CONTENT_TYPES[format] };
}

/** `ingest/<sha256 of the bytes>.<ext>`: the same image always lands on the same key. */
export function ingestKey(bytes: Buffer, ext: string): string {
  return `ingest/${createHash('sha256').update(bytes).digest('hex')}.${ext}`;
}
