/**
 * cdk-nag AwsSolutions findings this stack acknowledges on purpose, each with its reason, on
 * the narrowest construct that raises it. Everything else must pass: test/infra/nag.test.ts
 * runs AwsSolutionsChecks on several configurations and fails on any other finding.
 */
import { type CfnElement, type Stack, Validations } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { DEFAULT_RESULTS_PREFIX } from '../../prewarm/results.ts';
import type { Buckets } from './buckets.ts';
import type { StackConfig } from './config.ts';

export interface NagParts {
  config: StackConfig;
  buckets: Buckets;
  distribution: cloudfront.Distribution;
  /** Every litepix Lambda (origin, pre-warm worker, uploads). */
  functions: lambda.Function[];
  /** The Lambda that writes job results (the pre-warm worker). */
  resultsWriter: lambda.Function;
}

function ack(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${id}`, reason });
}

/** The `<LogicalId.Arn>` form cdk-nag writes for a resource's ARN in an IAM5 finding. */
function arnOf(stack: Stack, scope: IConstruct): string {
  return `<${stack.getLogicalId(scope.node.defaultChild as CfnElement)}.Arn>`;
}

export function acknowledgeNagFindings(stack: Stack, parts: NagParts): void {
  const { config, buckets, distribution } = parts;
  const ownBuckets: s3.IBucket[] = [buckets.variants];
  if (!config.originalsBucketName) ownBuckets.push(buckets.originals);
  for (const bucket of ownBuckets) {
    ack(
      bucket,
      'S1',
      'Only CloudFront (Origin Access Control) and litepix Lambdas touch this bucket; viewer requests are in ' +
        'CloudFront standard logs (litepix.accessLogs) and the Lambdas log every object they read or write. ' +
        'S3 server access logs would add a bucket and a cost per request without new information.',
    );
  }
  ack(
    buckets.results,
    'S1',
    'Only the pre-warm worker writes here (one PUT per job message, counted in its batch log) and clients read ' +
      'their jobs with their own IAM credentials, which CloudTrail data events can record; S3 server access ' +
      'logs would add a bucket and a cost per request without new information.',
  );
  if (buckets.logs) {
    ack(buckets.logs, 'S1', 'This is the log bucket itself: logging its own access would log the logging.');
  }

  for (const fn of parts.functions) {
    const policy = fn.role?.node.tryFindChild('DefaultPolicy');
    if (!policy) continue;
    const logGroup = fn.node.scope?.node.tryFindChild('Logs');
    if (logGroup) {
      ack(
        policy,
        `IAM5[Resource::${arnOf(stack, logGroup)}:log-stream:*]`,
        "Lambda names its log streams at run time; the wildcard stays inside this function's own log group.",
      );
    }
    for (const bucket of [buckets.originals, buckets.variants]) {
      const arn = bucket.node.defaultChild
        ? `${arnOf(stack, bucket)}/*`
        : `arn:<AWS::Partition>:s3:::${bucket.bucketName}/*`;
      ack(
        policy,
        `IAM5[Resource::${arn}]`,
        "Object keys are the users' image paths (and variant keys derived from them), unknown at deploy time; " +
          'the grant is limited to the object actions the function needs in this one bucket.',
      );
    }
  }

  const writerPolicy = parts.resultsWriter.role?.node.tryFindChild('DefaultPolicy');
  if (writerPolicy) {
    ack(
      writerPolicy,
      `IAM5[Resource::${arnOf(stack, buckets.results)}/${DEFAULT_RESULTS_PREFIX}*]`,
      'Results keys hold job ids and unit ranges chosen at run time (results/<job>/<first>-<last>.ndjson); ' +
        'the grant is s3:PutObject only, under that one prefix of the results bucket.',
    );
  }

  // CDK's own custom resource that configures S3 event notifications (aws-cdk-lib owns its role).
  for (const child of stack.node.children) {
    if (!child.node.id.startsWith('BucketNotificationsHandler')) continue;
    ack(
      child,
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "aws-cdk-lib's BucketNotificationsHandler custom resource: its role and managed policy are fixed by CDK " +
        "and it only runs during deployments to set the originals bucket's notifications.",
    );
  }

  ack(
    distribution,
    'CFR1',
    'Images are public content served worldwide; a geo restriction is a business decision left to the deployer.',
  );
  ack(
    distribution,
    'CFR2',
    'Malformed, unsigned (when signing is on) and out-of-range requests are refused by the viewer function before ' +
      'any origin work, and the grammar bounds the variants per image. A web ACL costs at least $5/month plus ' +
      '$0.60 per million requests; attach one if you need rate limiting.',
  );
  if (!config.accessLogs) {
    ack(
      distribution,
      'CFR3',
      'Standard logs are opt-in (litepix.accessLogs: true) since they cost storage per request; the dashboard and ' +
        'alarms cover operations without them.',
    );
  }
  if (!config.certificateArn) {
    ack(
      distribution,
      'CFR4',
      'With the default *.cloudfront.net certificate CloudFront fixes the viewer security policy at TLSv1; a custom ' +
        'domain (litepix.domainNames + certificateArn) gets TLSv1.2_2021.',
    );
  }
}
