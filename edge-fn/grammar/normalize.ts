/**
 * A viewer request (path, query parameters, Accept, Save-Data and client hints) → one
 * canonical variant.
 * The same function runs in the CloudFront function, the local CDN and the tests.
 */
import type { GrammarConfig } from './config.ts';
import { EXP_SKEW_SECONDS, MAX_PARAMS } from './config.ts';
import { badParam, fail, quote } from './errors.ts';
import { negotiateFormat } from './negotiate-format.ts';
import {
  canonicalName,
  decimal,
  isError,
  LONG_NAMES,
  type ParamName,
  tooManyParams,
  validateValue,
} from './params.ts';
import { type HmacFn, signingMessage, verifySignature } from './signature.ts';
import { keyTooLong, sourceFromPath } from './source-key.ts';
import { lower, token } from './text.ts';
import type {
  Fit,
  GrammarError,
  Normalized,
  Position,
  Quality,
  QueryParam,
  VariantSpec,
  ViewerRequest,
} from './types.ts';
import { buildVariantKey } from './variant-key.ts';

export interface Signing {
  /** Active secrets; more than one during a rotation. */
  secrets: string[];
  hmac: HmacFn;
}

/** The smallest ladder size ≥ n, or undefined when n is above the largest. */
export function snapUp(n: number, ladder: number[]): number | undefined {
  for (let i = 0; i < ladder.length; i++) {
    const step = ladder[i] as number;
    if (step >= n) return step;
  }
  return undefined;
}

type Values = { [name in ParamName]?: string };

/** Two values for one parameter; `from` says where the second came from (a preset). */
function conflict(name: ParamName, a: string, b: string, from: string): GrammarError {
  return badParam(`Conflicting values for ${LONG_NAMES[name]}: ${quote(a)} and ${quote(b)}${from}`);
}

/**
 * A size × dpr snapped up to the ladder. Above the largest step: a 400 when the URL asked
 * for it, the largest step when a client hint did (`hinted`: a header is not a typo).
 */
function scaled(
  name: 'w' | 'h',
  values: Values,
  dpr: number,
  ladder: number[],
  hinted: boolean,
): number | GrammarError | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  // Rounded to 1e-6 first so that 414 × 1.1 = 455.40000000000003 is 456, not 457.
  const px = Math.ceil(Math.round(Number(text) * dpr * 1e6) / 1e6);
  const step = snapUp(px, ladder);
  if (step === undefined && hinted) return ladder[ladder.length - 1];
  if (step === undefined) {
    const max = ladder[ladder.length - 1];
    return badParam(
      `Invalid ${LONG_NAMES[name]} ${quote(text)} at dpr ${dpr}: ${px} is larger than the largest size ${max}`,
    );
  }
  return step;
}

/** The 403 of signed mode: every request without a valid signature gets it, before any other check. */
export function badSignature(why?: string): GrammarError {
  return fail(
    403,
    'IMG_BAD_SIGNATURE',
    why || 'Invalid signature: it does not match the path and parameters',
  );
}

/**
 * Signed mode: the signature is checked before the path or any parameter is judged, so an
 * unsigned request learns nothing (no 400 for a bad path, a bad value or too many parameters).
 * A path that cannot be a key cannot have been signed (the signers refuse it).
 */
function checkSignature(source: string | GrammarError, params: QueryParam[], signing: Signing) {
  let signature: string | undefined;
  for (let i = 0; i < params.length; i++) {
    const p = params[i] as QueryParam;
    if (lower(p.name) !== 's') continue;
    if (signature !== undefined && signature !== p.value)
      return badSignature('Invalid signature: "s" is given twice');
    signature = p.value;
  }
  if (signature === undefined)
    return badSignature('Missing signature: this CDN only serves signed URLs (parameter "s")');
  if (
    isError(source) ||
    !verifySignature(signingMessage(source, params), signature, signing.secrets, signing.hmac)
  )
    return badSignature();
  return undefined;
}

/** A client hint's number (`2.625`, `150`), NaN when absent or malformed: malformed hints are ignored. */
function hint(text: string | undefined): number {
  return text ? decimal(text.trim()) : Number.NaN;
}

/** Save-Data, or a slow link by the network hints and the configured thresholds. */
function lite(request: ViewerRequest, config: GrammarConfig): boolean {
  const slow = config.slowLink;
  return (
    token(request.saveData) === 'on' ||
    slow.ect.indexOf(token(request.ectHint)) >= 0 ||
    (slow.rttMs > 0 && hint(request.rttHint) >= slow.rttMs) ||
    hint(request.downlinkHint) < slow.downlinkMbps
  );
}

