/**
 * Pre-warm: an SQS queue (with a dead-letter queue) feeding the pre-warm Lambda
 * (prewarm/lambda.ts `sqsHandler`, partial batch failures reported), and optionally S3
 * notifications on the originals bucket to `s3Handler` from the same asset: ObjectCreated
 * makes the default presets, ObjectRemoved (also fired before a replace's new ObjectCreated)
 * deletes that original's variants and invalidates their CloudFront paths. The SQS worker writes
 * the results of job messages to the results bucket (prewarm/results.ts), and may only put
 * objects under its prefix there; the S3-event Lambda has no access to it.
 */
import { Duration } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_RESULTS_PREFIX } from '../../prewarm/results.ts';
import type { StackConfig } from './config.ts';
import { LitepixFunction } from './lambda-function.ts';

export interface PrewarmProps {
  code: lambda.Code;
  config: StackConfig;
  originals: s3.IBucket;
  variants: s3.IBucket;
  /** Where the worker writes job results (Buckets.results). */
  results: s3.IBucket;
  distribution: cloudfront.IDistribution;
  /** https://<CDN domain>: where pre-warm requests variants so they reach the edge caches. */
  cdnBase: string;
  grammarJson: string;
}

export class Prewarm extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetters: sqs.Queue;
  readonly worker: lambda.Function;
  readonly uploads: lambda.Function | undefined;

  constructor(scope: Construct, id: string, props: PrewarmProps) {
    super(scope, id);
    const { config } = props;
    const queueProtections = { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true };
    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      ...queueProtections,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...queueProtections,
      // AWS's advice for Lambda consumers: at least six times the function timeout.
      visibilityTimeout: Duration.seconds(config.prewarmTimeoutSeconds * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: config.prewarmMaxReceiveCount },
    });
    const environment = {
      ...config.transformSettings,
      ...config.prewarmSettings,
      LITEPIX_ORIGINALS_BUCKET: props.originals.bucketName,
      LITEPIX_VARIANTS_BUCKET: props.variants.bucketName,
      LITEPIX_GRAMMAR_JSON: props.grammarJson,
      LITEPIX_CDN_BASE: props.cdnBase,
      LITEPIX_DISTRIBUTION_ID: props.distribution.distributionId,
      LITEPIX_PREWARM_PRESETS: config.prewarmPresets.join(','),
      LITEPIX_LOG_LEVEL: config.logLevel,
    };
    const common = {
      code: props.code,
      memoryMb: config.prewarmMemoryMb,
      timeoutSeconds: config.prewarmTimeoutSeconds,
      environment,
      config,
    };
    this.worker = new LitepixFunction(this, 'Worker', {
      ...common,
      environment: {
        ...environment,
        LITEPIX_RESULTS_BUCKET: props.results.bucketName,
        // Set, not left to the Lambda's default: the grant below covers this prefix only.
        LITEPIX_RESULTS_PREFIX: DEFAULT_RESULTS_PREFIX,
        // The redrive's own count: on that receive a failing job message writes its failures
        // before SQS dead-letters it.
        LITEPIX_PREWARM_MAX_RECEIVES: String(config.prewarmMaxReceiveCount),
      },
      handler: 'index.sqsHandler',
      description: 'litepix pre-warm: makes the variants of queued Data Units',
    }).fn;
    this.worker.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: config.prewarmBatchSize,
        maxBatchingWindow:
          config.prewarmBatchWindowSeconds > 0
            ? Duration.seconds(config.prewarmBatchWindowSeconds)
            : undefined,
        reportBatchItemFailures: true,
      }),
    );
    this.uploads = config.uploadNotifications
      ? new LitepixFunction(this, 'Uploads', {
          ...common,
          handler: 'index.s3Handler',
          description: 'litepix uploads: pre-warms new originals, cleans up replaced and deleted ones',
          // S3 invokes asynchronously: events that still fail after Lambda's retries land here.
          deadLetterQueue: this.deadLetters,
        }).fn
      : undefined;
    if (this.uploads) {
      const destination = new LambdaDestination(this.uploads);
      props.originals.addEventNotification(s3.EventType.OBJECT_CREATED, destination);
      props.originals.addEventNotification(s3.EventType.OBJECT_REMOVED, destination);
    }
    for (const fn of [this.worker, this.uploads]) {
      if (!fn) continue;
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [props.originals.arnForObjects('*')],
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
          resources: [props.variants.arnForObjects('*')],
        }),
      );
      // Listing finds an original's variants (prefix v<n>/<key>/) to delete them.
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.variants.bucketArn] }),
      );
      props.distribution.grantCreateInvalidation(fn);
    }
    // Results are written whole in one PUT per message (a redelivery overwrites): the worker
    // never reads, lists or deletes them; clients collect them with their own credentials.
    this.worker.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [props.results.arnForObjects(`${DEFAULT_RESULTS_PREFIX}*`)],
      }),
    );
  }
}
