/**
 * Origin configuration, parsed once per cold start from the environment into a typed object.
 * Every variable is validated here with a message naming it and its allowed values; nothing
 * deeper in the code reads process.env. docs/configuration.md lists them all.
 */
import { readFileSync } from 'node:fs';
import type { GrammarConfig } from '../edge-fn/grammar/config.ts';
import { resolveGrammarConfig } from '../edge-fn/grammar/resolve-config.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './origin-handler.ts';
import { isBucketName } from './s3-store.ts';
import {
  DEFAULT_LIMITS,
  DISTANCE_RANGE,
  MAX_ENCODES,
  type QualitySettings,
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

export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(Number.isSafeInteger(n) && n >= min && n <= max)) {
    throw new ConfigError(
      `Invalid ${name} ${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`,
    );
  }
  return n;
}

function decimal(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = /^[0-9]+(\.[0-9]+)?$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= min && n <= max)) {
    throw new ConfigError(`Invalid ${name} ${JSON.stringify(raw)}: expected a number from ${min} to ${max}`);
  }
  return n;
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

function qualityFrom(env: Env): QualitySettings {
  refuseRetired(env);
  const defaults = DEFAULT_LIMITS.quality;
  const { min, max } = DISTANCE_RANGE;
  return {
    auto: {
      ...defaults.auto,
      distance: decimal(env, 'LITEPIX_QUALITY_DISTANCE', defaults.auto.distance, min, max),
    },
    lite: {
      ...defaults.lite,
      distance: decimal(env, 'LITEPIX_QUALITY_LITE_DISTANCE', defaults.lite.distance, min, max),
    },
    maxEncodes: integer(env, 'LITEPIX_QUALITY_MAX_ENCODES', defaults.maxEncodes, 1, MAX_ENCODES),
    budgetMs: integer(env, 'LITEPIX_QUALITY_BUDGET_MS', defaults.budgetMs, 0, 60_000),
  };
}

export function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ConfigError(`Invalid ${name} ${JSON.stringify(raw)}: expected "true" or "false"`);
}

function oneOf(env: Env, name: string, fallback: string, allowed: string[]): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!allowed.includes(raw)) {
    throw new ConfigError(`Invalid ${name} ${JSON.stringify(raw)}: expected one of ${allowed.join(', ')}`);
  }
  return raw;
}

function grammarFrom(env: Env): GrammarConfig {
  let raw: unknown = {};
  const where = env.LITEPIX_GRAMMAR_JSON ? 'LITEPIX_GRAMMAR_JSON' : env.LITEPIX_CONFIG;
  try {
    if (env.LITEPIX_GRAMMAR_JSON) raw = JSON.parse(env.LITEPIX_GRAMMAR_JSON);
    else if (env.LITEPIX_CONFIG)
      raw = (JSON.parse(readFileSync(env.LITEPIX_CONFIG, 'utf8')) as { grammar?: unknown }).grammar ?? {};
  } catch (cause) {
    throw new ConfigError(
      `Cannot read the grammar configuration from ${where}: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`Invalid grammar configuration in ${where}: expected a JSON object`);
  }
  return resolveGrammarConfig(raw as Partial<GrammarConfig>);
}

export function readOriginConfig(env: Env = process.env): OriginConfig {
  const limits = validateLimits({
    ...DEFAULT_LIMITS,
    maxSourceBytes: integer(env, 'LITEPIX_MAX_SOURCE_BYTES', DEFAULT_LIMITS.maxSourceBytes, 1, 2 ** 31 - 1),
    maxInputPixels: integer(env, 'LITEPIX_MAX_INPUT_PIXELS', DEFAULT_LIMITS.maxInputPixels, 1, 268_402_689),
    maxOutputDimension: integer(
      env,
      'LITEPIX_MAX_OUTPUT_DIMENSION',
      DEFAULT_LIMITS.maxOutputDimension,
      1,
      16383,
    ),
    maxFrames: integer(env, 'LITEPIX_MAX_FRAMES', DEFAULT_LIMITS.maxFrames, 1, 100_000),
    maxJpegScans: integer(env, 'LITEPIX_MAX_JPEG_SCANS', DEFAULT_LIMITS.maxJpegScans, 1, 100_000),
    allowSvg: boolean(env, 'LITEPIX_ALLOW_SVG', DEFAULT_LIMITS.allowSvg),
    maxSvgBytes: integer(env, 'LITEPIX_MAX_SVG_BYTES', DEFAULT_LIMITS.maxSvgBytes, 1, 2 ** 31 - 1),
    maxSvgElements: integer(env, 'LITEPIX_MAX_SVG_ELEMENTS', DEFAULT_LIMITS.maxSvgElements, 1, 1_000_000),
    avifMaxPixels: integer(env, 'LITEPIX_AVIF_MAX_PIXELS', DEFAULT_LIMITS.avifMaxPixels, 0, 268_402_689),
    quality: qualityFrom(env),
  });
  const originalsBucket = env.LITEPIX_ORIGINALS_BUCKET || 'litepix-originals';
  const variantsBucket = env.LITEPIX_VARIANTS_BUCKET || 'litepix-variants';
  for (const [name, value] of [
    ['LITEPIX_ORIGINALS_BUCKET', originalsBucket],
    ['LITEPIX_VARIANTS_BUCKET', variantsBucket],
  ] as const) {
    if (!isBucketName(value))
      throw new ConfigError(`Invalid ${name} ${JSON.stringify(value)}: expected an S3 bucket name`);
  }
  if (originalsBucket === variantsBucket) {
    // One bucket for both would let a variant be requested as an original, and a variant
    // key could overwrite an original.
    throw new ConfigError(
      `Invalid LITEPIX_VARIANTS_BUCKET ${JSON.stringify(variantsBucket)}: expected a bucket other than LITEPIX_ORIGINALS_BUCKET`,
    );
  }
  const endpoint = env.AWS_ENDPOINT_URL_S3 || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint)) {
    throw new ConfigError(`Invalid AWS_ENDPOINT_URL_S3 ${JSON.stringify(endpoint)}: expected an http(s) URL`);
  }
  return {
    originalsBucket,
    variantsBucket,
    region: env.AWS_REGION || 'us-east-1',
    endpoint,
    grammar: grammarFrom(env),
    limits,
    requestTimeoutMs: integer(env, 'LITEPIX_REQUEST_TIMEOUT_MS', DEFAULT_REQUEST_TIMEOUT_MS, 1, 900_000),
    logLevel: oneOf(env, 'LITEPIX_LOG_LEVEL', 'info', ['debug', 'info', 'warn', 'error', 'silent']),
  };
}
