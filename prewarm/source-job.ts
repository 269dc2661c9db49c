/**
 * One original, all its planned variants: GET each variant (a missing one answers 404 as a HEAD
 * would; an existing one is read once, for its verification, instead of a HEAD then a GET);
 * read the original only when one is missing; transform the missing ones with the origin's transform core and store them whole
 * (the same metadata the origin writes, plus the original's ETag: the S3-event Lambda uses it to
 * tell stale variants); verify every variant, the existing ones included (a stored one that
 * fails is made again and overwritten). Storage operations
 * are retried on transient faults; transforms and decodes share the CPU limiter.
 */
import type { Log } from '../origin-fn/log.ts';
import { type ProduceOutcome, produceVariants } from '../origin-fn/produce-variant.ts';
import type { RawPixels } from '../origin-fn/transform/encode.ts';
import type { TransformLimits } from '../origin-fn/transform/limits.ts';
import { probeSource } from '../origin-fn/transform/probe-source.ts';
import type { Transformer } from '../origin-fn/transform/types.ts';
import { toFailure } from './errors.ts';
import type { PlannedVariant } from './plan.ts';
import type { PrewarmStore } from './prewarm-store.ts';
import { type Limiter, type RetryOptions, withRetry } from './scheduler.ts';
import { makeSourcePlaceholder, readStoredPlaceholder } from './source-placeholder.ts';
import type { PlaceholderOutcome, SourceOutcome, VariantOutcome } from './types.ts';
import { verifyVariant } from './verify.ts';

/** Verification failures of a stored variant that making it again from the original can mend. */
const REPAIRABLE = new Set(['VERIFY_UNDECODABLE', 'VERIFY_FORMAT', 'VERIFY_DIMENSIONS']);

export interface Counters {
  transforms: number;
  heads: number;
  reads: number;
  writes: number;
  retries: number;
  /** Full decodes done to verify (variants read back, or made without a search decode). */
  verifyDecodes: number;
}

export const newCounters = (): Counters => ({
  transforms: 0,
  heads: 0,
  reads: 0,
  writes: 0,
  retries: 0,
  verifyDecodes: 0,
});

export interface SourceJobDeps {
  store: PrewarmStore;
  transformer: Transformer;
  limits: TransformLimits;
  cpu: Limiter;
  io: Limiter;
  retry: RetryOptions;
  counters: Counters;
  log: Log;
  /** Optional check of each variant through the CDN (throws a PrewarmError VERIFY_CDN). */
  cdnCheck?: ((source: string, variant: PlannedVariant, contentType: string) => Promise<void>) | undefined;
  /** The original's placeholder key when the run carries facts (source-placeholder.ts); else none is made. */
  placeholderKey?: string | undefined;
}

