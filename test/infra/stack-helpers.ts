/**
 * What the stack tests share: the two synthesized templates (the defaults, and FULL with every
 * optional part switched on or changed), synthesized once per test file, and lookups into them.
 */
import { Capture, Match, type Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';
import { synthStack } from './synth.ts';

export const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';
/** Every optional part switched on or changed, so each prop is seen reaching the template. */
export const FULL = {
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

let synthesized: Promise<{ base: Template; full: Template }> | undefined;

/** The default stack's template and FULL's, synthesized on first use (once per test file). */
export function templates(): Promise<{ base: Template; full: Template }> {
  synthesized ??= (async () => ({
    base: (await synthStack({})).template as Template,
    full: (await synthStack(FULL)).template as Template,
  }))();
  return synthesized;
}

/** The logical id of the only resource of `type` whose properties match `props`. */
export function idOf(template: Template, type: string, props: Record<string, unknown> = {}): string {
  const found = Object.keys(template.findResources(type, { Properties: props }));
  expect(found).toHaveLength(1);
  return found[0] as string;
}

export const fnByHandler = (t: Template, handler: string) =>
  idOf(t, 'AWS::Lambda::Function', { Handler: handler, Runtime: 'nodejs24.x' });
export const distributionArn = (distributionId: string) => ({
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
export const bucketByRule = (t: Template, rule: string) =>
  idOf(t, 'AWS::S3::Bucket', {
    LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: rule })]) },
  });

/** The statements of the IAM policy attached to the role of the Lambda with this handler. */
export function statementsOf(t: Template, handler: string) {
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
