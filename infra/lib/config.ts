/**
 * The stack's configuration: STACK_SETTINGS, one valibot schema whose fields carry their range,
 * default and one-line description (docs/configuration.md is generated from it: npm run
 * docs:config). The CDK app reads it from the `litepix` context key (cdk.json or `-c litepix=…`);
 * parseStackConfig validates every field with a message naming it, the bad value and what is
 * allowed. Preset names are checked with the grammar's own rule (PRESET_NAME).
 */
import * as v from 'valibot';
import { PRESET_NAME } from '../../edge-fn/grammar/resolve-config.ts';
import { LOG_LEVELS, TRANSFORM_SETTINGS_SCHEMA } from '../../origin-fn/config.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../origin-fn/origin-handler.ts';
import { isBucketName } from '../../origin-fn/s3-store.ts';
import { readSettings, type SettingsOf, setting } from '../../origin-fn/settings-schema.ts';
import { PREWARM_ENV_SETTINGS } from '../../prewarm/config.ts';

const PRICE_CLASSES = ['PriceClass_100', 'PriceClass_200', 'PriceClass_All'] as const;
const ARCHITECTURES = ['arm64', 'x86_64'] as const;
export type PriceClassName = (typeof PRICE_CLASSES)[number];
export type Architecture = (typeof ARCHITECTURES)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

function integer<D extends number | undefined>(
  min: number,
  max: number,
  fallback: D,
  description: string,
  shown?: string,
) {
  return setting(v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max)), fallback, {
    description,
    allowed: `an integer from ${min} to ${max}`,
    shown,
  });
}

function bool(fallback: boolean, description: string) {
  return setting(v.boolean(), fallback, {
    description,
    allowed: 'true or false (a JSON boolean, not a string)',
  });
}

function choice<const T extends string | number>(allowed: readonly T[], fallback: T, description: string) {
  return setting(v.picklist(allowed), fallback, { description, allowed: `one of ${allowed.join(', ')}` });
}

function text(test: (s: string) => boolean, allowed: string, description: string, shown?: string) {
  return setting(v.pipe(v.string(), v.check(test)), undefined, { description, allowed, shown });
}

function list(pattern: RegExp, items: string, fallback: string[], description: string, shown?: string) {
  return setting(v.array(v.pipe(v.string(), v.regex(pattern))), fallback, {
    description,
    allowed: `an array of ${items}`,
    shown,
  });
}

/** An object of environment variables for the Lambdas; envVariables() checks names and values. */
function envObject(description: string, example: string) {
  return setting(
    v.custom<Record<string, string>>((o) => typeof o === 'object' && o !== null && !Array.isArray(o)),
    {} as Record<string, string>,
    {
      description,
      allowed: `an object of environment variables (string values), e.g. ${example}`,
    },
  );
}

const DOMAIN = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const CERT_ARN = /^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/;
const ORIGIN = /^(\*|https?:\/\/[^\s/]+)$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const SNS_ARN = /^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$/;
/** CloudWatch Logs accepts these retention periods only. */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;
const pattern = (re: RegExp) => (s: string) => re.test(s);

