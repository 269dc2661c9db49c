/** A real origin over a real s3rver: the handler as Lambda builds it, minus the runtime. */
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DEFAULT_GRAMMAR_CONFIG } from '../../edge-fn/grammar/index.ts';
import type { ImageStore } from '../../origin-fn/image-store.ts';
import { createLog, storeLog } from '../../origin-fn/log.ts';
import { createOriginHandler, type OriginHandler } from '../../origin-fn/origin-handler.ts';
import { createS3Store } from '../../origin-fn/s3-store.ts';
import { createTransformer, DEFAULT_LIMITS, type TransformLimits } from '../../origin-fn/transform/index.ts';
import type { Transformer } from '../../origin-fn/transform/types.ts';
import { createS3rverClient, type S3rverHandle, startS3rver } from './s3rver.ts';

export const ORIGINALS = 'litepix-originals';
export const VARIANTS = 'litepix-variants';

export interface OriginStack {
  s3: S3rverHandle;
  store: ImageStore;
  origin: OriginHandler;
  putOriginal(key: string, bytes: Buffer, contentType?: string): Promise<void>;
  variantKeys(): Promise<string[]>;
  /** A second handler on the same store with other limits or transformer. */
  withOptions(options: HandlerOptions): OriginHandler;
  stop(): Promise<void>;
}

export interface HandlerOptions {
  limits?: TransformLimits;
  transformer?: Transformer;
  /** One attempt, short client timeouts: faults show at once. */
  fastFail?: boolean;
  /** Reach the store through another endpoint (e.g. a proxy in front of s3rver). */
  endpoint?: string;
  requestTimeoutMs?: number;
  /** Wraps the store the handler gets (to watch its calls). */
  wrapStore?: (store: ImageStore) => ImageStore;
}

export async function startOriginStack(): Promise<OriginStack> {
  const s3 = await startS3rver({ buckets: [ORIGINALS, VARIANTS] });
  const log = createLog({ level: 'silent' });
  const clients: Array<{ destroy(): void }> = [];
  const makeStore = (fastFail: boolean, endpoint?: string) =>
    createS3Store({
      client:
        fastFail || endpoint
          ? track(
              createS3rverClient(
                endpoint ?? s3.endpoint,
                fastFail ? { maxAttempts: 1, connectTimeoutMs: 300, requestTimeoutMs: 1000 } : {},
              ),
            )
          : s3.client,
      originalsBucket: ORIGINALS,
      variantsBucket: VARIANTS,
      log: storeLog(log),
    });
  function track<T extends { destroy(): void }>(client: T): T {
    clients.push(client);
    return client;
  }
  const store = makeStore(false);
  const build = (options: HandlerOptions) => {
    const limits = options.limits ?? DEFAULT_LIMITS;
    return createOriginHandler({
      store: (options.wrapStore ?? ((s: ImageStore) => s))(
        options.fastFail || options.endpoint ? makeStore(!!options.fastFail, options.endpoint) : store,
      ),
      transformer: options.transformer ?? createTransformer(limits),
      grammar: DEFAULT_GRAMMAR_CONFIG,
      limits,
      log,
      requestTimeoutMs: options.requestTimeoutMs,
    });
  };
  return {
    s3,
    store,
    origin: build({}),
    withOptions: build,
    async putOriginal(key, bytes, contentType = 'application/octet-stream') {
      await s3.client.send(
        new PutObjectCommand({ Bucket: ORIGINALS, Key: key, Body: bytes, ContentType: contentType }),
      );
    },
    async variantKeys() {
      const out = await s3.client.send(new ListObjectsV2Command({ Bucket: VARIANTS }));
      return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
    },
    async stop() {
      for (const client of clients) client.destroy();
      await s3.stop();
    },
  };
}
