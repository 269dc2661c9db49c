/**
 * The local stack (`npm start` = `litepix dev`): s3rver holding the buckets (originals,
 * variants, results) under the data dir, the origin behind a Node HTTP adapter, the built
 * viewer-request bundle inside miniflare (workerd) as the CDN, and the queue path: fauxqs with
 * the pre-warm work queue and its dead-letter queue, and one worker in this process (the same
 * code as `litepix worker` and the SQS Lambda). Everything binds 127.0.0.1.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Miniflare } from 'miniflare';
import S3rver from 's3rver';
import { readOriginConfig } from '../origin-fn/config.ts';
import { createOriginServer } from '../origin-fn/http-adapter.ts';
import { createOriginRuntime } from '../origin-fn/runtime.ts';
import type { createS3Client } from '../origin-fn/s3-client.ts';
import { contentTypeOfName } from '../origin-fn/transform/formats.ts';
import { readPrewarmConfig } from '../prewarm/config.ts';
import { createS3PrewarmStore } from '../prewarm/prewarm-store.ts';
import { startRuntimeWorker } from '../prewarm/queue-worker.ts';
import { createPrewarmRuntime } from '../prewarm/runtime.ts';
import { createSqsClient, queueFacts } from '../prewarm/sqs-client.ts';
import { buildViewerBundle, readEdgeConfig } from '../scripts/build.ts';
import { closeServer, type FrontDecision, startFront } from './local-front.ts';
import { createOriginalsSync } from './local-originals-sync.ts';
import { S3_CREDENTIALS } from './local-s3.ts';
import { guardLocalS3 } from './local-s3-guard.ts';
import { startLocalQueues } from './local-sqs.ts';
import { createPlaygroundRoutes } from './playground.ts';
import { DEFAULT_RESULTS_BUCKET, DEFAULT_SQS_PORT, removeStackFile, writeStackFile } from './stack-file.ts';

export { S3_CREDENTIALS };

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';
/** The host of the local CDN's cache keys (Cache API), `<CACHE_HOST>/<variant URI>`. */
const CACHE_HOST = 'http://litepix-dev.cache';

export interface DevOptions {
  port: number;
  s3Port: number;
  dataDir: string;
  originalsBucket: string;
  variantsBucket: string;
  /** Seed examples/images into an empty originals bucket. */
  seed: boolean;
  logLevel: string;
  /** Port of the local queue server (fauxqs). Default 4570; 0 = any free port. */
  sqsPort?: number | undefined;
  resultsBucket?: string | undefined;
  /** Run one pre-warm worker in this process (default true). */
  worker?: boolean | undefined;
  /** The work queue's visibility timeout (default 60 s) and maxReceiveCount (default 3). */
  queueVisibilitySeconds?: number | undefined;
  maxReceiveCount?: number | undefined;
}

/**
 * A throwaway stack's options (tests, benchmarks): any free ports, a new temp data dir, the
 * default buckets, seeded, silent.
 */
export function throwawayDevOptions(overrides: Partial<DevOptions> = {}): DevOptions {
  return {
    port: 0,
    s3Port: 0,
    sqsPort: 0,
    originalsBucket: 'litepix-originals',
    variantsBucket: 'litepix-variants',
    seed: true,
    logLevel: 'silent',
    ...overrides,
    dataDir: overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'litepix-stack-')),
  };
}

export interface DevStack {
  url: string;
  s3Endpoint: string;
  originUrl: string;
  queueUrl: string;
  deadLetterQueueUrl: string;
  resultsBucket: string;
  seeded: string[];
  stop(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, HOST, () => ok((server.address() as AddressInfo).port));
  });
}

