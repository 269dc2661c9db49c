import { Capture, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { KVS_SECRETS_KEY } from '../../edge-fn/kvs-secrets.ts';
import { buildBundle } from '../edge/bundle.ts';
import { bucketByRule, CERT, idOf, templates } from './stack-helpers.ts';
import { synthStack, viewerBundle } from './synth.ts';

// Synthesized once for this file, before its tests are collected.
const { base, full } = await templates();

describe('viewer function', () => {
  it('is cloudfront-js-2.0 running the built bundle, published, with no KeyValueStore when unsigned', async () => {
    base.hasResourceProperties('AWS::CloudFront::Function', {
      AutoPublish: true,
      FunctionConfig: { Runtime: 'cloudfront-js-2.0', KeyValueStoreAssociations: Match.absent() },
      FunctionCode: await viewerBundle(false),
    });
    base.resourceCountIs('AWS::CloudFront::KeyValueStore', 0);
  });

  it('with signing: the KeyValueStore build, associated with the store holding the secrets', async () => {
    const code = await viewerBundle(true);
    expect(code).toContain('cf.kvs()');
    const store = idOf(full, 'AWS::CloudFront::KeyValueStore', {
      Comment: Match.stringLikeRegexp(KVS_SECRETS_KEY),
    });
    full.hasResourceProperties('AWS::CloudFront::Function', {
      FunctionCode: code,
      FunctionConfig: {
        Runtime: 'cloudfront-js-2.0',
        KeyValueStoreAssociations: [{ KeyValueStoreARN: { 'Fn::GetAtt': [store, 'Arn'] } }],
      },
    });
    full.hasOutput('SigningKeyValueStoreArn', { Value: { 'Fn::GetAtt': [store, 'Arn'] } });
  });

  it('refuses a bundle that does not match the signing setting, or has secrets baked in', async () => {
    await expect(synthStack({ signing: true }, { viewerCode: await viewerBundle(false) })).rejects.toThrow(
      'Signing is on but the viewer bundle does not read its secrets from a KeyValueStore',
    );
    await expect(synthStack({}, { viewerCode: await viewerBundle(true) })).rejects.toThrow(
      'Signing is off but the viewer bundle is the KeyValueStore build',
    );
    const baked = await buildBundle({ secrets: ['baked-secret-0123456789'] });
    await expect(synthStack({}, { viewerCode: baked })).rejects.toThrow(
      'The viewer bundle has secrets baked in: the stack takes them from a KeyValueStore only',
    );
  });
});

describe('distribution', () => {
  it('serves HTTP/2 and HTTP/3 over HTTPS with the viewer function on viewer-request', () => {
    const fn = idOf(base, 'AWS::CloudFront::Function');
    base.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        HttpVersion: 'http2and3',
        PriceClass: 'PriceClass_100',
        IPV6Enabled: true,
        Logging: Match.absent(),
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: 'redirect-to-https',
          AllowedMethods: ['GET', 'HEAD'],
          Compress: false,
          FunctionAssociations: [
            { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [fn, 'FunctionARN'] } },
          ],
        }),
      }),
    });
  });

  it('keys the cache on the URI only, with long TTLs and min 0 so no-store is honoured', () => {
    const policy = new Capture();
    base.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({ CachePolicyId: policy }),
      }),
    });
    const id = (policy.asObject() as { Ref: string }).Ref;
    expect(base.toJSON().Resources[id].Properties.CachePolicyConfig).toMatchObject({
      DefaultTTL: 31536000,
      MaxTTL: 31536000,
      MinTTL: 0,
      ParametersInCacheKeyAndForwardedToOrigin: {
        QueryStringsConfig: { QueryStringBehavior: 'none' },
        HeadersConfig: { HeaderBehavior: 'none' },
        CookiesConfig: { CookieBehavior: 'none' },
        EnableAcceptEncodingGzip: false,
        EnableAcceptEncodingBrotli: false,
      },
    });
  });

  it('fails over from the variants bucket to the origin Lambda on 403 and 404, both through OAC', () => {
    const members = new Capture();
    const origins = new Capture();
    base.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Origins: origins,
        OriginGroups: {
          Quantity: 1,
          Items: [
            Match.objectLike({
              FailoverCriteria: { StatusCodes: { Items: [403, 404], Quantity: 2 } },
              Members: members,
            }),
          ],
        },
      }),
    });
    const [primary, fallback] = (members.asObject() as { Items: Array<{ OriginId: string }> }).Items;
    const byId = new Map(
      (origins.asArray() as Array<Record<string, unknown> & { Id: string }>).map((o) => [o.Id, o]),
    );
    const s3Oac = idOf(base, 'AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
      }),
    });
    const lambdaOac = idOf(base, 'AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({
        OriginAccessControlOriginType: 'lambda',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      }),
    });
    const variants = bucketByRule(base, 'expire-variants');
    expect(byId.get(primary?.OriginId ?? '')).toMatchObject({
      DomainName: { 'Fn::GetAtt': [variants, 'RegionalDomainName'] },
      OriginAccessControlId: { 'Fn::GetAtt': [s3Oac, 'Id'] },
    });
    const url = idOf(base, 'AWS::Lambda::Url');
    expect(byId.get(fallback?.OriginId ?? '')).toMatchObject({
      OriginAccessControlId: { 'Fn::GetAtt': [lambdaOac, 'Id'] },
      CustomOriginConfig: { OriginProtocolPolicy: 'https-only', OriginReadTimeout: 30 },
      DomainName: { 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': [url, 'FunctionUrl'] }] }] },
    });
  });

  it('caches 4xx errors briefly and 5xx not at all', () => {
    const expected = (seconds: number) => [
      ...[400, 403, 404, 405, 414, 416].map((ErrorCode) => ({ ErrorCode, ErrorCachingMinTTL: seconds })),
      ...[500, 501, 502, 503, 504].map((ErrorCode) => ({ ErrorCode, ErrorCachingMinTTL: 0 })),
    ];
    base.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({ CustomErrorResponses: expected(10) }),
    });
    full.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({ CustomErrorResponses: expected(30) }),
    });
  });

  it('adds timing-allow-origin, accept-ch and nosniff; CORS only when origins are configured', () => {
    base.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        CorsConfig: Match.absent(),
        CustomHeadersConfig: {
          Items: [
            { Header: 'timing-allow-origin', Value: '*', Override: true },
            {
              Header: 'accept-ch',
              Value: 'ECT, RTT, Downlink, Sec-CH-DPR, Sec-CH-Width, DPR, Width',
              Override: true,
            },
          ],
        },
        SecurityHeadersConfig: { ContentTypeOptions: { Override: true } },
      }),
    });
    full.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        CorsConfig: Match.objectLike({
          AccessControlAllowOrigins: { Items: ['https://app.example.com'] },
          AccessControlAllowMethods: { Items: ['GET', 'HEAD'] },
          AccessControlAllowCredentials: false,
        }),
      }),
    });
  });

  it('custom domain, price class, Origin Shield and standard logging when configured', () => {
    const logBucket = idOf(full, 'AWS::S3::Bucket', {
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] },
    });
    full.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Aliases: ['img.example.com'],
        PriceClass: 'PriceClass_All',
        ViewerCertificate: {
          AcmCertificateArn: CERT,
          MinimumProtocolVersion: 'TLSv1.2_2021',
          SslSupportMethod: 'sni-only',
        },
        Logging: { Bucket: { 'Fn::GetAtt': [logBucket, 'RegionalDomainName'] }, Prefix: 'cloudfront/' },
        Origins: [
          Match.objectLike({ OriginShield: { Enabled: true, OriginShieldRegion: 'eu-central-1' } }),
          Match.objectLike({
            OriginShield: { Enabled: true, OriginShieldRegion: 'eu-central-1' },
            CustomOriginConfig: Match.objectLike({ OriginReadTimeout: 45 }),
          }),
        ],
      }),
    });
    full.hasOutput('CdnBaseUrl', { Value: 'https://img.example.com' });
  });
});