/** Every setting of the `litepix` context key. */
export const STACK_SETTINGS = {
  originalsBucketName: text(
    isBucketName,
    'an S3 bucket name',
    'use this existing bucket for the originals',
    '— (a new bucket)',
  ),
  variantsExpirationDays: integer(1, 3650, 90, 'days a stored variant lives (made again on the next miss)'),
  resultsRetentionDays: integer(
    1,
    3650,
    30,
    "days a pre-warm job's results (and its `job.json`) stay in the results bucket",
  ),
  priceClass: choice(PRICE_CLASSES, 'PriceClass_100', 'CloudFront edge locations used'),
  domainNames: list(DOMAIN, 'lower-case domain names', [], 'custom domains (CNAMEs); need `certificateArn`'),
  certificateArn: text(
    pattern(CERT_ARN),
    'an ACM certificate ARN in us-east-1',
    'certificate for `domainNames` (viewers then get TLSv1.2_2021)',
  ),
  originShieldRegion: text(
    pattern(REGION),
    'an AWS region such as "eu-central-1"',
    'Origin Shield in front of both origins',
    '— (off)',
  ),
  accessLogs: bool(false, 'CloudFront standard logs into a new log bucket (kept `logRetentionDays`)'),
  corsAllowOrigins: list(
    ORIGIN,
    '"*" or http(s) origins',
    [],
    'origins allowed to read images from scripts',
    '[] (no CORS headers)',
  ),
  signing: bool(false, 'signed URLs, secrets read from a CloudFront KeyValueStore'),
  errorCachingSeconds: integer(
    0,
    60,
    10,
    'how long CloudFront keeps a 4xx answer (400, 403, 404, 405, 414, 416); 5xx: never',
  ),
  architecture: choice(ARCHITECTURES, 'arm64', 'CPU of the Lambdas (and of the sharp binaries bundled)'),
  originMemoryMb: integer(512, 10240, 2048, 'origin Lambda memory (CPU grows with it)'),
  originTimeoutSeconds: integer(3, 60, 30, "origin Lambda timeout = CloudFront's origin read timeout"),
  originReservedConcurrency: integer(
    1,
    10000,
    undefined,
    'reserved concurrency of the origin Lambda: a cap on concurrent origin Lambdas',
    '— (unreserved)',
  ),
  prewarmMemoryMb: integer(512, 10240, 2048, "pre-warm Lambdas' memory"),
  // One batch must finish inside one timeout: a timed-out invocation returns all its messages
  // (each receive counts towards prewarmMaxReceiveCount). A job message holds up to 10 Data
  // Units (the producer's default packing); a unit of 4 camera photos at the default presets
  // (thumb, mobile, full) and formats costs about 12.7 vCPU-s (measured, `npm run bench --
  // variants`: 3.12 CPU-s per original for its 9 variants from one decode, × 4, plus 0.23 for
  // the pipeline); 2048 MB gives ~1.2 vCPU. So one message per invocation ≈ 10 × 12.7 / 1.2 ≈
  // 106 s, and 600 s leaves 5.7× for slow originals, retries and a cold start (5 messages would
  // need ~530 s, too close to the 600 s timeout).
  prewarmTimeoutSeconds: integer(
    10,
    900,
    600,
    "pre-warm Lambdas' timeout (the queue's visibility timeout is 6 ×); a whole batch must fit in it: one job message of 10 units of 4 camera photos at the default presets ≈ 106 s at 2048 MB; raise it (or keep `prewarmBatchSize` at 1) with more images per unit, more formats or less memory",
  ),
  prewarmBatchSize: integer(1, 10, 1, 'SQS messages per pre-warm invocation (see `prewarmTimeoutSeconds`)'),
  prewarmBatchWindowSeconds: integer(0, 300, 5, 'seconds SQS may wait to fill a batch'),
  prewarmMaxReceiveCount: integer(
    1,
    100,
    3,
    "receives before a message goes to the dead-letter queue (also the worker's `LITEPIX_PREWARM_MAX_RECEIVES`)",
  ),
  prewarmPresets: list(
    PRESET_NAME,
    'preset names (as the grammar takes them)',
    ['thumb', 'mobile', 'full'],
    'presets made on upload (and by pre-warm when a Data Unit names none); checked against the grammar',
  ),
  uploadNotifications: bool(true, 'S3 notifications on the originals → pre-warm / clean-up'),
  logLevel: choice(LOG_LEVELS, 'info', "Lambdas' `LITEPIX_LOG_LEVEL`"),
  logRetentionDays: choice(RETENTION_DAYS, 30, 'Lambda logs (and access logs) retention, days'),
  alarmOrigin5xxPercent: integer(
    1,
    100,
    1,
    'origin 5xx rate (percent of Function URL requests, over 5 minutes) that raises the alarm',
  ),
  alarmEmails: list(
    EMAIL,
    'e-mail addresses',
    [],
    'told when an alarm fires and clears (an SNS topic the stack creates; each address confirms once)',
  ),
  alarmTopicArn: text(
    pattern(SNS_ARN),
    'an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)',
    'an existing topic (same region) told when an alarm fires and clears',
  ),
  configFile: text(
    pattern(/^\S+\.json$/),
    'a path to a .json file',
    'the `LITEPIX_CONFIG` file: its `grammar` goes into the viewer bundle and, as `LITEPIX_GRAMMAR_JSON`, into the Lambdas; it must not hold `secrets`',
    '`LITEPIX_CONFIG`, else the defaults',
  ),
  transformSettings: envObject(
    'the transform settings (limits, `q=auto`, the request budget), given to the origin **and** the pre-warm Lambdas so both make the same variant',
    '{"LITEPIX_QUALITY_MAX_ENCODES": "3"}',
  ),
  prewarmSettings: envObject(
    'the pre-warm settings the stack does not set itself, for the pre-warm Lambdas only',
    '{"LITEPIX_PREWARM_FORMATS": "avif,webp"}',
  ),
};