export function normalizeRequest(
  request: ViewerRequest,
  config: GrammarConfig,
  signing?: Signing,
): Normalized | GrammarError {
  const source = sourceFromPath(request.path);
  const params = request.params;
  if (signing && signing.secrets.length > 0) {
    const refused = checkSignature(source, params, signing);
    if (refused) return refused;
  }
  if (isError(source)) return source;
  if (params.length > MAX_PARAMS) return tooManyParams(params.length);

  const ladder = config.ladder;
  const presetNames = Object.keys(config.presets);
  const values: Values = {};
  for (let i = 0; i < params.length; i++) {
    const p = params[i] as QueryParam;
    const name = canonicalName(p.name, signing !== undefined && signing.secrets.length > 0);
    if (isError(name)) return name;
    if (name === 's') continue;
    const value = validateValue(name, p.value, config, presetNames);
    if (isError(value)) return value;
    const seen = values[name];
    if (seen !== undefined && seen !== value) return conflict(name, seen, value, '');
    values[name] = value;
  }

  if (values.exp !== undefined) {
    const now = request.now === undefined ? Math.floor(Date.now() / 1000) : request.now;
    const exp = Number(values.exp);
    if (now > exp + EXP_SKEW_SECONDS)
      return fail(
        403,
        'IMG_EXPIRED',
        `Expired link: it was valid until exp=${exp} (${new Date(exp * 1000).toISOString()}); ask for a new one`,
      );
  }

  if (values.preset !== undefined) {
    const preset = config.presets[values.preset] as Record<string, string>;
    const keys = Object.keys(preset);
    for (let i = 0; i < keys.length; i++) {
      const name = keys[i] as ParamName;
      const value = preset[name] as string;
      const seen = values[name];
      if (seen !== undefined && seen !== value)
        return conflict(name, seen, value, ` (the second from preset ${quote(values.preset)})`);
      values[name] = value;
    }
  }

  // Width hints: Sec-CH-DPR when the URL has no dpr; Sec-CH-Width (physical px) when it has no
  // size at all (next to a height it would change the shape of fit=cover).
  const dprHint = values.dpr === undefined ? hint(request.dprHint) : Number.NaN;
  const hinted = dprHint > 0;
  const dpr = hinted ? Math.min(4, Math.max(1, dprHint)) : values.dpr === undefined ? 1 : Number(values.dpr);
  const widthHint = values.w === undefined && values.h === undefined ? Math.ceil(hint(request.widthHint)) : 0;
  const width =
    widthHint >= 1
      ? (snapUp(widthHint, ladder) as number) || ladder[ladder.length - 1]
      : scaled('w', values, dpr, ladder, hinted);
  if (isError(width)) return width;
  const height = scaled('h', values, dpr, ladder, hinted);
  if (isError(height)) return height;

  const q = values.q === undefined ? 'auto' : values.q;
  const quality: Quality = q !== 'auto' ? Number(q) : lite(request, config) ? 'lite' : 'auto';

  const f = values.f === undefined ? 'auto' : values.f;
  const fit = width !== undefined && height !== undefined && values.fit !== undefined ? values.fit : 'inside';
  const spec: VariantSpec = {
    source: source,
    fit: fit as Fit,
    quality: quality,
    format: f === 'auto' ? negotiateFormat(request.accept, source, config) : (f as VariantSpec['format']),
  };
  if (values.crop) {
    const crop = values.crop.split(',');
    spec.crop = { x: Number(crop[0]), y: Number(crop[1]), w: Number(crop[2]), h: Number(crop[3]) };
  }
  if (width !== undefined) spec.width = width;
  if (height !== undefined) spec.height = height;
  // A position anchors fit=cover (any) and fit=contain (a gravity); anywhere else it is a 400,
  // not silently dropped: the viewer would get the centre and not know why.
  const pos = values.pos;
  if (pos !== undefined && pos !== 'center') {
    if (fit !== 'cover' && (fit !== 'contain' || pos === 'attention' || pos === 'entropy'))
      return badParam(
        `Invalid position ${quote(pos)}: it needs w, h and fit=cover (or fit=contain for a gravity)`,
      );
    spec.position = pos as Position;
  }
  if (values.maxkb !== undefined) spec.maxKb = Number(values.maxkb);

  const key = buildVariantKey(spec, config);
  const long = keyTooLong(key, request.path);
  if (long) return long;
  return { ok: true, spec: spec, key: key };
}
