/**
 * The local S3's door: s3rver itself accepts anonymous and wrongly signed requests, so the
 * stack puts this check in front of it. A request passes when it is signed (AWS Signature V4
 * in the Authorization header) with the local credentials (S3_CREDENTIALS) and a date within
 * 15 minutes, as S3 would demand. The one exception is what CloudFront may do with Origin
 * Access Control: read (GET/HEAD) an object of the variants bucket, which the local CDN does
 * without signing. Everything else is a 403 `AccessDenied` in S3's XML, with nothing stored.
 *
 * The body's hash is not re-computed: the check is about who may call, not about transport
 * integrity on loopback.
 */
import type { IncomingMessage } from 'node:http';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { FrontDecision } from './local-front.ts';
import { S3_CREDENTIALS } from './local-s3.ts';

const MAX_SKEW_MS = 15 * 60 * 1000;
const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

export interface GuardOptions {
  /** The bucket anyone on this machine may read objects of (the local CDN's variants). */
  publicReadBucket: string;
}

function denied(message: string): FrontDecision {
  return { refuse: { status: 403, code: 'AccessDenied', message, body: 's3' } };
}

/** `20261203T061500Z` → Date, or undefined. */
function amzDate(text: string | undefined): Date | undefined {
  const m = text ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text) : null;
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
}

function query(search: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const part of search.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const value = decodeURIComponent(eq < 0 ? '' : part.slice(eq + 1).replace(/\+/g, '%20'));
    const seen = out[name];
    out[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}

function isPublicRead(req: IncomingMessage, path: string, bucket: string): boolean {
  const method = req.method ?? 'GET';
  return (
    (method === 'GET' || method === 'HEAD') &&
    path.startsWith(`/${bucket}/`) &&
    path.length > bucket.length + 2
  );
}

/** The door's decision for one request (see the file comment). */
export async function guardLocalS3(req: IncomingMessage, options: GuardOptions): Promise<FrontDecision> {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const search = q < 0 ? '' : target.slice(q + 1);
  const authorization = req.headers.authorization;
  if (authorization === undefined) {
    if (isPublicRead(req, path, options.publicReadBucket)) return {};
    return denied('The local S3 takes requests signed with its local credentials only (S3RVER/S3RVER)');
  }
  const auth = AUTH.exec(authorization);
  if (!auth) return denied('Unsupported Authorization header: expected AWS Signature Version 4');
  const [, accessKey, , region, service, signedHeaders, signature] = auth as unknown as string[];
  if (accessKey !== S3_CREDENTIALS.accessKeyId) return denied(`Unknown access key "${accessKey}"`);
  const date = amzDate(req.headers['x-amz-date'] as string | undefined);
  if (!date || Math.abs(Date.now() - date.getTime()) > MAX_SKEW_MS) {
    return denied('The request time (x-amz-date) is missing or more than 15 minutes away from now');
  }
  const headers: Record<string, string> = {};
  for (const name of (signedHeaders as string).split(';')) {
    const value = req.headers[name];
    if (value === undefined) return denied(`Signed header "${name}" is missing`);
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  let parsedQuery: Record<string, string | string[]>;
  try {
    parsedQuery = query(search);
  } catch {
    return denied('Malformed query string');
  }
  const signer = new SignatureV4({
    credentials: S3_CREDENTIALS,
    region: region as string,
    service: service as string,
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path,
      query: parsedQuery,
      headers,
    },
    { signingDate: date, signingRegion: region, signingService: service },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization ?? '')?.[1];
  if (expected !== signature) return denied('The request signature does not match (SignatureDoesNotMatch)');
  return {};
}
