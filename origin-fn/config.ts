/**
 * Origin configuration, parsed once per cold start from the environment into a typed object.
 * Every variable is a setting of ORIGIN_SETTINGS or TRANSFORM_SETTINGS_SCHEMA (valibot, via
 * settings-schema.ts): its range, default and description live there, the messages name the
 * variable, the bad value and what is allowed, and docs/configuration.md is generated from them
 * (npm run docs:config). Nothing deeper in the code reads process.env.
 */
import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import type { GrammarConfig } from '../edge-fn/grammar/config.ts';
import { resolveGrammarConfig } from '../edge-fn/grammar/resolve-config.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './origin-handler.ts';
import { isBucketName } from './s3-store.ts';
import {
  envBoolean,
  envChoice,
  envDecimal,
  envInteger,
  envText,
  readSetting,
  readSettings,
  type SettingsGroup,
  setting,
} from './settings-schema.ts';
import {
  DEFAULT_LIMITS,
  DISTANCE_RANGE,
  MAX_ENCODES,
  type TransformLimits,
  validateLimits,
} from './transform/limits.ts';

export interface OriginConfig {
  originalsBucket: string;
  variantsBucket: string;
  region: string;
  /** An S3-compatible endpoint (s3rver, MinIO…); path-style addressing is used with it. */
  endpoint: string | undefined;
  grammar: GrammarConfig;
  limits: TransformLimits;
  /** Time budget of one variant (origin-handler.ts); 503 IMG_TIMEOUT beyond. */
  requestTimeoutMs: number;
  logLevel: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Env = Record<string, string | undefined>;

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

/** An S3 bucket name setting (the rule of s3-store.ts). */
export function bucketSetting<D extends string | undefined>(fallback: D, description: string) {
  return setting(
    v.pipe(
      v.string(),
      v.check((s) => isBucketName(s)),
    ),
    fallback,
    { description, allowed: 'an S3 bucket name (3–63 characters: a–z, 0–9, "." and "-")' },
  );
}

/** Where the origin's storage and grammar come from; the stack sets each of these itself. */
export const ORIGIN_SETTINGS = {
  LITEPIX_ORIGINALS_BUCKET: bucketSetting('litepix-originals', 'bucket holding the originals'),
  LITEPIX_VARIANTS_BUCKET: bucketSetting(
    'litepix-variants',
    'bucket the variants are written to; must differ from the originals bucket',
  ),
  AWS_REGION: setting(v.string(), 'us-east-1', { description: 'S3 region', allowed: 'an AWS region name' }),
  AWS_ENDPOINT_URL_S3: envText(
    /^https?:\/\/[^\s/]+/,
    undefined,
    'an S3-compatible endpoint (s3rver, MinIO); path-style addressing',
    { allowed: 'an http(s) URL' },
  ),
  LITEPIX_GRAMMAR_JSON: setting(v.string(), undefined, {
    description: "the grammar config as inline JSON (the stack sets it); must match the edge's",
    allowed: 'a JSON object (the `grammar` of the config file)',
    shown: 'the defaults',
    hideValue: true,
  }),
  LITEPIX_CONFIG: setting(v.string(), undefined, {
    description:
      'the JSON config file whose `grammar` the edge was built with (read when LITEPIX_GRAMMAR_JSON is unset)',
    allowed: 'a path to a JSON file',
    shown: 'the defaults',
  }),
  LITEPIX_LOG_LEVEL: envChoice(LOG_LEVELS, 'info', 'level of the JSON logs'),
} satisfies SettingsGroup;

const PIXELS = 268_402_689; // 16383², libvips's largest image side squared
const { min: DMIN, max: DMAX } = DISTANCE_RANGE;
const D = DEFAULT_LIMITS;

/**
 * Limits, `q=auto` settings and the request budget: the stack gives them (transformSettings) to
 * the origin and the pre-warm Lambdas alike, so a pre-warmed variant is the one the origin makes.
 */
export const TRANSFORM_SETTINGS_SCHEMA = {
  LITEPIX_MAX_SOURCE_BYTES: envInteger(
    1,
    2 ** 31 - 1,
    D.maxSourceBytes,
    'larger originals get 413 (read with a running cap, never buffered whole)',
    { shown: '41943040 (40 MiB)' },
  ),
  LITEPIX_MAX_INPUT_PIXELS: envInteger(
    1,
    PIXELS,
    D.maxInputPixels,
    'decompression-bomb guard, from the header before decoding',
  ),
  LITEPIX_MAX_OUTPUT_DIMENSION: envInteger(1, 16383, D.maxOutputDimension, 'longest output side'),
  LITEPIX_MAX_FRAMES: envInteger(
    1,
    100_000,
    D.maxFrames,
    'most frames of an animation kept as animated WebP',
  ),
  LITEPIX_MAX_JPEG_SCANS: envInteger(
    1,
    100_000,
    D.maxJpegScans,
    'most scans (progressive passes) a JPEG may have, counted from its markers before decoding; beyond, 413 `IMG_TOO_COMPLEX` (libjpeg writes 10 for a progressive colour JPEG, 24 for CMYK)',
  ),
  LITEPIX_ALLOW_SVG: envBoolean(
    D.allowSvg,
    'render SVG input (librsvg, nothing fetched); off, SVG is refused (415) from a byte sniff, unparsed. On, filters, entity declarations and SVGZ are refused and an SVG is rendered at most at the output size',
  ),
  LITEPIX_ALLOW_HEIC: envBoolean(
    D.allowHeic,
    'decode HEIC (HEVC) input with libheif + libde265 in WebAssembly; off, HEIC is refused (415) from its header, for deployments that cannot accept HEVC patent licensing (docs/origin.md#heic-input)',
  ),
  LITEPIX_HEIC_TIMEOUT_MS: envInteger(
    1,
    900_000,
    D.heicTimeoutMs,
    'longest one HEIC decode may take in its worker thread (about 45 ms of CPU per megapixel: 0.5 s for 12 MP); past it the worker is ended and the answer is 413 `IMG_TOO_COMPLEX`',
  ),
  LITEPIX_MAX_SVG_BYTES: envInteger(
    1,
    2 ** 31 - 1,
    D.maxSvgBytes,
    'largest SVG source when SVG is on; beyond, 413 `IMG_TOO_LARGE`',
    { shown: '1048576 (1 MiB)' },
  ),
  LITEPIX_MAX_SVG_ELEMENTS: envInteger(
    1,
    1_000_000,
    D.maxSvgElements,
    'most elements (start tags) of an SVG when SVG is on; beyond, 413 `IMG_TOO_COMPLEX`',
  ),
  LITEPIX_AVIF_MAX_PIXELS: envInteger(
    0,
    PIXELS,
    D.avifMaxPixels,
    'output pixels beyond which AVIF falls back to WebP',
  ),
  LITEPIX_REQUEST_TIMEOUT_MS: envInteger(
    1,
    900_000,
    DEFAULT_REQUEST_TIMEOUT_MS,
    "time budget of one variant: past it the answer is 503 `IMG_TIMEOUT` (`no-store`), S3 calls in flight are aborted and nothing is stored. A sharp encode already running finishes in the background and its result is dropped. Keep it under CloudFront's origin response timeout (30 s)",
  ),
  LITEPIX_QUALITY_DISTANCE: envDecimal(
    DMIN,
    DMAX,
    D.quality.auto.distance,
    '`q=auto` target: the largest perceptual distance from the resized pixels, in butteraugli 3-norm units (lower is stricter; 1.0 ≈ the edge of visibly different; docs/quality.md)',
    { shown: '1.0' },
  ),
  LITEPIX_QUALITY_LITE_DISTANCE: envDecimal(
    DMIN,
    DMAX,
    D.quality.lite.distance,
    '`qlite` (Save-Data) target distance',
  ),
  LITEPIX_QUALITY_MAX_ENCODES: envInteger(
    1,
    MAX_ENCODES,
    D.quality.maxEncodes,
    'encoder runs per variant (1 = the fixed safe default only)',
  ),
  LITEPIX_QUALITY_BUDGET_MS: envInteger(
    0,
    60_000,
    D.quality.budgetMs,
    'time after which the search starts no new encode and falls back',
  ),
} satisfies SettingsGroup;

/** How env settings are read: "" = unset, ConfigError messages. */
export const ENV_READ = { emptyIsUnset: true, error: (message: string) => new ConfigError(message) };

/** One integer variable (kept for callers of the hand-written parser it replaced). */
export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  return readSetting(name, envInteger(min, max, fallback, ''), env[name], ENV_READ);
}

