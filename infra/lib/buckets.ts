/**
 * The originals bucket (created, or an existing one by name), the variants bucket and the
 * results bucket of the pre-warm queue path: private, Block Public Access, SSE-S3, TLS only.
 * Variants and results expire (variants are made again on a miss; results are read once by
 * the client that sent the job) and incomplete multipart uploads are aborted.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { StackConfig } from './config.ts';

export class Buckets extends Construct {
  readonly originals: s3.IBucket;
  readonly variants: s3.Bucket;
  /** The queue path's results: `results/<job>/<first>-<last>.ndjson` and `job.json` (prewarm/results.ts). */
  readonly results: s3.Bucket;
  /** CloudFront standard logs (only with config.accessLogs). */
  readonly logs: s3.Bucket | undefined;

  constructor(scope: Construct, id: string, config: StackConfig) {
    super(scope, id);
    const protections = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    };
    this.originals = config.originalsBucketName
      ? s3.Bucket.fromBucketName(this, 'Originals', config.originalsBucketName)
      : new s3.Bucket(this, 'Originals', {
          ...protections,
          // The originals are the users' data: never deleted with the stack.
          removalPolicy: RemovalPolicy.RETAIN,
        });
    this.variants = new s3.Bucket(this, 'Variants', {
      ...protections,
      // Kept when the stack is deleted (CloudFormation cannot delete a non-empty bucket);
      // empty it by hand if you want it gone: variants are made again on the next miss.
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-variants',
          expiration: Duration.days(config.variantsExpirationDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    // A bucket of its own, not a prefix of the variants bucket: the variants bucket is
    // CloudFront's origin (any key in it can be requested through the CDN, and its bucket
    // policy lets the distribution read every object), while results hold the clients' own
    // Data Units, rewritten, and must never be reachable through the CDN. Nothing grants
    // CloudFront access here. Results also have their own lifecycle: kept
    // resultsRetentionDays for the client to collect, not variantsExpirationDays.
    this.results = new s3.Bucket(this, 'Results', {
      ...protections,
      // Kept when the stack is deleted, like the other data buckets (CloudFormation cannot
      // delete a non-empty bucket); objects still expire, so it empties itself.
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-results',
          expiration: Duration.days(config.resultsRetentionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    this.logs = config.accessLogs
      ? new s3.Bucket(this, 'AccessLogs', {
          ...protections,
          // CloudFront standard logging writes with ACLs (the awslogsdelivery account).
          objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
          removalPolicy: RemovalPolicy.RETAIN,
          lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(config.logRetentionDays) }],
        })
      : undefined;
  }
}
