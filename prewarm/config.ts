/**
 * Pre-warm configuration, parsed once (per cold start, or per CLI run) from the environment into
 * a typed object. The origin's variables (buckets, endpoint, grammar, limits, log level) are read
 * by the origin's own parser, so both always agree; the pre-warm ones are the settings of
 * PREWARM_ENV_SETTINGS below (valibot, via settings-schema.ts): ranges, defaults and
 * descriptions live there, docs/configuration.md is generated from them.
 */
import os from 'node:os';
import * as v from 'valibot';
import type { GrammarConfig } from '../edge-fn/grammar/config.ts';
import type { OutputFormat } from '../edge-fn/grammar/types.ts';
import { parseDuration } from '../edge-fn/sign-url.ts';
import {
  bucketSetting,
  ConfigError,
  ENV_READ,
  type Env,
  type OriginConfig,
  readEnvSettings,
  readOriginConfig,
} from '../origin-fn/config.ts';
import {
  commaList,
  envBoolean,
  envChoice,
  envDuration,
  envInteger,
  envText,
  readSetting,
  type SettingsGroup,
  setting,
} from '../origin-fn/settings-schema.ts';
import { type Cidr, notAnAddress, parseCidr } from './address-policy.ts';
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
  /** References become their facts (URLs, sizes, bytes, placeholder); placeholders are stored. */
  facts: boolean;
  /** Rewritten URLs expire this many seconds after their unit is written (`exp=`); undefined = never. */
  expiresSeconds: number | undefined;
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
export const DEFAULT_PRESETS = ['thumb', 'mobile', 'full'];

export function defaultConcurrency(): number {
  return Math.max(1, Math.min(8, os.availableParallelism()));
}

/** A comma-separated list setting; each item must pass `parse` (undefined = refused). */
function listOf<T>(parse: (item: string) => T | undefined, refused: (item: string) => string) {
  return v.pipe(
    v.string(),
    v.transform(commaList),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const out: T[] = [];
      for (const item of dataset.value) {
        const parsed = parse(item);
        if (parsed === undefined) {
          addIssue({ message: refused(item) });
          return NEVER;
        }
        out.push(parsed);
      }
      return out;
    }),
  );
}

function formatOf(item: string): OutputFormat | undefined {
  const format = (item === 'jpg' ? 'jpeg' : item) as OutputFormat;
  return FORMAT_NAMES.includes(format) ? format : undefined;
}

function selectorOf(item: string): Selector | undefined {
  try {
    return compileSelector(item);
  } catch {
    return undefined;
  }
}

function cdnBaseSchema() {
  const url = (s: string) => URL.parse(s);
  return v.pipe(
    v.string(),
    v.check((s) => url(s) !== null, 'expected an http(s) URL such as https://d111.cloudfront.net'),
    v.check((s) => {
      const u = url(s) as URL;
      return (u.protocol === 'https:' || u.protocol === 'http:') && !u.search && !u.hash;
    }, 'expected an http(s) URL without query or fragment'),
    v.transform((s) => (url(s) as URL).href.replace(/\/+$/, '')),
  );
}