/** One "true"/"false" variable (kept for callers of the hand-written parser it replaced). */
export function boolean(env: Env, name: string, fallback: boolean): boolean {
  return readSetting(name, envBoolean(fallback, ''), env[name], ENV_READ);
}

/** Reads `group` from the environment ("" = unset) with ConfigError messages. */
export function readEnvSettings<G extends SettingsGroup>(group: G, env: Env) {
  return readSettings(group, env, ENV_READ);
}

/**
 * Settings of earlier releases that are no longer read, with what replaced them: refused, so that
 * a deployment that still sets one is told rather than silently given the default.
 */
const RETIRED: Readonly<Record<string, string>> = {
  LITEPIX_QUALITY_TARGET:
    'set LITEPIX_QUALITY_DISTANCE instead (the q=auto metric is now a perceptual distance in butteraugli units: lower is stricter, default 1.0)',
  LITEPIX_QUALITY_LITE_TARGET:
    'set LITEPIX_QUALITY_LITE_DISTANCE instead (a perceptual distance in butteraugli units: lower is stricter, default 1.5)',
  LITEPIX_QUALITY_LARGE_BOOST:
    'it has no replacement: the perceptual distance needs no size correction, one distance holds at every output size',
};

function refuseRetired(env: Env): void {
  for (const [name, instead] of Object.entries(RETIRED)) {
    if (env[name] !== undefined && env[name] !== '') {
      throw new ConfigError(`${name} is no longer read: ${instead}`);
    }
  }
}

