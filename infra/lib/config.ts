/**
 * The stack's configuration: one typed object with defaults (infra/README.md "Settings" holds
 * the table). The CDK app reads it from the `litepix` context key (cdk.json or `-c litepix=…`);
 * parseStackConfig validates every field with a message naming it and what is allowed.
 */

import { PRESET_NAME } from '../../edge-fn/grammar/resolve-config.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../origin-fn/origin-handler.ts';

export type PriceClassName = 'PriceClass_100' | 'PriceClass_200' | 'PriceClass_All';
export type Architecture = 'arm64' | 'x86_64';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface StackConfig {
  /** Use this existing bucket for the originals instead of creating one. */
  originalsBucketName: string | undefined;
  /** Days after which a stored variant expires (it is made again on the next miss). */
  variantsExpirationDays: number;
  /** Days after which a queue job's results (and its job.json) expire from the results bucket. */
  resultsRetentionDays: number;
  /** CloudFront price class. */
  priceClass: PriceClassName;
  /** Custom domain names (CNAMEs); need certificateArn. */
  domainNames: string[];
  /** ACM certificate in us-east-1 covering domainNames. */
  certificateArn: string | undefined;
  /** Origin Shield region (e.g. "eu-central-1"); undefined = off. */
  originShieldRegion: string | undefined;
  /** CloudFront standard logs into a log bucket the stack creates. */
  accessLogs: boolean;
  /** Origins allowed by CORS (`["*"]` = any); empty = no CORS headers. */
  corsAllowOrigins: string[];
  /** Signed URLs: the viewer function reads the secrets from a CloudFront KeyValueStore. */
  signing: boolean;
  /** Seconds CloudFront keeps a 4xx error answer (400, 403, 404, 405, 414, 416). 5xx: never. */
  errorCachingSeconds: number;
  /** CPU of both Lambdas. */
  architecture: Architecture;
  originMemoryMb: number;
  originTimeoutSeconds: number;
  /** Reserved concurrency of the origin Lambda; undefined = unreserved. */
  originReservedConcurrency: number | undefined;
  prewarmMemoryMb: number;
  /** Timeout of the pre-warm Lambdas; the queue's visibility timeout is six times it. */
  prewarmTimeoutSeconds: number;
  /** SQS messages per pre-warm invocation. */
  prewarmBatchSize: number;
  /** Seconds SQS may wait to fill a batch. */
  prewarmBatchWindowSeconds: number;
  /** Receives before a pre-warm message moves to the dead-letter queue. */
  prewarmMaxReceiveCount: number;
  /** Presets made on upload (and by pre-warm when a Data Unit names none). */
  prewarmPresets: string[];
  /** S3 ObjectCreated/ObjectRemoved on the originals bucket → pre-warm / clean-up. */
  uploadNotifications: boolean;
  logLevel: LogLevel;
  logRetentionDays: number;
  /** Origin 5xx rate (percent of Function URL requests, over 5 minutes) that raises the alarm. */
  alarmOrigin5xxPercent: number;
  /** E-mail addresses told when an alarm fires and clears (an SNS topic the stack creates). */
  alarmEmails: string[];
  /** An existing SNS topic (same region as the stack) told when an alarm fires and clears. */
  alarmTopicArn: string | undefined;
  /** A LITEPIX_CONFIG-style JSON file (its `grammar`) shared by the edge and the Lambdas. */
  configFile: string | undefined;
  /**
   * Transform settings (limits, `q=auto` targets and bounds, the request budget) given to the
   * origin and the pre-warm Lambdas alike: a pre-warmed variant must be the one the origin makes.
   */
  transformSettings: Record<string, string>;
  /** Pre-warm-only settings (formats, rewrite, selectors, concurrency, ingest). */
  prewarmSettings: Record<string, string>;
}

/** Variables `transformSettings` may set (docs/configuration.md, "Grammar config and origin environment"). */
export const TRANSFORM_SETTINGS = [
  'LITEPIX_MAX_SOURCE_BYTES',
  'LITEPIX_MAX_INPUT_PIXELS',
  'LITEPIX_MAX_OUTPUT_DIMENSION',
  'LITEPIX_MAX_FRAMES',
  'LITEPIX_MAX_JPEG_SCANS',
  'LITEPIX_ALLOW_SVG',
  'LITEPIX_MAX_SVG_BYTES',
  'LITEPIX_MAX_SVG_ELEMENTS',
  'LITEPIX_AVIF_MAX_PIXELS',
  'LITEPIX_REQUEST_TIMEOUT_MS',
  'LITEPIX_QUALITY_DISTANCE',
  'LITEPIX_QUALITY_LITE_DISTANCE',
  'LITEPIX_QUALITY_MAX_ENCODES',
  'LITEPIX_QUALITY_BUDGET_MS',
] as const;

