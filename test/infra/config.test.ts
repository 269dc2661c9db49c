import { describe, expect, it } from 'vitest';
import { resolveGrammarConfig } from '../../edge-fn/grammar/resolve-config.ts';
import {
  DEFAULT_STACK_CONFIG,
  PREWARM_SETTINGS,
  parseStackConfig,
  requestTimeoutMs,
  TRANSFORM_SETTINGS,
} from '../../infra/lib/config.ts';
import { TRANSFORM_SETTINGS_SCHEMA } from '../../origin-fn/config.ts';

describe('stack configuration (the litepix context key)', () => {
  it('is all defaults when absent or empty', () => {
    expect(parseStackConfig(undefined)).toEqual(DEFAULT_STACK_CONFIG);
    expect(parseStackConfig({})).toEqual(DEFAULT_STACK_CONFIG);
    expect(DEFAULT_STACK_CONFIG).toMatchObject({
      architecture: 'arm64',
      originMemoryMb: 2048,
      originTimeoutSeconds: 30,
      variantsExpirationDays: 90,
      resultsRetentionDays: 30,
      prewarmTimeoutSeconds: 600,
      prewarmBatchSize: 1,
      signing: false,
    });
  });

  it('keeps valid values', () => {
    expect(
      parseStackConfig({
        signing: true,
        priceClass: 'PriceClass_200',
        originReservedConcurrency: 10,
        logRetentionDays: 7,
      }),
    ).toMatchObject({
      signing: true,
      priceClass: 'PriceClass_200',
      originReservedConcurrency: 10,
      logRetentionDays: 7,
    });
  });

  it.each([
    [
      { signing: 'true' },
      'Invalid litepix.signing "true": expected true or false (a JSON boolean, not a string)',
    ],
    [{ originMemoryMb: 100 }, 'Invalid litepix.originMemoryMb 100: expected an integer from 512 to 10240'],
    [
      { originTimeoutSeconds: 61 },
      'Invalid litepix.originTimeoutSeconds 61: expected an integer from 3 to 60',
    ],
    [
      { errorCachingSeconds: 1.5 },
      'Invalid litepix.errorCachingSeconds 1.5: expected an integer from 0 to 60',
    ],
    [
      { resultsRetentionDays: 0 },
      'Invalid litepix.resultsRetentionDays 0: expected an integer from 1 to 3650',
    ],
    [
      { resultsRetentionDays: '30' },
      'Invalid litepix.resultsRetentionDays "30": expected an integer from 1 to 3650',
    ],
    [
      { prewarmTimeoutSeconds: 901 },
      'Invalid litepix.prewarmTimeoutSeconds 901: expected an integer from 10 to 900',
    ],
    [
      { prewarmSettings: { LITEPIX_RESULTS_PREFIX: 'mine/' } },
      'litepix.prewarmSettings.LITEPIX_RESULTS_PREFIX is set by the stack (its worker may write under results/ only), not here',
    ],
    [{ architecture: 'arm' }, 'Invalid litepix.architecture "arm": expected one of arm64, x86_64'],
    [
      { originalsBucketName: 'My_Bucket' },
      'Invalid litepix.originalsBucketName "My_Bucket": expected an S3 bucket name',
    ],
    [{ logRetentionDays: 10 }, 'Invalid litepix.logRetentionDays 10: expected one of 1, 3, 5, 7, 14, 30'],
    [
      { corsAllowOrigins: ['example.com'] },
      'Invalid litepix.corsAllowOrigins ["example.com"]: expected an array of "*" or http(s) origins',
    ],
    [{ domainNames: ['img.example.com'] }, 'litepix.domainNames needs litepix.certificateArn'],
    [
      {
        certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012',
      },
      'expected an ACM certificate ARN in us-east-1',
    ],
    [{ memory: 1024 }, 'Unknown setting litepix.memory: expected one of originalsBucketName,'],
    [{ alarmEmails: ['ops'] }, 'Invalid litepix.alarmEmails ["ops"]: expected an array of e-mail addresses'],
    [
      { alarmTopicArn: 'arn:aws:sqs:us-east-1:123456789012:pager' },
      'expected an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)',
    ],
    [
      { transformSettings: ['LITEPIX_QUALITY_DISTANCE=0.9'] },
      'Invalid litepix.transformSettings ["LITEPIX_QUALITY_DISTANCE=0.9"]: expected an object of environment variables',
    ],
    [
      { transformSettings: { LITEPIX_QUALITY_MAX_ENCODES: 3 } },
      'Invalid litepix.transformSettings.LITEPIX_QUALITY_MAX_ENCODES 3: expected a string (environment variables are text: "3", "true")',
    ],
    [
      { transformSettings: { LITEPIX_QUALITY_DISTANCES: '0.9' } },
      'Unknown litepix.transformSettings.LITEPIX_QUALITY_DISTANCES: expected one of LITEPIX_MAX_SOURCE_BYTES,',
    ],
    [
      { transformSettings: { LITEPIX_PREWARM_FORMATS: 'webp' } },
      'Unknown litepix.transformSettings.LITEPIX_PREWARM_FORMATS',
    ],
    [
      { prewarmSettings: { LITEPIX_QUALITY_DISTANCE: '0.9' } },
      'Unknown litepix.prewarmSettings.LITEPIX_QUALITY_DISTANCE: expected one of LITEPIX_PREWARM_FORMATS,',
    ],
    [
      { transformSettings: { LITEPIX_VARIANTS_BUCKET: 'mine' } },
      'litepix.transformSettings.LITEPIX_VARIANTS_BUCKET is set by the stack (it creates the variants bucket), not here',
    ],
    [
      { prewarmSettings: { LITEPIX_SIGNING_SECRET: 'a-very-long-secret-value' } },
      'litepix.prewarmSettings.LITEPIX_SIGNING_SECRET is set by litepix.signing (secrets live in the KeyValueStore',
    ],
    [
      { signing: true, prewarmSettings: { LITEPIX_PREWARM_VERIFY_CDN: 'true' } },
      'litepix.prewarmSettings.LITEPIX_PREWARM_VERIFY_CDN cannot be on with litepix.signing',
    ],
    [
      { originTimeoutSeconds: 10, transformSettings: { LITEPIX_REQUEST_TIMEOUT_MS: '10000' } },
      'Invalid litepix.transformSettings.LITEPIX_REQUEST_TIMEOUT_MS "10000": expected less than litepix.originTimeoutSeconds (10 s)',
    ],
  ])('refuses %j', (value, message) => {
    expect(() => parseStackConfig(value)).toThrow(message);
  });

  it('keeps Lambda settings, and keeps the origin budget inside the Lambda timeout', () => {
    const config = parseStackConfig({
      originTimeoutSeconds: 10,
      transformSettings: {
        LITEPIX_QUALITY_MAX_ENCODES: '3',
        LITEPIX_ALLOW_SVG: 'true',
        LITEPIX_MAX_JPEG_SCANS: '32',
        LITEPIX_MAX_SVG_BYTES: '65536',
        LITEPIX_MAX_SVG_ELEMENTS: '500',
      },
      prewarmSettings: { LITEPIX_PREWARM_FORMATS: 'avif,webp' },
    });
    expect(config.transformSettings).toEqual({
      LITEPIX_QUALITY_MAX_ENCODES: '3',
      LITEPIX_ALLOW_SVG: 'true',
      LITEPIX_MAX_JPEG_SCANS: '32',
      LITEPIX_MAX_SVG_BYTES: '65536',
      LITEPIX_MAX_SVG_ELEMENTS: '500',
    });
    expect(config.prewarmSettings).toEqual({ LITEPIX_PREWARM_FORMATS: 'avif,webp' });
    expect(requestTimeoutMs(config)).toBe(9000);
    expect(requestTimeoutMs(parseStackConfig({}))).toBe(20_000);
    expect(
      requestTimeoutMs(parseStackConfig({ transformSettings: { LITEPIX_REQUEST_TIMEOUT_MS: '5000' } })),
    ).toBe(5000);
  });
});

