import { Capture, Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveGrammarConfig } from '../../edge-fn/grammar/resolve-config.ts';
import { KVS_SECRETS_KEY } from '../../edge-fn/kvs-secrets.ts';
import { buildBundle } from '../edge/bundle.ts';
import { synthStack, viewerBundle } from './synth.ts';

const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';
/** Every optional part switched on or changed, so each prop is seen reaching the template. */
const FULL = {
  originalsBucketName: 'my-photos',
  variantsExpirationDays: 30,
  resultsRetentionDays: 7,
  priceClass: 'PriceClass_All',
  domainNames: ['img.example.com'],
  certificateArn: CERT,
  originShieldRegion: 'eu-central-1',
  accessLogs: true,
  corsAllowOrigins: ['https://app.example.com'],
  signing: true,
  errorCachingSeconds: 30,
  architecture: 'x86_64',
  originMemoryMb: 3008,
  originTimeoutSeconds: 45,
  originReservedConcurrency: 50,
  prewarmTimeoutSeconds: 300,
  prewarmBatchSize: 2,
  prewarmBatchWindowSeconds: 0,
  prewarmMaxReceiveCount: 5,
  prewarmPresets: ['thumb'],
  uploadNotifications: false,
  logLevel: 'warn',
  transformSettings: { LITEPIX_QUALITY_MAX_ENCODES: '3', LITEPIX_REQUEST_TIMEOUT_MS: '30000' },
  prewarmSettings: { LITEPIX_PREWARM_FORMATS: 'avif,webp' },
};

let base: Template;
let full: Template;

beforeAll(async () => {
  base = (await synthStack({})).template as Template;
  full = (await synthStack(FULL)).template as Template;
});

/** The logical id of the only resource of `type` whose properties match `props`. */
function idOf(template: Template, type: string, props: Record<string, unknown> = {}): string {
  const found = Object.keys(template.findResources(type, { Properties: props }));
  expect(found).toHaveLength(1);
  return found[0] as string;
}

const fnByHandler = (t: Template, handler: string) =>
  idOf(t, 'AWS::Lambda::Function', { Handler: handler, Runtime: 'nodejs24.x' });
const distributionArn = (distributionId: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':cloudfront::',
      { Ref: 'AWS::AccountId' },
      ':distribution/',
      { Ref: distributionId },
    ],
  ],
});

/** The logical id of the bucket with this lifecycle rule. */
const bucketByRule = (t: Template, rule: string) =>
  idOf(t, 'AWS::S3::Bucket', {
    LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: rule })]) },
  });

