/**
 * The pre-warm runtime, assembled once from its typed configuration: log, S3 client and store,
 * transformer, the pre-warmer (and the S3-event one, which always auto-detects references), the
 * CloudFront invalidator, the results store of the queue path. The SQS and S3-event Lambdas and `litepix prewarm` build it here.
 */
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Log } from '../origin-fn/log.ts';
import { createRuntimeBase, type RuntimeOptions } from '../origin-fn/runtime.ts';
import type { PrewarmConfig } from './config.ts';
import { createCloudFrontInvalidator, type Invalidator } from './invalidation.ts';
import { createS3PrewarmStore, type PrewarmStore } from './prewarm-store.ts';
import { createPrewarmer, createPrewarmLimiters, type Prewarmer } from './prewarmer.ts';
import { createResultsStore, type ResultsStore } from './results.ts';

export interface PrewarmRuntime {
  config: PrewarmConfig;
  client: S3Client;
  store: PrewarmStore;
  prewarmer: Prewarmer;
  /** One more pre-warmer sharing the first one's limiters (a worker's lanes: batches in parallel, CPU as configured). */
  lane(): Prewarmer;
  /** For S3 events: units it makes itself, so auto-detection whatever the selectors say. */
  eventPrewarmer: Prewarmer;
  invalidator: Invalidator | undefined;
  /** The queue path's results (LITEPIX_RESULTS_BUCKET), over the same client. */
  results: ResultsStore | undefined;
  log: Log;
}

export function createPrewarmRuntime(config: PrewarmConfig, options: RuntimeOptions = {}): PrewarmRuntime {
  const { log, client, transformer, storeOptions } = createRuntimeBase(config, options);
  const store = createS3PrewarmStore(storeOptions);
  const settings = { ...config, s3Endpoint: config.endpoint };
  const limiters = createPrewarmLimiters(config.concurrency);
  const lane = () => createPrewarmer({ store, transformer, settings, log, limiters });
  const prewarmer = lane();
  const eventPrewarmer = createPrewarmer({
    store,
    transformer,
    settings: { ...settings, selectors: [] },
    log,
  });
  const invalidator = config.distributionId
    ? createCloudFrontInvalidator({
        client: new CloudFrontClient({ region: 'us-east-1' }),
        distributionId: config.distributionId,
        version: config.grammar.version,
      })
    : undefined;
  const results = config.resultsBucket
    ? createResultsStore({ client, bucket: config.resultsBucket, prefix: config.resultsPrefix })
    : undefined;
  return { config, client, store, prewarmer, lane, eventPrewarmer, invalidator, results, log };
}