export type StackConfig = SettingsOf<typeof STACK_SETTINGS>;

/** Variables `transformSettings` may set: the origin's transform settings. */
export const TRANSFORM_SETTINGS = Object.keys(TRANSFORM_SETTINGS_SCHEMA) as Array<
  keyof typeof TRANSFORM_SETTINGS_SCHEMA
>;

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

export class StackConfigError extends Error {
  override name = 'StackConfigError';
}

const STACK_READ = {
  label: (name: string) => `litepix.${name}`,
  error: (message: string) => new StackConfigError(message),
};

export const DEFAULT_STACK_CONFIG: StackConfig = readSettings(STACK_SETTINGS, {}, STACK_READ);

/** Variables `prewarmSettings` may set: the pre-warm settings the stack does not set itself. */
export const PREWARM_SETTINGS = Object.keys(PREWARM_ENV_SETTINGS).filter((name) => !(name in STACK_MANAGED));

const KNOWN = Object.keys(STACK_SETTINGS);

/** Validates the `litepix` context value (undefined = all defaults) into a StackConfig. */
export function parseStackConfig(value: unknown): StackConfig {
  const raw = value ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new StackConfigError(`Invalid litepix context ${JSON.stringify(value)}: expected a JSON object`);
  }
  const unknown = Object.keys(raw).find((name) => !KNOWN.includes(name));
  if (unknown !== undefined) {
    throw new StackConfigError(
      `Unknown setting litepix.${unknown}: expected one of ${KNOWN.join(', ')} (docs/configuration.md)`,
    );
  }
  const config = readSettings(STACK_SETTINGS, raw as Record<string, unknown>, STACK_READ);
  envVariables(config.transformSettings, 'transformSettings', TRANSFORM_SETTINGS);
  envVariables(config.prewarmSettings, 'prewarmSettings', PREWARM_SETTINGS);
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
 * Environment variables for the Lambdas: names from `allowed`, string values. The values are
 * checked by the Lambdas' own parsers (the same schemas) at synth (litepix-stack.ts).
 */
function envVariables(vars: Record<string, unknown>, name: string, allowed: readonly string[]): void {
  for (const [key, value] of Object.entries(vars)) {
    if (!allowed.includes(key)) {
      const managed = STACK_MANAGED[key];
      throw new StackConfigError(
        managed !== undefined
          ? `litepix.${name}.${key} is set by ${managed}, not here`
          : `Unknown litepix.${name}.${key}: expected one of ${allowed.join(', ')}`,
      );
    }
    if (typeof value !== 'string') {
      throw new StackConfigError(
        `Invalid litepix.${name}.${key} ${JSON.stringify(value)}: expected a string (environment variables are text: "3", "true")`,
      );
    }
  }
}
