import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { bucketByRule, distributionArn, idOf, templates } from './stack-helpers.ts';

// Synthesized once for this file, before its tests are collected.
const { base, full } = await templates();

describe('buckets', () => {
  it('originals, variants and results are private, encrypted, TLS-only and kept', () => {
    const buckets = base.findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets)).toHaveLength(3);
    for (const id of Object.keys(buckets)) {
      expect(buckets[id]).toMatchObject({
        DeletionPolicy: 'Retain',
        Properties: {
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
            ],
          },
        },
      });
      base.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('variants expire after 90 days by default (configurable) and abort incomplete uploads', () => {
    const rule = (days: number) => ({
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'expire-variants',
            Status: 'Enabled',
            ExpirationInDays: days,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
        ],
      },
    });
    base.hasResourceProperties('AWS::S3::Bucket', rule(90));
    full.hasResourceProperties('AWS::S3::Bucket', rule(30));
  });

  it('uses an existing originals bucket by name instead of creating one', () => {
    // FULL creates the variants, results and access-log buckets only.
    expect(Object.keys(full.findResources('AWS::S3::Bucket'))).toHaveLength(3);
    full.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: { Variables: Match.objectLike({ LITEPIX_ORIGINALS_BUCKET: 'my-photos' }) },
    });
  });

  it('results: a bucket of its own, whole-bucket expiry after 30 days by default (configurable), no versioning', () => {
    const rule = (days: number) => ({
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'expire-results',
            Status: 'Enabled',
            ExpirationInDays: days,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
        ],
      },
    });
    for (const [t, days] of [
      [base, 30],
      [full, 7],
    ] as const) {
      const results = bucketByRule(t, 'expire-results');
      expect(results).toMatch(/^BucketsResults/);
      t.hasResource('AWS::S3::Bucket', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          ...rule(days),
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
            ],
          },
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          VersioningConfiguration: Match.absent(),
          LoggingConfiguration: Match.absent(),
        },
      });
      expect(results).not.toBe(bucketByRule(t, 'expire-variants'));
    }
  });

  it('results are never reachable through the CDN: no origin on them, a bucket policy that only refuses non-TLS', () => {
    const results = bucketByRule(base, 'expire-results');
    const distribution = JSON.stringify(base.findResources('AWS::CloudFront::Distribution'));
    expect(distribution).not.toContain(results);
    const policies = Object.values(
      base.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: results } } }),
    );
    expect(policies).toHaveLength(1);
    expect(policies[0]?.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Principal: { AWS: '*' },
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    ]);
  });

  it('only CloudFront of this distribution may read the variants bucket', () => {
    const distribution = idOf(base, 'AWS::CloudFront::Distribution');
    base.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Condition: { StringEquals: { 'AWS:SourceArn': distributionArn(distribution) } },
            Resource: Match.anyValue(),
          },
        ]),
      },
    });
  });
});