export async function startDevStack(options: DevOptions): Promise<DevStack> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    const resultsBucket = options.resultsBucket ?? DEFAULT_RESULTS_BUCKET;
    const s3Dir = resolve(options.dataDir, 's3');
    await mkdir(s3Dir, { recursive: true });
    const s3rver = new S3rver({
      address: HOST,
      port: 0,
      silent: true,
      directory: s3Dir,
      configureBuckets: [
        { name: options.originalsBucket },
        { name: options.variantsBucket },
        { name: resultsBucket },
      ],
    });
    const s3Address = await s3rver.run();
    cleanups.push(() => s3rver.close());
    // s3rver answers anyone; the stack's S3 port is a door that checks signatures first, and
    // brings the variants up to date with a replaced or deleted original before it answers.
    let syncOriginal: ((req: IncomingMessage) => Promise<void>) | undefined;
    const s3Door = await startFront({
      port: options.s3Port,
      name: 'the local S3',
      portSetting: '--s3-port or LITEPIX_S3_PORT',
      target: `http://${HOST}:${s3Address.port}`,
      decide: (req) => guardLocalS3(req, { publicReadBucket: options.variantsBucket }),
      settle: async (req) => syncOriginal?.(req),
    });
    cleanups.push(() => closeServer(s3Door.server));
    const s3Endpoint = s3Door.url;

    // The origin is assembled as the Lambda's is, from the same LITEPIX_* settings (limits,
    // q=auto, request budget), pointed at the local S3.
    const localEnv = {
      ...process.env,
      AWS_ENDPOINT_URL_S3: s3Endpoint,
      AWS_REGION: 'us-east-1',
      LITEPIX_ORIGINALS_BUCKET: options.originalsBucket,
      LITEPIX_VARIANTS_BUCKET: options.variantsBucket,
      LITEPIX_LOG_LEVEL: options.logLevel,
    };
    const config = readOriginConfig(localEnv);
    const {
      client,
      log,
      transformer,
      storeOptions,
      handler: origin,
    } = createOriginRuntime(config, {
      credentials: S3_CREDENTIALS,
    });
    cleanups.push(async () => client.destroy());
    const edgeConfig = readEdgeConfig();

    const seeded = options.seed ? await seed(client, options.originalsBucket) : [];
    const originServer = createOriginServer(
      origin,
      createPlaygroundRoutes({
        client,
        s3Endpoint,
        originalsBucket: options.originalsBucket,
        variantsBucket: options.variantsBucket,
        limits: config.limits,
        edge: edgeConfig,
        transformer,
        log,
      }),
    );
    const originPort = await listen(originServer, 0);
    cleanups.push(() => new Promise((ok) => originServer.close(ok)));
    const originUrl = `http://${HOST}:${originPort}`;

    const bundlePath = join(options.dataDir, 'viewer-request.js');
    await buildViewerBundle(edgeConfig, bundlePath);
    const worker = readFileSync(resolve(root, 'edge-fn/local-cdn-worker.js'), 'utf8');
    const mf = new Miniflare({
      modules: true,
      script: `${readFileSync(bundlePath, 'utf8')}\n${worker}`,
      compatibilityDate: '2025-01-01',
      // node:crypto for the signed bundle's require('crypto'), as CloudFront's runtime has it.
      compatibilityFlags: ['nodejs_compat'],
      host: HOST,
      port: 0,
      bindings: {
        VARIANTS_URL: `${s3Endpoint}/${options.variantsBucket}`,
        ORIGIN_URL: originUrl,
        CACHE_HOST,
      },
      cachePersist: join(options.dataDir, 'cache'),
    });
    cleanups.push(() => mf.dispose());
    const workerUrl = (await mf.ready).origin.replace('localhost', HOST);
    syncOriginal = createOriginalsSync({
      store: createS3PrewarmStore(storeOptions),
      originalsBucket: options.originalsBucket,
      grammar: config.grammar,
      purge: async (uris) => {
        // miniflare types CacheStorage from the Workers types, which this Node project lacks.
        const caches = (await mf.getCaches()) as unknown as {
          default: { delete(url: string): Promise<boolean> };
        };
        for (const uri of uris) await caches.default.delete(`${CACHE_HOST}${uri}`);
      },
      log,
    });
    const front = await startFront({
      port: options.port,
      name: 'the local CDN',
      portSetting: '--port or PORT (npm start -- --port 8081)',
      target: workerUrl,
      decide: rawPathHeader,
    });
    cleanups.push(() => closeServer(front.server));
    const url = front.url;

    const queues = await startLocalQueues({
      port: options.sqsPort ?? DEFAULT_SQS_PORT,
      visibilityTimeoutSeconds: options.queueVisibilitySeconds,
      maxReceiveCount: options.maxReceiveCount,
    });
    cleanups.push(() => queues.stop());
    if (options.worker !== false) {
      const stopWorker = await startLocalWorker({
        env: { ...localEnv, LITEPIX_RESULTS_BUCKET: resultsBucket, LITEPIX_CDN_BASE: url },
        queueUrl: queues.queueUrl,
        signingSecret: edgeConfig.secrets[0],
      });
      cleanups.push(stopWorker);
    }
    const stackFile = {
      url,
      s3Endpoint,
      queueUrl: queues.queueUrl,
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
      resultsBucket,
    };
    writeStackFile(options.dataDir, stackFile);
    cleanups.push(async () => removeStackFile(options.dataDir));
    return { ...stackFile, originUrl, seeded, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One pre-warm worker over the local stack (one lane: the stack shares the machine with the origin). */
async function startLocalWorker(options: {
  env: Record<string, string | undefined>;
  queueUrl: string;
  signingSecret: string | undefined;
}): Promise<() => Promise<void>> {
  const sqs = createSqsClient(options.queueUrl);
  const facts = await queueFacts(sqs, options.queueUrl);
  const config = readPrewarmConfig({
    ...options.env,
    LITEPIX_PREWARM_MAX_RECEIVES: String(facts.maxReceiveCount ?? 3),
  });
  config.signingSecret ??= options.signingSecret;
  const runtime = createPrewarmRuntime(config, { credentials: S3_CREDENTIALS });
  const worker = startRuntimeWorker({
    runtime,
    sqs,
    queueUrl: options.queueUrl,
    facts,
    lanes: 1,
    batchSize: 5,
  });
  return async () => {
    await worker.stop();
    sqs.destroy();
    runtime.client.destroy();
  };
}

/**
 * The path as the viewer sent it, for the CDN worker (workerd would normalise `.`/`..` away;
 * CloudFront hands the function the raw one). Only origin-form targets, as CloudFront takes.
 */
function rawPathHeader(req: IncomingMessage): FrontDecision {
  const target = req.url ?? '';
  if (!target.startsWith('/')) {
    return {
      refuse: {
        status: 400,
        code: 'IMG_BAD_PATH',
        message: 'Invalid request target: expected a path starting with "/"',
      },
    };
  }
  const q = target.indexOf('?');
  return { headers: { 'x-litepix-raw-path': q < 0 ? target : target.slice(0, q) } };
}

async function seed(client: ReturnType<typeof createS3Client>, bucket: string): Promise<string[]> {
  const dir = resolve(root, 'examples/images');
  const keys: string[] = [];
  for (const file of readdirSync(dir).sort()) {
    const type = contentTypeOfName(file);
    if (!type) continue;
    const key = `samples/${file}`;
    keys.push(key);
    const exists = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: readFileSync(join(dir, file)),
          ContentType: type,
        }),
      );
    }
  }
  return keys;
}