/** Variables `prewarmSettings` may set (docs/configuration.md, "Pre-warm environment"). */
export const PREWARM_SETTINGS = [
  'LITEPIX_PREWARM_FORMATS',
  'LITEPIX_PREWARM_REWRITE',
  'LITEPIX_PREWARM_REWRITE_PRESET',
  'LITEPIX_PREWARM_SELECTORS',
  'LITEPIX_PREWARM_CONCURRENCY',
  'LITEPIX_PREWARM_WINDOW',
  'LITEPIX_PREWARM_ATTEMPTS',
  'LITEPIX_PREWARM_VERIFY_CDN',
  'LITEPIX_INGEST_HOSTS',
  'LITEPIX_INGEST_ALLOW_ADDRESSES',
  'LITEPIX_INGEST_MAX_BYTES',
  'LITEPIX_INGEST_TIMEOUT_MS',
  'LITEPIX_INGEST_MAX_REDIRECTS',
] as const;

/** Variables the stack sets itself, and the setting that controls each. */
const STACK_MANAGED: Record<string, string> = {
  LITEPIX_ORIGINALS_BUCKET: 'litepix.originalsBucketName',
  LITEPIX_VARIANTS_BUCKET: 'the stack (it creates the variants bucket)',
  LITEPIX_GRAMMAR_JSON: 'litepix.configFile',
  LITEPIX_CONFIG: 'litepix.configFile',
  LITEPIX_CDN_BASE: 'the stack (the distribution, or litepix.domainNames)',
  LITEPIX_DISTRIBUTION_ID: 'the stack',
  LITEPIX_PREWARM_PRESETS: 'litepix.prewarmPresets',
  LITEPIX_RESULTS_BUCKET: 'the stack (it creates the results bucket)',
  LITEPIX_RESULTS_PREFIX: 'the stack (its worker may write under results/ only)',
  LITEPIX_PREWARM_MAX_RECEIVES: 'litepix.prewarmMaxReceiveCount',
  LITEPIX_LOG_LEVEL: 'litepix.logLevel',
  LITEPIX_SIGNING_SECRET: 'litepix.signing (secrets live in the KeyValueStore, never in the environment)',
};

/** The origin's time budget when transformSettings does not set one: its default, inside the Lambda's timeout. */
export function requestTimeoutMs(config: StackConfig): number {
  const given = config.transformSettings.LITEPIX_REQUEST_TIMEOUT_MS;
  return given !== undefined
    ? Number(given)
    : Math.min(DEFAULT_REQUEST_TIMEOUT_MS, (config.originTimeoutSeconds - 1) * 1000);
}

export const DEFAULT_STACK_CONFIG: StackConfig = {
  originalsBucketName: undefined,
  variantsExpirationDays: 90,
  resultsRetentionDays: 30,
  priceClass: 'PriceClass_100',
  domainNames: [],
  certificateArn: undefined,
  originShieldRegion: undefined,
  accessLogs: false,
  corsAllowOrigins: [],
  signing: false,
  errorCachingSeconds: 10,
  architecture: 'arm64',
  originMemoryMb: 2048,
  originTimeoutSeconds: 30,
  originReservedConcurrency: undefined,
  prewarmMemoryMb: 2048,
  // One batch must finish inside one timeout: a timed-out invocation returns all its messages
  // (each receive counts towards prewarmMaxReceiveCount). A job message holds up to 10 Data
  // Units (the producer's default packing); a unit of 4 camera photos at the default presets
  // (thumb, mobile, full) and formats costs about 23 vCPU-s (measured: thumb 0.8, mobile 3.9,
  // full 15.2 CPU-s of transforms per 4 photos, × 1.17 pipeline overhead); 2048 MB gives ~1.2
  // vCPU. So one message per invocation ≈ 10 × 23 / 1.2 ≈ 195 s, and 600 s leaves 3× for
  // slow originals, retries and a cold start (5 messages would need ~970 s, over Lambda's 900).
  prewarmTimeoutSeconds: 600,
  prewarmBatchSize: 1,
  prewarmBatchWindowSeconds: 5,
  prewarmMaxReceiveCount: 3,
  prewarmPresets: ['thumb', 'mobile', 'full'],
  uploadNotifications: true,
  logLevel: 'info',
  logRetentionDays: 30,
  alarmOrigin5xxPercent: 1,
  alarmEmails: [],
  alarmTopicArn: undefined,
  configFile: undefined,
  transformSettings: {},
  prewarmSettings: {},
};

