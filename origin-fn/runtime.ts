/**
 * The origin's runtime, assembled once (per cold start, per `litepix dev`, per test) from its
 * typed configuration: the log, the S3 client and store, the transformer and the handler. The
 * Lambda, the dev stack and the tests all build the origin here, so a setting means the same
 * everywhere (the dev stack reads the same LITEPIX_* transform settings as the Lambda).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { OriginConfig } from './config.ts';
import type { ImageStore } from './image-store.ts';
import { createLog, type Log, storeLog } from './log.ts';
import { createOriginHandler, type OriginHandler } from './origin-handler.ts';
import { createS3Client, type S3ClientOptions } from './s3-client.ts';
import { createS3Store, type S3StoreOptions } from './s3-store.ts';
import { createTransformer } from './transform/index.ts';
import type { Transformer } from './transform/types.ts';

export interface RuntimeOptions {
  /** Static credentials (the local s3rver's); default: the AWS provider chain. */
  credentials?: S3ClientOptions['credentials'];
  /** A log to use instead of one at the config's level. */
  log?: Log | undefined;
}

export interface OriginRuntime {
  config: OriginConfig;
  log: Log;
  client: S3Client;
  store: ImageStore;
  /** What the store was built from (for another store over the same client: the dev stack's). */
  storeOptions: S3StoreOptions;
  transformer: Transformer;
  handler: OriginHandler;
}

function createS3ClientFor(config: OriginConfig, options: RuntimeOptions = {}): S3Client {
  return createS3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: !!config.endpoint,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
}

export interface RuntimeBase {
  log: Log;
  client: S3Client;
  transformer: Transformer;
  /** What either S3 store (the origin's, pre-warm's) is built from. */
  storeOptions: S3StoreOptions;
}

/** What every role shares: its log, its S3 client and store options, its transformer, from one configuration. */
export function createRuntimeBase(config: OriginConfig, options: RuntimeOptions = {}): RuntimeBase {
  const log = options.log ?? createLog({ level: config.logLevel });
  const client = createS3ClientFor(config, options);
  return {
    log,
    client,
    transformer: createTransformer(config.limits, { ladder: config.grammar.ladder }),
    storeOptions: {
      client,
      originalsBucket: config.originalsBucket,
      variantsBucket: config.variantsBucket,
      log: storeLog(log),
    },
  };
}

export function createOriginRuntime(config: OriginConfig, options: RuntimeOptions = {}): OriginRuntime {
  const { log, client, transformer, storeOptions } = createRuntimeBase(config, options);
  const store = createS3Store(storeOptions);
  const handler = createOriginHandler({
    store,
    transformer,
    grammar: config.grammar,
    limits: config.limits,
    requestTimeoutMs: config.requestTimeoutMs,
    log,
  });
  return { config, log, client, store, storeOptions, transformer, handler };
}