/** Every pre-warm variable; the stack sets some itself (STACK_MANAGED, infra/lib/config.ts), the rest are its prewarmSettings. */
export const PREWARM_ENV_SETTINGS = {
  LITEPIX_CDN_BASE: setting(cdnBaseSchema(), 'http://127.0.0.1:8080', {
    description:
      "base of rewritten URLs and of `--verify-cdn`; on AWS the stack's `CdnBaseUrl` (the Lambdas get it from the stack; `prewarm --aws` and `worker --aws` refuse to run without it rather than rewrite to 127.0.0.1)",
    allowed: 'an http(s) URL without query or fragment',
    shown: "the local stack's (`--aws`: required)",
    flag: '--cdn',
  }),
  LITEPIX_DISTRIBUTION_ID: envText(
    /^[A-Z0-9]{1,64}$/,
    undefined,
    'CloudFront distribution the S3-event Lambda invalidates',
    { allowed: 'a CloudFront distribution id (A–Z, 0–9)', shown: 'none (no invalidation)' },
  ),
  LITEPIX_PREWARM_PRESETS: setting(
    v.pipe(
      v.string(),
      v.transform((s) => [...new Set(commaList(s))]),
    ),
    undefined,
    {
      description: 'presets to pre-warm (names from the grammar config)',
      allowed: 'comma-separated preset names of the grammar',
      shown: DEFAULT_PRESETS.join(','),
      flag: '--presets',
    },
  ),
  LITEPIX_PREWARM_FORMATS: setting(
    // [] = auto.
    v.pipe(
      v.string(),
      v.transform((s) => (s.trim() === 'auto' ? '' : s)),
      listOf(formatOf, unknownFormat),
      v.transform((formats) => [...new Set(formats)]),
    ),
    [],
    {
      shown: 'auto',
      description:
        '`auto` = what `f=auto` can give (modern formats + the legacy one), or a list of `avif webp jpeg png`',
      allowed: `auto, or a list of ${FORMAT_NAMES.join(', ')}`,
      flag: '--formats',
    },
  ),
  LITEPIX_PREWARM_REWRITE: envChoice(
    ['preset', 'map'],
    'preset',
    '`preset`: one URL per reference; `map`: preset → URL',
    {
      allowed: 'preset or map',
      flag: '--rewrite',
    },
  ),
  LITEPIX_PREWARM_REWRITE_PRESET: setting(v.string(), undefined, {
    description: 'preset of the rewritten URL and of "bytes after"',
    allowed: 'one of the pre-warmed presets',
    shown: '`mobile` (else the first preset)',
    flag: '--rewrite-preset',
  }),
  LITEPIX_PREWARM_FACTS: envBoolean(
    false,
    "each reference becomes its facts: URLs, width × height and bytes per preset and format, and a ThumbHash placeholder (stored at the original's `placeholder.json` key)",
    { flag: '--facts' },
  ),
  LITEPIX_PREWARM_EXPIRES: envDuration(
    parseDuration,
    'rewritten URLs expire this long after their unit is pre-warmed: `exp=` (signed when a secret is configured)',
    { shown: 'none (links do not expire)', flag: '--expires' },
  ),
  LITEPIX_PREWARM_SELECTORS: setting(
    listOf(selectorOf, (item) => {
      try {
        compileSelector(item);
      } catch (err) {
        return (err as Error).message;
      }
      return `Invalid selector ${JSON.stringify(item)}`;
    }),
    [],
    {
      description: 'comma-separated JSON pointers or paths',
      allowed: 'JSON pointers ("/cover/url") or paths ("images[*].url")',
      shown: 'none: auto-detection',
      flag: '--selector (repeatable)',
      hideValue: true,
    },
  ),
  LITEPIX_PREWARM_CONCURRENCY: envInteger(
    1,
    64,
    defaultConcurrency(),
    'transforms at once (storage calls: 4×; originals in memory: 2×)',
    { shown: 'cores, at most 8', flag: '--concurrency' },
  ),
  LITEPIX_PREWARM_WINDOW: envInteger(1, 10_000, 50, 'units planned together from a stream', {
    flag: '--window',
  }),
  LITEPIX_PREWARM_ATTEMPTS: envInteger(
    1,
    10,
    4,
    'attempts per storage call or transform on transient faults',
  ),
  LITEPIX_PREWARM_VERIFY_CDN: envBoolean(false, 'also fetch each variant through the CDN', {
    flag: '--verify-cdn',
  }),
  LITEPIX_PREWARM_MAX_DEPTH: envInteger(
    1,
    1000,
    DEFAULT_MAX_UNIT_DEPTH,
    'deepest nesting of objects/arrays in a unit; deeper units fail with `PREWARM_TOO_DEEP`',
  ),
  LITEPIX_RESULTS_BUCKET: bucketSetting(
    undefined,
    "bucket of the queue path's results (`<prefix><job>/<first>-<last>.ndjson`, `job.json`); job messages need it (without it they fail); on AWS the stack's `ResultsBucketName`",
  ),
  LITEPIX_RESULTS_PREFIX: setting(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9!_.*'()/-]{1,200}\/$/),
      v.check((s) => !s.startsWith('/') && !s.includes('//')),
    ),
    'results/',
    {
      description:
        'key prefix of the results in that bucket; the stack sets `results/`, the only prefix its worker may write',
      allowed: `a key prefix ending in "/" (letters, digits, ! _ . * ' ( ) - /), such as results/`,
    },
  ),
  LITEPIX_PREWARM_MAX_RECEIVES: envInteger(
    1,
    1000,
    3,
    "the work queue's `maxReceiveCount`, and must equal it: on that receive a failing job message writes its failures before SQS dead-letters it; the stack sets `prewarmMaxReceiveCount`",
  ),
  LITEPIX_SIGNING_SECRET: setting(v.pipe(v.string(), v.minLength(16)), undefined, {
    description: 'secret signing rewritten URLs',
    allowed: 'at least 16 characters',
    shown: 'none (or `LITEPIX_CONFIG` secrets for the CLI)',
    hideValue: true,
  }),
  LITEPIX_INGEST_HOSTS: setting(v.pipe(v.string(), v.transform(commaList)), [], {
    description: 'hosts external images may be fetched from (`*.example.com` allowed)',
    allowed: 'comma-separated host names',
    shown: 'none: ingest off',
    flag: '--ingest-host',
  }),
  LITEPIX_INGEST_ALLOW_ADDRESSES: setting(listOf<Cidr>(parseCidr, notAnAddress), [], {
    description: 'non-public IPs/CIDRs ingest may connect to anyway',
    allowed: 'comma-separated IP addresses or CIDRs',
    shown: 'none',
    flag: '--allow-address',
  }),
  LITEPIX_INGEST_MAX_BYTES: envInteger(1, 2 ** 31 - 1, 20 * 1024 * 1024, 'largest download', {
    shown: '20971520 (20 MiB)',
  }),
  LITEPIX_INGEST_TIMEOUT_MS: envInteger(1, 600_000, 10_000, 'deadline of one download, redirects included'),
  LITEPIX_INGEST_MAX_REDIRECTS: envInteger(0, 10, 3, 'redirects followed (each one re-checked)'),
} satisfies SettingsGroup;