describe("the Lambda variables the stack takes: derived from the Lambdas' own schemas", () => {
  it('takes every transform setting and every pre-warm setting the stack does not set itself', () => {
    expect(TRANSFORM_SETTINGS).toEqual(Object.keys(TRANSFORM_SETTINGS_SCHEMA));
    expect(PREWARM_SETTINGS).toContain('LITEPIX_PREWARM_MAX_DEPTH');
    expect(PREWARM_SETTINGS).not.toContain('LITEPIX_CDN_BASE');
    expect(
      parseStackConfig({ prewarmSettings: { LITEPIX_PREWARM_MAX_DEPTH: '128' } }).prewarmSettings,
    ).toEqual({ LITEPIX_PREWARM_MAX_DEPTH: '128' });
  });
});

describe('preset names: one rule for the grammar and the stack (issue 18 §2 drift)', () => {
  it.each(['hero_2x', '2up', 'mobile-wide'])(
    '%s is a preset the grammar and the stack both accept',
    (name) => {
      const grammar = resolveGrammarConfig({ presets: { [name]: { w: '800' } } });
      expect(Object.keys(grammar.presets)).toContain(name);
      expect(parseStackConfig({ prewarmPresets: [name] }).prewarmPresets).toEqual([name]);
    },
  );

  it.each(['Hero', '-x', 'a'.repeat(33), 'a b'])('%s is refused by both', (name) => {
    expect(() => resolveGrammarConfig({ presets: { [name]: { w: '800' } } })).toThrow();
    expect(() => parseStackConfig({ prewarmPresets: [name] })).toThrow(/prewarmPresets/);
  });
});
