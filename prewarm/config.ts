/**
 * Pre-warm configuration, parsed once (per cold start, or per CLI run) from the environment into
 * a typed object. The origin's variables (buckets, endpoint, grammar, limits, log level) are read
 * by the origin's own parser, so both always agree; the pre-warm ones are validated here with
 * messages naming the variable and what is allowed. docs/configuration.md: "Pre-warm environment".
 */
import os from 'node:os';
import type { GrammarConfig } from '../edge-fn/grammar/config.ts';
import type { OutputFormat } from '../edge-fn/grammar/types.ts';
import {
  boolean,
  ConfigError,
  type Env,
  integer,
  type OriginConfig,
  readOriginConfig,
} from '../origin-fn/config.ts';
import { parseAddressAllowList } from './address-policy.ts';
import type { IngestPolicy } from './ingest.ts';
import { compileSelector, type Selector } from './selectors.ts';

export type RewriteMode = 'preset' | 'map';

/**
 * Deepest nesting of objects and arrays a Data Unit may have (the unit itself is level 1);
 * deeper units fail alone with PREWARM_TOO_DEEP (`LITEPIX_PREWARM_MAX_DEPTH`, 1–1000: well below
 * the few thousand levels where JSON.stringify and structuredClone overflow the stack).
 */
export const DEFAULT_MAX_UNIT_DEPTH = 64;

export interface PrewarmConfig extends OriginConfig {
  /** CDN base of the rewritten URLs, e.g. `https://d111.cloudfront.net`, no trailing slash. */
  cdnBase: string;
  /** CloudFront distribution to invalidate (S3-event Lambda); undefined = no invalidation. */
  distributionId: string | undefined;
  presets: string[];
  formats: OutputFormat[];
  /** Preset whose URL replaces a reference in `preset` rewrite mode (and whose bytes the report shows). */
  rewritePreset: string;
  rewrite: RewriteMode;
  /** Transforms at the same time (CPU); storage requests run up to 4× as many. */
  concurrency: number;
  /** Attempts of one storage operation or transform on a transient fault (first included). */
  attempts: number;
  /** Data Units planned and scheduled together from a stream. */
  window: number;
  /** Fetch every variant through the CDN base too (status and content-type). */
  verifyCdn: boolean;
  /** Signing secret of rewritten URLs (the first of the edge's secrets); undefined = unsigned. */
  signingSecret: string | undefined;
  ingest: IngestPolicy;
  /** Where image references are (empty = auto-detection). */
  selectors: Selector[];
  /** Deepest nesting of a Data Unit (DEFAULT_MAX_UNIT_DEPTH). */
  maxUnitDepth: number;
  /** Bucket of the queue path's results (results.ts); undefined = job messages cannot be handled. */
  resultsBucket: string | undefined;
  /** Key prefix of the results in that bucket (default `results/`). */
  resultsPrefix: string;
  /** The work queue's maxReceiveCount: on that receive a failing job message writes its failures. */
  maxReceives: number;
}

const FORMAT_NAMES: OutputFormat[] = ['avif', 'webp', 'jpeg', 'png'];

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function parsePresets(
  raw: string | undefined,
  grammar: GrammarConfig,
  name = 'LITEPIX_PREWARM_PRESETS',
): string[] {
  const names = raw === undefined || raw.trim() === '' ? ['thumb', 'mobile', 'full'] : list(raw);
  const known = Object.keys(grammar.presets);
  for (const p of names) {
    if (!known.includes(p)) {
      throw new ConfigError(
        `Invalid ${name} ${JSON.stringify(raw ?? '')}: unknown preset ${JSON.stringify(p)}; the grammar defines ${known.join(', ')}`,
      );
    }
  }
  return [...new Set(names)];
}

/**
 * Formats to pre-warm. Default (`auto`): every format `f=auto` can resolve to: the grammar's
 * modern formats plus the legacy one (JPEG, or PNG for originals whose extension can carry
 * alpha; `legacy` below stands for that choice, made per original).
 */
export function parseFormats(
  raw: string | undefined,
  name = 'LITEPIX_PREWARM_FORMATS',
): OutputFormat[] | 'auto' {
  if (raw === undefined || raw.trim() === '' || raw.trim() === 'auto') return 'auto';
  const out: OutputFormat[] = [];
  for (const f of list(raw)) {
    const format = (f === 'jpg' ? 'jpeg' : f) as OutputFormat;
    if (!FORMAT_NAMES.includes(format))
      throw new ConfigError(
        `Invalid ${name} ${JSON.stringify(raw)}: unknown format ${JSON.stringify(f)}; expected auto or a list of ${FORMAT_NAMES.join(', ')}`,
      );
    if (!out.includes(format)) out.push(format);
  }
  return out;
}

export function checkCdnBase(raw: string, name = 'LITEPIX_CDN_BASE'): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(
      `Invalid ${name} ${JSON.stringify(raw)}: expected an http(s) URL such as https://d111.cloudfront.net`,
    );
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash)
    throw new ConfigError(
      `Invalid ${name} ${JSON.stringify(raw)}: expected an http(s) URL without query or fragment`,
    );
  return url.href.replace(/\/+$/, '');
}