export async function processSource(
  source: string,
  planned: PlannedVariant[],
  deps: SourceJobDeps,
): Promise<SourceOutcome> {
  const { store, io, cpu, counters, limits } = deps;
  const retry: RetryOptions = {
    ...deps.retry,
    onRetry: (err, attempt) => {
      counters.retries++;
      deps.log.warn({ source, attempt, code: toFailure(err).code }, 'retrying after a transient fault');
      deps.retry.onRetry?.(err, attempt);
    },
  };
  const storage = <T>(op: () => Promise<T>) => io.run(() => withRetry(op, retry));

  let found: Array<Awaited<ReturnType<PrewarmStore['getVariant']>>>;
  let originalBytes: number;
  let original: { bytes: Buffer; etag?: string | undefined; versionId?: string | undefined } | undefined;
  let sourceSize: { width: number; height: number } | undefined;
  const placeholderKey = deps.placeholderKey;
  let placeholderStored: PlaceholderOutcome | undefined;
  try {
    const read = (key: string) =>
      storage(() => {
        counters.reads++;
        return store.getVariant(key);
      });
    const [variantsFound, placeholderFound] = await Promise.all([
      Promise.all(planned.map((v) => read(v.key))),
      placeholderKey === undefined ? undefined : read(placeholderKey),
    ]);
    found = variantsFound;
    if (placeholderKey !== undefined) {
      const placeholder = readStoredPlaceholder(placeholderFound, placeholderKey, deps.log);
      if (placeholder) placeholderStored = { status: 'existing', key: placeholderKey, placeholder };
    }
    if (found.some((h) => h === undefined) || (placeholderKey !== undefined && !placeholderStored)) {
      const got = await storage(() => {
        counters.reads++;
        return store.getOriginal(source, limits.maxSourceBytes);
      });
      original = got;
      originalBytes = got.bytes.length;
      const probed = await probeSource(got.bytes, limits);
      sourceSize = { width: probed.width, height: probed.height };
    } else {
      const head = await storage(() => {
        counters.heads++;
        return store.headOriginal(source);
      });
      if (!head)
        return {
          source,
          variants: [],
          failure: {
            code: 'IMG_NOT_FOUND',
            message: `Original image ${JSON.stringify(source)} not found`,
            transient: false,
          },
        };
      originalBytes = head.bytes;
    }
  } catch (err) {
    return { source, variants: [], failure: toFailure(err) };
  }

  const verifyBytes = (v: PlannedVariant, bytes: Buffer, decodedInProcess: boolean) =>
    cpu.run(() => {
      if (!decodedInProcess) counters.verifyDecodes++;
      return verifyVariant({
        key: v.key,
        bytes,
        decodedInProcess,
        spec: v.spec,
        originalBytes,
        source: sourceSize,
        maxOutputDimension: limits.maxOutputDimension,
        avifMaxPixels: limits.avifMaxPixels,
      });
    });

  const produce = (
    variants: PlannedVariant[],
    src: NonNullable<typeof original>,
    onStill?: (pixels: RawPixels) => void,
  ) =>
    produceVariants(
      {
        transformer: deps.transformer,
        cpu: (task) => {
          counters.transforms += variants.length;
          return cpu.run(task);
        },
        store: {
          putVariant: (put) =>
            storage(() => {
              counters.writes++;
              return store.putVariant(put);
            }),
        },
      },
      variants,
      src,
      { onStill },
    );
  // Every missing variant of this original from one decode (transform-many.ts), each stored whole;
  // the placeholder, when one is to be made, from the smallest level of that decode.
  const missing = planned.filter((_, i) => found[i] === undefined);
  let still: RawPixels | undefined;
  const made: Promise<ProduceOutcome[]> =
    original !== undefined && missing.length > 0
      ? produce(missing, original, (pixels) => {
          still = pixels;
        })
      : Promise.resolve([]);
  const placeholder = (async (): Promise<PlaceholderOutcome | undefined> => {
    if (placeholderKey === undefined || placeholderStored) return placeholderStored;
    await made;
    const src = original as NonNullable<typeof original>; // read above whenever a placeholder is missing
    const pixels = still;
    still = undefined;
    return makeSourcePlaceholder(
      {
        store,
        limits,
        cpu: (task) => cpu.run(task),
        storage,
        countWrite: () => counters.writes++,
      },
      placeholderKey,
      src,
      pixels && sourceSize ? { pixels, ...sourceSize } : undefined,
    );
  })();

  // A stored variant that fails verification (damaged, truncated, not what its key says) is made
  // again from the original, read once for all such variants, and overwrites it.
  let originalForRepair: Promise<NonNullable<typeof original>> | undefined;
  const remake = async (v: PlannedVariant) => {
    originalForRepair ??= (async () => {
      if (original) return original;
      const got = await storage(() => {
        counters.reads++;
        return store.getOriginal(source, limits.maxSourceBytes);
      });
      const probed = await probeSource(got.bytes, limits);
      sourceSize = { width: probed.width, height: probed.height };
      return got;
    })();
    const [outcome] = await produce([v], await originalForRepair);
    if (outcome === undefined) throw new Error(`no outcome for the variant made again ${v.key}`);
    if (!outcome.ok) throw outcome.error;
    return outcome.made.result;
  };

  const one = async (v: PlannedVariant, stored: (typeof found)[number]): Promise<VariantOutcome> => {
    const base = { preset: v.preset, format: v.format, key: v.key };
    const exists = stored !== undefined;
    try {
      let bytes: Buffer;
      let contentType: string;
      let decodedInProcess = false;
      if (stored !== undefined) {
        bytes = stored.bytes;
        contentType = stored.contentType ?? 'application/octet-stream';
      } else {
        const outcome = (await made)[missing.indexOf(v)];
        if (outcome === undefined) throw new Error(`no outcome for the missing variant ${v.key}`);
        if (!outcome.ok) throw outcome.error;
        const { result } = outcome.made;
        bytes = result.bytes;
        contentType = result.contentType;
        decodedInProcess = result.decodedInProcess;
      }
      let status: 'existing' | 'produced' = exists ? 'existing' : 'produced';
      let checked: Awaited<ReturnType<typeof verifyBytes>>;
      try {
        checked = await verifyBytes(v, bytes, decodedInProcess);
      } catch (err) {
        const code = toFailure(err).code;
        if (!exists || !REPAIRABLE.has(code)) throw err;
        deps.log.warn({ source, key: v.key, code }, 'stored variant fails verification; making it again');
        ({ bytes, contentType, decodedInProcess } = await remake(v));
        status = 'produced';
        checked = await verifyBytes(v, bytes, decodedInProcess);
      }
      if (deps.cdnCheck) await deps.cdnCheck(source, v, contentType);
      return {
        ...base,
        status,
        bytes: bytes.length,
        contentType,
        width: checked.width,
        height: checked.height,
      };
    } catch (err) {
      const failure = toFailure(err);
      if (failure.code === 'IMG_INTERNAL')
        deps.log.error({ source, key: v.key, err }, 'pre-warm of a variant failed');
      return { ...base, status: 'failed', ...failure };
    }
  };

  const variants = await Promise.all(planned.map((v, i) => one(v, found[i])));
  return { source, originalBytes, variants, placeholder: await placeholder };
}
