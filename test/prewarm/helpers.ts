/** A pre-warmer over a real s3rver (both buckets), with small settings that keep tests fast. */
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DEFAULT_GRAMMAR_CONFIG } from '../../edge-fn/grammar/index.ts';
import { createLog } from '../../origin-fn/log.ts';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import type { Transformer } from '../../origin-fn/transform/types.ts';
import type { Resolver } from '../../prewarm/ingest.ts';
import { createS3PrewarmStore, type PrewarmStore } from '../../prewarm/prewarm-store.ts';
import {
  createPrewarmer,
  type InputItem,
  type Prewarmer,
  type PrewarmSettings,
} from '../../prewarm/prewarmer.ts';
import type { Totals, UnitResult } from '../../prewarm/types.ts';
import { type S3rverHandle, startS3rver } from '../helpers/s3rver.ts';

export const ORIGINALS = 'litepix-originals';
export const VARIANTS = 'litepix-variants';
export const CDN = 'https://cdn.example.test';

export function testSettings(over: Partial<PrewarmSettings> = {}): PrewarmSettings {
  return {
    grammar: DEFAULT_GRAMMAR_CONFIG,
    limits: DEFAULT_LIMITS,
    originalsBucket: ORIGINALS,
    cdnBase: CDN,
    presets: ['thumb'],
    formats: ['webp', 'jpeg'],
    rewrite: 'preset',
    rewritePreset: 'thumb',
    concurrency: 2,
    attempts: 3,
    window: 8,
    verifyCdn: false,
    ingest: { hosts: [], allowAddresses: [], maxBytes: 5_000_000, timeoutMs: 5_000, maxRedirects: 3 },
    selectors: [],
    retryBaseMs: 20,
    ...over,
  };
}

export interface PrewarmStack {
  s3: S3rverHandle;
  store: PrewarmStore;
  put(key: string, bytes: Buffer | string, contentType?: string): Promise<void>;
  variantKeys(): Promise<string[]>;
  prewarmer(
    over?: Partial<PrewarmSettings>,
    extra?: { resolver?: Resolver; transformer?: Transformer },
  ): Prewarmer;
  stop(): Promise<void>;
}

export async function startPrewarmStack(): Promise<PrewarmStack> {
  const s3 = await startS3rver({ buckets: [ORIGINALS, VARIANTS] });
  const store = createS3PrewarmStore({
    client: s3.client,
    originalsBucket: ORIGINALS,
    variantsBucket: VARIANTS,
  });
  const log = createLog({ level: 'silent' });
  return {
    s3,
    store,
    async put(key, bytes, contentType = 'application/octet-stream') {
      await s3.client.send(
        new PutObjectCommand({ Bucket: ORIGINALS, Key: key, Body: bytes, ContentType: contentType }),
      );
    },
    async variantKeys() {
      const out = await s3.client.send(new ListObjectsV2Command({ Bucket: VARIANTS }));
      return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
    },
    prewarmer(over = {}, extra = {}) {
      return createPrewarmer({
        store,
        transformer: extra.transformer ?? createTransformer(DEFAULT_LIMITS),
        settings: testSettings(over),
        log,
        resolver: extra.resolver,
      });
    },
    stop: () => s3.stop(),
  };
}

export async function runAll(prewarmer: Prewarmer, items: InputItem[] | AsyncIterable<InputItem>) {
  const results: UnitResult[] = [];
  const totals: Totals = await prewarmer.run(items, (r) => {
    results.push(r);
  });
  return { results, totals };
}

/** Units from plain values: seq 1…n. */
export const items = (...units: unknown[]): InputItem[] => units.map((unit, i) => ({ seq: i + 1, unit }));