/** The statements of the IAM policy attached to the role of the Lambda with this handler. */
function statementsOf(t: Template, handler: string) {
  const role = (
    t.toJSON().Resources[fnByHandler(t, handler)].Properties.Role as { 'Fn::GetAtt': [string, string] }
  )['Fn::GetAtt'][0];
  const statements = new Capture();
  t.hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: role }],
    PolicyDocument: { Statement: statements },
  });
  return statements.asArray() as Array<{ Effect: string; Action: string | string[]; Resource: unknown }>;
}

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

  it('adds timing-allow-origin and nosniff; CORS only when origins are configured', () => {
    base.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        CorsConfig: Match.absent(),
        CustomHeadersConfig: { Items: [{ Header: 'timing-allow-origin', Value: '*', Override: true }] },
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

describe('origin Lambda', () => {
  it('Node.js 24 on arm64, 2048 MB, 30 s, configured by environment', () => {
    const grammar = new Capture();
    base.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 2048,
      Timeout: 30,
      ReservedConcurrentExecutions: Match.absent(),
      Environment: {
        Variables: {
          LITEPIX_ORIGINALS_BUCKET: { Ref: Match.stringLikeRegexp('^BucketsOriginals') },
          LITEPIX_VARIANTS_BUCKET: { Ref: Match.stringLikeRegexp('^BucketsVariants') },
          LITEPIX_GRAMMAR_JSON: grammar,
          LITEPIX_LOG_LEVEL: 'info',
        },
      },
    });
    expect(JSON.parse(grammar.asString())).toEqual(resolveGrammarConfig({}));
  });

  it('CPU, memory, timeout, reserved concurrency and log level follow the config', () => {
    full.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Architectures: ['x86_64'],
      MemorySize: 3008,
      Timeout: 45,
      ReservedConcurrentExecutions: 50,
      Environment: { Variables: Match.objectLike({ LITEPIX_LOG_LEVEL: 'warn' }) },
    });
  });

  it('has an AWS_IAM, response-streaming Function URL that only this distribution may invoke', () => {
    const fn = fnByHandler(base, 'index.handler');
    const url = idOf(base, 'AWS::Lambda::Url', { AuthType: 'AWS_IAM', InvokeMode: 'RESPONSE_STREAM' });
    const distribution = idOf(base, 'AWS::CloudFront::Distribution');
    const permissions = Object.values(base.findResources('AWS::Lambda::Permission')).filter(
      (p) =>
        JSON.stringify(p.Properties.FunctionName).includes(fn) ||
        JSON.stringify(p.Properties.FunctionName).includes(url),
    );
    expect(permissions.map((p) => p.Properties)).toEqual([
      {
        Action: 'lambda:InvokeFunctionUrl',
        FunctionName: { 'Fn::GetAtt': [url, 'FunctionArn'] },
        Principal: 'cloudfront.amazonaws.com',
        SourceArn: distributionArn(distribution),
      },
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [url, 'FunctionArn'] },
        InvokedViaFunctionUrl: true,
        Principal: 'cloudfront.amazonaws.com',
        SourceArn: distributionArn(distribution),
      },
    ]);
  });

  it('may read originals and read/write variants, and write its own logs: nothing else', () => {
    const role = (
      base.toJSON().Resources[fnByHandler(base, 'index.handler')].Properties.Role as {
        'Fn::GetAtt': [string, string];
      }
    )['Fn::GetAtt'][0];
    const policies = Object.values(
      base.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }),
    );
    expect(policies).toHaveLength(1);
    const statements = policies[0]?.Properties.PolicyDocument.Statement as Array<{
      Action: unknown;
      Resource: unknown;
    }>;
    expect(statements.map((s) => [s.Action, JSON.stringify(s.Resource)])).toEqual([
      [['logs:CreateLogStream', 'logs:PutLogEvents'], expect.stringContaining('OriginLambdaLogs')],
      ['s3:GetObject', expect.stringMatching(/BucketsOriginals.*\/\*/)],
      [['s3:GetObject', 's3:PutObject'], expect.stringMatching(/BucketsVariants.*\/\*/)],
    ]);
    base.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
      }),
      ManagedPolicyArns: Match.absent(),
    });
  });
});

