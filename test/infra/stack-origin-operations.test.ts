import { Capture, Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { resolveGrammarConfig } from '../../edge-fn/grammar/resolve-config.ts';
import { bucketByRule, distributionArn, fnByHandler, idOf, templates } from './stack-helpers.ts';
import { synthStack } from './synth.ts';

// Synthesized once for this file, before its tests are collected.
const { base, full } = await templates();

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
