import { describe, expect, it } from 'vitest';
import { DEFAULT_STACK_CONFIG, parseStackConfig } from '../../infra/lib/config.ts';

describe('stack configuration (the litepix context key)', () => {
  it('is all defaults when absent or empty', () => {
    expect(parseStackConfig(undefined)).toEqual(DEFAULT_STACK_CONFIG);
    expect(parseStackConfig({})).toEqual(DEFAULT_STACK_CONFIG);
    expect(DEFAULT_STACK_CONFIG).toMatchObject({
      architecture: 'arm64',
      originMemoryMb: 2048,
      originTimeoutSeconds: 30,
      variantsExpirationDays: 90,
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
  ])('refuses %j', (value, message) => {
    expect(() => parseStackConfig(value)).toThrow(message);
  });
});