describe('pre-warm', () => {
  it('a queue with a dead-letter queue, SSE and a visibility timeout of six Lambda timeouts', () => {
    const dlq = idOf(base, 'AWS::SQS::Queue', { MessageRetentionPeriod: 1209600 });
    base.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 3600,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 3 },
    });
    full.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 1800,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
    });
  });

  it('the pre-warm Lambdas time out after 600 s by default (a batch of 5 job messages ≈ 230 s), configurable', () => {
    for (const handler of ['index.sqsHandler', 'index.s3Handler']) {
      base.hasResourceProperties('AWS::Lambda::Function', {
        Handler: handler,
        MemorySize: 2048,
        Timeout: 600,
      });
    }
    full.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.sqsHandler', Timeout: 300 });
  });

  it('feeds sqsHandler in configurable batches, reporting partial batch failures', () => {
    const worker = fnByHandler(base, 'index.sqsHandler');
    base.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: worker },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PrewarmQueue'), 'Arn'] },
      BatchSize: 1,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    full.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 2,
      MaximumBatchingWindowInSeconds: Match.absent(),
    });
  });

  it('the pre-warm Lambdas get the buckets, grammar, CDN base, distribution id and presets', () => {
    const distribution = idOf(base, 'AWS::CloudFront::Distribution');
    for (const handler of ['index.sqsHandler', 'index.s3Handler']) {
      base.hasResourceProperties('AWS::Lambda::Function', {
        Handler: handler,
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Environment: {
          Variables: Match.objectLike({
            LITEPIX_ORIGINALS_BUCKET: { Ref: Match.stringLikeRegexp('^BucketsOriginals') },
            LITEPIX_VARIANTS_BUCKET: { Ref: Match.stringLikeRegexp('^BucketsVariants') },
            LITEPIX_GRAMMAR_JSON: JSON.stringify(resolveGrammarConfig({})),
            LITEPIX_CDN_BASE: {
              'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distribution, 'DomainName'] }]],
            },
            LITEPIX_DISTRIBUTION_ID: { Ref: distribution },
            LITEPIX_PREWARM_PRESETS: 'thumb,mobile,full',
          }),
        },
      });
    }
    full.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.sqsHandler',
      Environment: { Variables: Match.objectLike({ LITEPIX_PREWARM_PRESETS: 'thumb' }) },
    });
  });

  it('the worker gets the results bucket, its prefix and the redrive receive count; uploads none of them', () => {
    const results = bucketByRule(base, 'expire-results');
    base.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.sqsHandler',
      Environment: {
        Variables: Match.objectLike({
          LITEPIX_RESULTS_BUCKET: { Ref: results },
          LITEPIX_RESULTS_PREFIX: 'results/',
          LITEPIX_PREWARM_MAX_RECEIVES: '3',
        }),
      },
    });
    // The same value as the queue's redrive policy (FULL: 5).
    full.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.sqsHandler',
      Environment: { Variables: Match.objectLike({ LITEPIX_PREWARM_MAX_RECEIVES: '5' }) },
    });
    const uploads = JSON.stringify(base.toJSON().Resources[fnByHandler(base, 'index.s3Handler')]);
    expect(uploads).not.toContain(results);
    expect(uploads).not.toMatch(/LITEPIX_RESULTS_|LITEPIX_PREWARM_MAX_RECEIVES/);
  });

  it('the stack sets the results variables itself: prewarmSettings may not', async () => {
    await expect(synthStack({ prewarmSettings: { LITEPIX_RESULTS_BUCKET: 'mine' } })).rejects.toThrow(
      'litepix.prewarmSettings.LITEPIX_RESULTS_BUCKET is set by the stack (it creates the results bucket), not here',
    );
    await expect(synthStack({ prewarmSettings: { LITEPIX_PREWARM_MAX_RECEIVES: '9' } })).rejects.toThrow(
      'litepix.prewarmSettings.LITEPIX_PREWARM_MAX_RECEIVES is set by litepix.prewarmMaxReceiveCount, not here',
    );
  });

  it('the worker may only put objects under results/ in the results bucket; uploads may not touch it', () => {
    const results = bucketByRule(base, 'expire-results');
    const onResults = (handler: string) =>
      statementsOf(base, handler).filter((s) => JSON.stringify(s.Resource).includes(results));
    expect(onResults('index.sqsHandler')).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [results, 'Arn'] }, '/results/*']] },
      },
    ]);
    expect(onResults('index.s3Handler')).toEqual([]);
    expect(onResults('index.handler')).toEqual([]);
    // Nor does any other policy in the stack name it.
    for (const policy of Object.values(base.findResources('AWS::IAM::Policy'))) {
      const text = JSON.stringify(policy.Properties.PolicyDocument);
      if (text.includes(results)) {
        expect(JSON.stringify(policy.Properties.Roles)).toContain('PrewarmWorkerRole');
      }
    }
  });

  it('transformSettings reach the origin and both pre-warm Lambdas, prewarmSettings only the pre-warm ones', async () => {
    const settings = (
      await synthStack({
        transformSettings: { LITEPIX_QUALITY_MAX_ENCODES: '3', LITEPIX_REQUEST_TIMEOUT_MS: '25000' },
        prewarmSettings: { LITEPIX_PREWARM_FORMATS: 'avif,webp' },
      })
    ).template as Template;
    const env = (t: Template, handler: string) => {
      const [fn] = Object.values(
        t.findResources('AWS::Lambda::Function', { Properties: { Handler: handler } }),
      );
      return (fn as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties
        .Environment.Variables;
    };
    expect(env(settings, 'index.handler')).toMatchObject({
      LITEPIX_QUALITY_MAX_ENCODES: '3',
      LITEPIX_REQUEST_TIMEOUT_MS: '25000',
    });
    expect(env(settings, 'index.handler')).not.toHaveProperty('LITEPIX_PREWARM_FORMATS');
    for (const handler of ['index.sqsHandler', 'index.s3Handler']) {
      expect(env(settings, handler)).toMatchObject({
        LITEPIX_QUALITY_MAX_ENCODES: '3',
        LITEPIX_PREWARM_FORMATS: 'avif,webp',
      });
    }
    // Without a setting, the origin's budget is its default, or less when the Lambda times out sooner.
    expect(env(base, 'index.handler')).toMatchObject({ LITEPIX_REQUEST_TIMEOUT_MS: '20000' });
    expect(env(full, 'index.handler')).toMatchObject({ LITEPIX_REQUEST_TIMEOUT_MS: '30000' });
    expect(env(base, 'index.sqsHandler')).not.toHaveProperty('LITEPIX_QUALITY_MAX_ENCODES');
  });

  it('a setting the Lambdas would refuse stops the synth with their message', async () => {
    await expect(synthStack({ transformSettings: { LITEPIX_QUALITY_DISTANCE: '9' } })).rejects.toThrow(
      'litepix.transformSettings: Invalid LITEPIX_QUALITY_DISTANCE "9": expected a number from 0.2 to 4',
    );
    await expect(
      synthStack({ prewarmSettings: { LITEPIX_PREWARM_REWRITE_PRESET: 'poster' } }),
    ).rejects.toThrow('litepix.prewarmSettings: Invalid LITEPIX_PREWARM_REWRITE_PRESET "poster"');
    await expect(
      synthStack({ prewarmSettings: { LITEPIX_INGEST_ALLOW_ADDRESSES: 'not-an-address' } }),
    ).rejects.toThrow('litepix.prewarmSettings: ');
  });

  it('S3 ObjectCreated and ObjectRemoved on the originals go to s3Handler, failures to the DLQ', () => {
    const uploads = fnByHandler(base, 'index.s3Handler');
    const dlq = idOf(base, 'AWS::SQS::Queue', { MessageRetentionPeriod: 1209600 });
    base.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.s3Handler',
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
    });
    base.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: Match.stringLikeRegexp('^BucketsOriginals') },
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          { Events: ['s3:ObjectCreated:*'], LambdaFunctionArn: { 'Fn::GetAtt': [uploads, 'Arn'] } },
          { Events: ['s3:ObjectRemoved:*'], LambdaFunctionArn: { 'Fn::GetAtt': [uploads, 'Arn'] } },
        ],
      },
    });
  });

  it('without upload notifications there is no s3Handler and no bucket notification', () => {
    full.resourceCountIs('Custom::S3BucketNotifications', 0);
    expect(
      Object.keys(
        full.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.s3Handler' } }),
      ),
    ).toEqual([]);
  });

  it('may invalidate this distribution only, and touch only the objects it needs', () => {
    const distribution = idOf(base, 'AWS::CloudFront::Distribution');
    for (const handler of ['index.sqsHandler', 'index.s3Handler']) {
      const list = statementsOf(base, handler);
      expect(list.filter((s) => JSON.stringify(s.Action).includes('cloudfront'))).toEqual([
        { Effect: 'Allow', Action: 'cloudfront:CreateInvalidation', Resource: distributionArn(distribution) },
      ]);
      const s3 = list.filter((s) => JSON.stringify(s.Action).includes('s3:'));
      expect(s3.map((s) => [s.Action, JSON.stringify(s.Resource)])).toEqual([
        ['s3:GetObject', expect.stringMatching(/BucketsOriginals.*\/\*/)],
        [['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], expect.stringMatching(/BucketsVariants.*\/\*/)],
        ['s3:ListBucket', expect.not.stringContaining('/*')],
        ...(handler === 'index.sqsHandler'
          ? [['s3:PutObject', expect.stringMatching(/BucketsResults.*\/results\/\*/)]]
          : []),
      ]);
    }
  });

  it('refuses pre-warm presets the grammar does not define', async () => {
    await expect(synthStack({ prewarmPresets: ['thumb', 'poster'] })).rejects.toThrow(
      'Invalid litepix.prewarmPresets: "poster" is not a grammar preset (have thumb, mobile, full)',
    );
  });
});