function secretFrom(env: Env): string | undefined {
  const raw = env.LITEPIX_SIGNING_SECRET;
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < 16)
    throw new ConfigError('Invalid LITEPIX_SIGNING_SECRET: expected at least 16 characters');
  return raw;
}

function bucketName(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(raw))
    throw new ConfigError(
      `Invalid ${name} ${JSON.stringify(raw)}: expected an S3 bucket name (3–63 characters: a–z, 0–9, "." and "-")`,
    );
  return raw;
}

function resultsPrefix(raw: string | undefined): string {
  if (raw === undefined || raw === '') return 'results/';
  if (!/^[A-Za-z0-9!_.*'()/-]{1,200}\/$/.test(raw) || raw.startsWith('/') || raw.includes('//'))
    throw new ConfigError(
      `Invalid LITEPIX_RESULTS_PREFIX ${JSON.stringify(raw)}: expected a key prefix ending in "/" (letters, digits, ! _ . * ' ( ) - /), such as results/`,
    );
  return raw;
}

export function readPrewarmConfig(env: Env = process.env): PrewarmConfig {
  const origin = readOriginConfig(env);
  const presets = parsePresets(env.LITEPIX_PREWARM_PRESETS, origin.grammar);
  const formats = parseFormats(env.LITEPIX_PREWARM_FORMATS);
  const rewritePreset =
    env.LITEPIX_PREWARM_REWRITE_PRESET || (presets.includes('mobile') ? 'mobile' : (presets[0] as string));
  if (!presets.includes(rewritePreset))
    throw new ConfigError(
      `Invalid LITEPIX_PREWARM_REWRITE_PRESET ${JSON.stringify(rewritePreset)}: expected one of the pre-warmed presets ${presets.join(', ')}`,
    );
  const rewrite = env.LITEPIX_PREWARM_REWRITE || 'preset';
  if (rewrite !== 'preset' && rewrite !== 'map')
    throw new ConfigError(
      `Invalid LITEPIX_PREWARM_REWRITE ${JSON.stringify(rewrite)}: expected preset or map`,
    );
  const distributionId = env.LITEPIX_DISTRIBUTION_ID || undefined;
  if (distributionId !== undefined && !/^[A-Z0-9]{1,64}$/.test(distributionId))
    throw new ConfigError(
      `Invalid LITEPIX_DISTRIBUTION_ID ${JSON.stringify(distributionId)}: expected a CloudFront distribution id (A–Z, 0–9)`,
    );
  const ingestHosts = list(env.LITEPIX_INGEST_HOSTS);
  let selectors: Selector[];
  try {
    selectors = list(env.LITEPIX_PREWARM_SELECTORS).map(compileSelector);
  } catch (err) {
    throw new ConfigError(`Invalid LITEPIX_PREWARM_SELECTORS: ${(err as Error).message}`);
  }
  return {
    ...origin,
    cdnBase: checkCdnBase(env.LITEPIX_CDN_BASE || 'http://127.0.0.1:8080'),
    distributionId,
    presets,
    formats: formats === 'auto' ? [] : formats,
    rewritePreset,
    rewrite,
    concurrency: integer(env, 'LITEPIX_PREWARM_CONCURRENCY', defaultConcurrency(), 1, 64),
    attempts: integer(env, 'LITEPIX_PREWARM_ATTEMPTS', 4, 1, 10),
    window: integer(env, 'LITEPIX_PREWARM_WINDOW', 50, 1, 10_000),
    verifyCdn: boolean(env, 'LITEPIX_PREWARM_VERIFY_CDN', false),
    signingSecret: secretFrom(env),
    selectors,
    maxUnitDepth: integer(env, 'LITEPIX_PREWARM_MAX_DEPTH', DEFAULT_MAX_UNIT_DEPTH, 1, 1000),
    resultsBucket: bucketName(env, 'LITEPIX_RESULTS_BUCKET'),
    resultsPrefix: resultsPrefix(env.LITEPIX_RESULTS_PREFIX),
    maxReceives: integer(env, 'LITEPIX_PREWARM_MAX_RECEIVES', 3, 1, 1000),
    ingest: {
      hosts: ingestHosts,
      allowAddresses: parseAddressAllowList(
        env.LITEPIX_INGEST_ALLOW_ADDRESSES,
        'LITEPIX_INGEST_ALLOW_ADDRESSES',
      ),
      maxBytes: integer(env, 'LITEPIX_INGEST_MAX_BYTES', 20 * 1024 * 1024, 1, 2 ** 31 - 1),
      timeoutMs: integer(env, 'LITEPIX_INGEST_TIMEOUT_MS', 10_000, 1, 600_000),
      maxRedirects: integer(env, 'LITEPIX_INGEST_MAX_REDIRECTS', 3, 0, 10),
    },
  };
}

export function defaultConcurrency(): number {
  return Math.max(1, Math.min(8, os.availableParallelism()));
}