export class StackConfigError extends Error {
  override name = 'StackConfigError';
}

type Raw = Record<string, unknown>;

function fail(name: string, value: unknown, expected: string): never {
  throw new StackConfigError(`Invalid litepix.${name} ${JSON.stringify(value)}: expected ${expected}`);
}

function integer(raw: Raw, name: keyof StackConfig, fallback: number, min: number, max: number): number {
  const v = raw[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(name, v, `an integer from ${min} to ${max}`);
  }
  return v;
}

function optionalInteger(raw: Raw, name: keyof StackConfig, min: number, max: number): number | undefined {
  return raw[name] === undefined ? undefined : integer(raw, name, 0, min, max);
}

function bool(raw: Raw, name: keyof StackConfig, fallback: boolean): boolean {
  const v = raw[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') fail(name, v, 'true or false (a JSON boolean, not a string)');
  return v;
}

function oneOf<T extends string>(raw: Raw, name: keyof StackConfig, fallback: T, allowed: readonly T[]): T {
  const v = raw[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    fail(name, v, `one of ${allowed.join(', ')}`);
  }
  return v as T;
}

function text(raw: Raw, name: keyof StackConfig, pattern: RegExp, expected: string): string | undefined {
  const v = raw[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !pattern.test(v)) fail(name, v, expected);
  return v;
}

function list(
  raw: Raw,
  name: keyof StackConfig,
  fallback: string[],
  pattern: RegExp,
  expected: string,
): string[] {
  const v = raw[name];
  if (v === undefined) return fallback;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || !pattern.test(s))) {
    fail(name, v, `an array of ${expected}`);
  }
  return v as string[];
}

const BUCKET = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const DOMAIN = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const CERT_ARN = /^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/;
const ORIGIN = /^(\*|https?:\/\/[^\s/]+)$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const SNS_ARN = /^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const KNOWN = new Set(Object.keys(DEFAULT_STACK_CONFIG));