function unknownFormat(item: string): string {
  return `unknown format ${JSON.stringify(item)}; expected auto or a list of ${FORMAT_NAMES.join(', ')}`;
}

export function parsePresets(
  raw: string | undefined,
  grammar: GrammarConfig,
  name = 'LITEPIX_PREWARM_PRESETS',
): string[] {
  const given = readSetting(name, PREWARM_ENV_SETTINGS.LITEPIX_PREWARM_PRESETS, raw, ENV_READ);
  return grammarPresets(given, raw, grammar, name);
}

/** The presets given (the defaults when none), each one the grammar defines. */
function grammarPresets(
  given: string[] | undefined,
  raw: string | undefined,
  grammar: GrammarConfig,
  name: string,
): string[] {
  const names = given === undefined || given.length === 0 ? DEFAULT_PRESETS : given;
  const known = Object.keys(grammar.presets);
  const unknown = names.find((p) => !known.includes(p));
  if (unknown !== undefined) {
    throw new ConfigError(
      `Invalid ${name} ${JSON.stringify(raw ?? '')}: unknown preset ${JSON.stringify(unknown)}; the grammar defines ${known.join(', ')}`,
    );
  }
  return names;
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
  const formats = readSetting(name, PREWARM_ENV_SETTINGS.LITEPIX_PREWARM_FORMATS, raw, ENV_READ);
  return formats.length === 0 ? 'auto' : formats;
}

export function checkCdnBase(raw: string, name = 'LITEPIX_CDN_BASE'): string {
  return readSetting(name, PREWARM_ENV_SETTINGS.LITEPIX_CDN_BASE, raw, ENV_READ);
}

export function readPrewarmConfig(env: Env = process.env): PrewarmConfig {
  const origin = readOriginConfig(env);
  const s = readEnvSettings(PREWARM_ENV_SETTINGS, env);
  const presets = grammarPresets(
    s.LITEPIX_PREWARM_PRESETS,
    env.LITEPIX_PREWARM_PRESETS,
    origin.grammar,
    'LITEPIX_PREWARM_PRESETS',
  );
  const rewritePreset =
    s.LITEPIX_PREWARM_REWRITE_PRESET ?? (presets.includes('mobile') ? 'mobile' : (presets[0] as string));
  if (!presets.includes(rewritePreset))
    throw new ConfigError(
      `Invalid LITEPIX_PREWARM_REWRITE_PRESET ${JSON.stringify(rewritePreset)}: expected one of the pre-warmed presets ${presets.join(', ')}`,
    );
  return {
    ...origin,
    cdnBase: s.LITEPIX_CDN_BASE,
    distributionId: s.LITEPIX_DISTRIBUTION_ID,
    presets,
    formats: s.LITEPIX_PREWARM_FORMATS,
    rewritePreset,
    rewrite: s.LITEPIX_PREWARM_REWRITE,
    facts: s.LITEPIX_PREWARM_FACTS,
    expiresSeconds: s.LITEPIX_PREWARM_EXPIRES,
    concurrency: s.LITEPIX_PREWARM_CONCURRENCY,
    attempts: s.LITEPIX_PREWARM_ATTEMPTS,
    window: s.LITEPIX_PREWARM_WINDOW,
    verifyCdn: s.LITEPIX_PREWARM_VERIFY_CDN,
    signingSecret: s.LITEPIX_SIGNING_SECRET,
    selectors: s.LITEPIX_PREWARM_SELECTORS,
    maxUnitDepth: s.LITEPIX_PREWARM_MAX_DEPTH,
    resultsBucket: s.LITEPIX_RESULTS_BUCKET,
    resultsPrefix: s.LITEPIX_RESULTS_PREFIX,
    maxReceives: s.LITEPIX_PREWARM_MAX_RECEIVES,
    ingest: {
      hosts: s.LITEPIX_INGEST_HOSTS,
      allowAddresses: s.LITEPIX_INGEST_ALLOW_ADDRESSES,
      maxBytes: s.LITEPIX_INGEST_MAX_BYTES,
      timeoutMs: s.LITEPIX_INGEST_TIMEOUT_MS,
      maxRedirects: s.LITEPIX_INGEST_MAX_REDIRECTS,
    },
  };
}
