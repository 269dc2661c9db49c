import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { resolveGrammarConfig } from '../../edge-fn/grammar/resolve-config.ts';
import {
  bucketByRule,
  distributionArn,
  fnByHandler,
  idOf,
  statementsOf,
  templates,
} from './stack-helpers.ts';
import { synthStack } from './synth.ts';

// Synthesized once for this file, before its tests are collected.
const { base, full } = await templates();

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
