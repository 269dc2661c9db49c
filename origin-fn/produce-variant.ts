/**
 * The one variant producer: original bytes + canonical variant key → transform → one whole
 * PutObject with the metadata every stored variant carries. The origin (a cache miss), the
 * pre-warm (a planned variant), the playground and the benches all make variants through it,
 * so a variant reads the same whoever made it: the same `quality` text as the
 * `x-litepix-quality` header, the original's ETag and version (the S3-event Lambda tells stale
 * variants by them), transform time, size and whether the original's own bytes were served.
 */
import { createHash } from 'node:crypto';
import type { VariantSpec } from '../edge-fn/grammar/types.ts';
import type { ImageStore, StoreCallOptions } from './image-store.ts';
import { formatQualityHeader } from './transform/quality.ts';
import type { TransformManyOptions } from './transform/transform-many.ts';
import type { Transformer, TransformOutcome, TransformResult } from './transform/types.ts';

export const VARIANT_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** The original a variant is made from, as the store returned it. */
export interface OriginalSource {
  bytes: Buffer;
  etag?: string | undefined;
  versionId?: string | undefined;
}

export interface ProducedVariant {
  result: TransformResult;
  /** The stored object's user metadata (x-amz-meta-*). */
  metadata: Record<string, string>;
  /** `x-litepix-quality` text, also the `quality` metadata. */
  quality: string;
  /** S3's ETag of a single-part PUT: the MD5 of the bytes, quoted. */
  etag: string;
  /** Wall time of the transform (decode, search, encode), ms. */
  transformMs: number;
  /** Wall time of the PutObject, ms. */
  storeMs: number;
}

export interface ProduceDeps {
  store: Pick<ImageStore, 'putVariant'>;
  transformer: Transformer;
  /** Runs the CPU-bound transform (pre-warm passes its CPU limiter; the store call stays outside it). */
  cpu?: (<T>(task: () => Promise<T>) => Promise<T>) | undefined;
}

export function etagOf(bytes: Buffer): string {
  return `"${createHash('md5').update(bytes).digest('hex')}"`;
}

/** The user metadata of a stored variant (the same for every producer). */
export function variantMetadata(
  result: TransformResult,
  original: OriginalSource,
  transformMs: number,
): Record<string, string> {
  const metadata: Record<string, string> = {
    'original-bytes': String(result.originalBytes),
    // The same text as the x-litepix-quality header, so stored (S3-served) hits carry it too.
    quality: formatQualityHeader(result.qualityReport),
    'transform-ms': String(Math.round(transformMs)),
    'served-original': String(result.servedOriginal),
    width: String(result.width),
    height: String(result.height),
  };
  if (original.etag) metadata['original-etag'] = original.etag.replaceAll('"', '');
  if (original.versionId) metadata['original-version'] = original.versionId;
  return metadata;
}

/** Stores a transform's result whole, with the metadata every stored variant carries. */
async function storeResult(
  deps: ProduceDeps,
  key: string,
  result: TransformResult,
  original: OriginalSource,
  transformMs: number,
  options: StoreCallOptions,
): Promise<ProducedVariant> {
  const metadata = variantMetadata(result, original, transformMs);
  const t1 = performance.now();
  await deps.store.putVariant(
    {
      key,
      bytes: result.bytes,
      contentType: result.contentType,
      cacheControl: VARIANT_CACHE_CONTROL,
      metadata,
    },
    options,
  );
  return {
    result,
    metadata,
    quality: metadata.quality as string, // variantMetadata always sets it
    etag: etagOf(result.bytes),
    transformMs,
    storeMs: performance.now() - t1,
  };
}

/**
 * Makes one variant and stores it whole. `signal` (the origin's time budget) is checked after
 * the transform: past it the result is dropped and nothing is stored.
 */
export async function produceVariant(
  deps: ProduceDeps,
  key: string,
  spec: VariantSpec,
  original: OriginalSource,
  options: StoreCallOptions = {},
): Promise<ProducedVariant> {
  const transform = async () => {
    const t0 = performance.now();
    const made = await deps.transformer.transform(original.bytes, spec);
    return { made, ms: performance.now() - t0 };
  };
  const { made, ms } = await (deps.cpu ? deps.cpu(transform) : transform());
  options.signal?.throwIfAborted();
  return storeResult(deps, key, made, original, ms, options);
}

export type ProduceOutcome = { ok: true; made: ProducedVariant } | { ok: false; error: unknown };

/**
 * Makes several variants of one original (the pre-warm's plan) from one decode where the
 * transformer can (`transformMany`), then stores each whole. One outcome per wanted variant, in
 * order: a variant that fails (refused spec, failed PUT) fails alone. `options.onStill` sees the
 * smallest decoded level of the whole image (the pre-warm's placeholder is drawn from it).
 */
export async function produceVariants(
  deps: ProduceDeps,
  wanted: Array<{ key: string; spec: VariantSpec }>,
  original: OriginalSource,
  options: Pick<TransformManyOptions, 'onStill'> = {},
): Promise<ProduceOutcome[]> {
  const { transformer } = deps;
  const transformAll = async (): Promise<TransformOutcome[]> => {
    if (transformer.transformMany)
      return transformer.transformMany(
        original.bytes,
        wanted.map((w) => w.spec),
        options,
      );
    const out: TransformOutcome[] = [];
    for (const w of wanted) {
      try {
        out.push({ ok: true, result: await transformer.transform(original.bytes, w.spec) });
      } catch (error) {
        out.push({ ok: false, error });
      }
    }
    return out;
  };
  const outcomes = await (deps.cpu ? deps.cpu(transformAll) : transformAll());
  return Promise.all(
    outcomes.map(async (outcome, i): Promise<ProduceOutcome> => {
      if (!outcome.ok) return outcome;
      const { result } = outcome;
      try {
        const ms = result.timings.decodeMs + result.timings.encodeMs;
        return {
          ok: true,
          made: await storeResult(deps, (wanted[i] as { key: string }).key, result, original, ms, {}),
        };
      } catch (error) {
        return { ok: false, error };
      }
    }),
  );
}