/** Validates the `litepix` context value (undefined = all defaults) into a StackConfig. */
export function parseStackConfig(value: unknown): StackConfig {
  const raw = (value ?? {}) as Raw;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new StackConfigError(`Invalid litepix context ${JSON.stringify(value)}: expected a JSON object`);
  }
  for (const name of Object.keys(raw)) {
    if (!KNOWN.has(name)) {
      throw new StackConfigError(
        `Unknown setting litepix.${name}: expected one of ${[...KNOWN].join(', ')} (see infra/README.md, "Settings")`,
      );
    }
  }
  const d = DEFAULT_STACK_CONFIG;
  const config: StackConfig = {
    originalsBucketName: text(raw, 'originalsBucketName', BUCKET, 'an S3 bucket name'),
    variantsExpirationDays: integer(raw, 'variantsExpirationDays', d.variantsExpirationDays, 1, 3650),
    resultsRetentionDays: integer(raw, 'resultsRetentionDays', d.resultsRetentionDays, 1, 3650),
    priceClass: oneOf(raw, 'priceClass', d.priceClass, [
      'PriceClass_100',
      'PriceClass_200',
      'PriceClass_All',
    ]),
    domainNames: list(raw, 'domainNames', d.domainNames, DOMAIN, 'lower-case domain names'),
    certificateArn: text(raw, 'certificateArn', CERT_ARN, 'an ACM certificate ARN in us-east-1'),
    originShieldRegion: text(raw, 'originShieldRegion', REGION, 'an AWS region such as "eu-central-1"'),
    accessLogs: bool(raw, 'accessLogs', d.accessLogs),
    corsAllowOrigins: list(raw, 'corsAllowOrigins', d.corsAllowOrigins, ORIGIN, '"*" or http(s) origins'),
    signing: bool(raw, 'signing', d.signing),
    errorCachingSeconds: integer(raw, 'errorCachingSeconds', d.errorCachingSeconds, 0, 60),
    architecture: oneOf(raw, 'architecture', d.architecture, ['arm64', 'x86_64']),
    originMemoryMb: integer(raw, 'originMemoryMb', d.originMemoryMb, 512, 10240),
    originTimeoutSeconds: integer(raw, 'originTimeoutSeconds', d.originTimeoutSeconds, 3, 60),
    originReservedConcurrency: optionalInteger(raw, 'originReservedConcurrency', 1, 10000),
    prewarmMemoryMb: integer(raw, 'prewarmMemoryMb', d.prewarmMemoryMb, 512, 10240),
    prewarmTimeoutSeconds: integer(raw, 'prewarmTimeoutSeconds', d.prewarmTimeoutSeconds, 10, 900),
    prewarmBatchSize: integer(raw, 'prewarmBatchSize', d.prewarmBatchSize, 1, 10),
    prewarmBatchWindowSeconds: integer(raw, 'prewarmBatchWindowSeconds', d.prewarmBatchWindowSeconds, 0, 300),
    prewarmMaxReceiveCount: integer(raw, 'prewarmMaxReceiveCount', d.prewarmMaxReceiveCount, 1, 100),
    prewarmPresets: list(
      raw,
      'prewarmPresets',
      d.prewarmPresets,
      PRESET_NAME,
      'preset names (as the grammar takes them)',
    ),
    uploadNotifications: bool(raw, 'uploadNotifications', d.uploadNotifications),
    logLevel: oneOf(raw, 'logLevel', d.logLevel, ['debug', 'info', 'warn', 'error', 'silent']),
    logRetentionDays: retention(raw, 'logRetentionDays', d.logRetentionDays),
    alarmOrigin5xxPercent: integer(raw, 'alarmOrigin5xxPercent', d.alarmOrigin5xxPercent, 1, 100),
    alarmEmails: list(raw, 'alarmEmails', d.alarmEmails, EMAIL, 'e-mail addresses'),
    alarmTopicArn: text(
      raw,
      'alarmTopicArn',
      SNS_ARN,
      'an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)',
    ),
    configFile: text(raw, 'configFile', /^\S+\.json$/, 'a path to a .json file'),
    transformSettings: settings(raw, 'transformSettings', TRANSFORM_SETTINGS),
    prewarmSettings: settings(raw, 'prewarmSettings', PREWARM_SETTINGS),
  };
  if (config.signing && config.prewarmSettings.LITEPIX_PREWARM_VERIFY_CDN === 'true') {
    // The pre-warm Lambdas hold no signing secret (it lives in the KeyValueStore only), so each
    // check through the CDN would be refused with 403.
    throw new StackConfigError(
      'litepix.prewarmSettings.LITEPIX_PREWARM_VERIFY_CDN cannot be on with litepix.signing: the pre-warm Lambdas have no signing secret (each variant is still verified by decoding it from the bucket)',
    );
  }
  const budget = config.transformSettings.LITEPIX_REQUEST_TIMEOUT_MS;
  if (
    budget !== undefined &&
    /^[0-9]+$/.test(budget) &&
    Number(budget) >= config.originTimeoutSeconds * 1000
  ) {
    throw new StackConfigError(
      `Invalid litepix.transformSettings.LITEPIX_REQUEST_TIMEOUT_MS ${JSON.stringify(budget)}: expected less than litepix.originTimeoutSeconds (${config.originTimeoutSeconds} s), so the origin answers 503 before Lambda stops it`,
    );
  }
  if (config.domainNames.length > 0 && !config.certificateArn) {
    throw new StackConfigError(
      'litepix.domainNames needs litepix.certificateArn (an ACM certificate in us-east-1)',
    );
  }
  if (config.certificateArn && config.domainNames.length === 0) {
    throw new StackConfigError('litepix.certificateArn is set but litepix.domainNames is empty');
  }
  return config;
}

/**
 * An object of environment variables for the Lambdas: names from `allowed`, string values.
 * The values are checked by the Lambdas' own parsers at synth (litepix-stack.ts).
 */
function settings(raw: Raw, name: keyof StackConfig, allowed: readonly string[]): Record<string, string> {
  const v = raw[name];
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    fail(name, v, 'an object of environment variables, e.g. {"LITEPIX_QUALITY_MAX_ENCODES": "3"}');
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(v as Raw)) {
    if (!allowed.includes(key)) {
      const managed = STACK_MANAGED[key];
      throw new StackConfigError(
        managed !== undefined
          ? `litepix.${name}.${key} is set by ${managed}, not here`
          : `Unknown litepix.${name}.${key}: expected one of ${allowed.join(', ')}`,
      );
    }
    if (typeof value !== 'string') {
      fail(`${name}.${key}`, value, 'a string (environment variables are text: "3", "true")');
    }
    out[key] = value;
  }
  return out;
}

/** CloudWatch Logs accepts these retention periods only. */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

function retention(raw: Raw, name: keyof StackConfig, fallback: number): number {
  const v = raw[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !RETENTION_DAYS.includes(v))
    fail(name, v, `one of ${RETENTION_DAYS.join(', ')}`);
  return v;
}