function grammarFrom(json: string | undefined, file: string | undefined): GrammarConfig {
  let raw: unknown = {};
  const where = json ? 'LITEPIX_GRAMMAR_JSON' : file;
  try {
    if (json) raw = JSON.parse(json);
    else if (file) raw = (JSON.parse(readFileSync(file, 'utf8')) as { grammar?: unknown }).grammar ?? {};
  } catch (cause) {
    throw new ConfigError(
      `Cannot read the grammar configuration from ${where}: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`Invalid grammar configuration in ${where}: expected a JSON object`);
  }
  // The grammar's own rules (resolve-config.ts, shared with the edge bundle) check the rest.
  return resolveGrammarConfig(raw as Partial<GrammarConfig>);
}

/** The transform limits and request budget of TRANSFORM_SETTINGS_SCHEMA, from the environment. */
function transformFrom(env: Env): { limits: TransformLimits; requestTimeoutMs: number } {
  refuseRetired(env);
  const s = readEnvSettings(TRANSFORM_SETTINGS_SCHEMA, env);
  const limits = validateLimits({
    ...D,
    maxSourceBytes: s.LITEPIX_MAX_SOURCE_BYTES,
    maxInputPixels: s.LITEPIX_MAX_INPUT_PIXELS,
    maxOutputDimension: s.LITEPIX_MAX_OUTPUT_DIMENSION,
    maxFrames: s.LITEPIX_MAX_FRAMES,
    maxJpegScans: s.LITEPIX_MAX_JPEG_SCANS,
    allowSvg: s.LITEPIX_ALLOW_SVG,
    allowHeic: s.LITEPIX_ALLOW_HEIC,
    heicTimeoutMs: s.LITEPIX_HEIC_TIMEOUT_MS,
    maxSvgBytes: s.LITEPIX_MAX_SVG_BYTES,
    maxSvgElements: s.LITEPIX_MAX_SVG_ELEMENTS,
    avifMaxPixels: s.LITEPIX_AVIF_MAX_PIXELS,
    quality: {
      auto: { ...D.quality.auto, distance: s.LITEPIX_QUALITY_DISTANCE },
      lite: { ...D.quality.lite, distance: s.LITEPIX_QUALITY_LITE_DISTANCE },
      maxEncodes: s.LITEPIX_QUALITY_MAX_ENCODES,
      budgetMs: s.LITEPIX_QUALITY_BUDGET_MS,
    },
  });
  return { limits, requestTimeoutMs: s.LITEPIX_REQUEST_TIMEOUT_MS };
}

export function readOriginConfig(env: Env = process.env): OriginConfig {
  const transform = transformFrom(env);
  const s = readEnvSettings(ORIGIN_SETTINGS, env);
  if (s.LITEPIX_ORIGINALS_BUCKET === s.LITEPIX_VARIANTS_BUCKET) {
    // One bucket for both would let a variant be requested as an original, and a variant
    // key could overwrite an original.
    throw new ConfigError(
      `Invalid LITEPIX_VARIANTS_BUCKET ${JSON.stringify(s.LITEPIX_VARIANTS_BUCKET)}: expected a bucket other than LITEPIX_ORIGINALS_BUCKET`,
    );
  }
  return {
    originalsBucket: s.LITEPIX_ORIGINALS_BUCKET,
    variantsBucket: s.LITEPIX_VARIANTS_BUCKET,
    region: s.AWS_REGION,
    endpoint: s.AWS_ENDPOINT_URL_S3,
    grammar: grammarFrom(s.LITEPIX_GRAMMAR_JSON, s.LITEPIX_CONFIG),
    ...transform,
    logLevel: s.LITEPIX_LOG_LEVEL,
  };
}