describe('operations', () => {
  it('alarms on the origin 5xx rate, Lambda errors and throttles, and a non-empty DLQ', () => {
    const origin = fnByHandler(base, 'index.handler');
    base.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      EvaluationPeriods: 2,
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(requests > 0, 100 * errors / requests, 0)' }),
        Match.objectLike({
          Id: 'errors',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: 'Url5xxCount',
              Dimensions: [{ Name: 'FunctionName', Value: { Ref: origin } }],
            }),
          }),
        }),
      ]),
    });
    for (const fn of ['index.handler', 'index.sqsHandler', 'index.s3Handler']) {
      for (const metric of ['Errors', 'Throttles']) {
        base.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: metric,
          Namespace: 'AWS/Lambda',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnByHandler(base, fn) } }],
          Threshold: 1,
        });
      }
    }
    base.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PrewarmDeadLetters'), 'QueueName'] },
        },
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    base.resourceCountIs('AWS::CloudWatch::Alarm', 8);
    base.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    // Without a topic configured, alarms notify no one (they show on the dashboard).
    for (const alarm of Object.values(base.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toBeUndefined();
    }
    base.resourceCountIs('AWS::SNS::Topic', 0);
  });

  it('alarms tell the e-mail topic and an existing topic when they fire and when they clear', async () => {
    const existing = 'arn:aws:sns:us-east-1:123456789012:pager';
    const t = (
      await synthStack({ alarmEmails: ['ops@example.com', 'oncall@example.com'], alarmTopicArn: existing })
    ).template as Template;
    const topic = idOf(t, 'AWS::SNS::Topic');
    for (const email of ['ops@example.com', 'oncall@example.com']) {
      t.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: email,
        TopicArn: { Ref: topic },
      });
    }
    // enforceSSL: the topic policy refuses non-TLS publishing.
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      }),
    });
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(8);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }, existing]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topic }, existing]);
    }
  });

  it('outputs the distribution domain, bucket names and queue URLs', () => {
    base.hasOutput('DistributionDomainName', {
      Value: { 'Fn::GetAtt': [idOf(base, 'AWS::CloudFront::Distribution'), 'DomainName'] },
    });
    base.hasOutput('OriginalsBucketName', { Value: { Ref: Match.stringLikeRegexp('^BucketsOriginals') } });
    base.hasOutput('VariantsBucketName', { Value: { Ref: Match.stringLikeRegexp('^BucketsVariants') } });
    base.hasOutput('ResultsBucketName', { Value: { Ref: bucketByRule(base, 'expire-results') } });
    base.hasOutput('PrewarmQueueUrl', { Value: { Ref: Match.stringLikeRegexp('^PrewarmQueue') } });
    base.hasOutput('DeadLetterQueueUrl', {
      Value: { Ref: idOf(base, 'AWS::SQS::Queue', { MessageRetentionPeriod: 1209600 }) },
    });
    expect(Object.keys(base.findOutputs('SigningKeyValueStoreArn'))).toEqual([]);
  });
});
