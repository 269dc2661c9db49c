/**
 * The origin: variant key → variant bytes. Parses the key with the grammar module (it never
 * trusts the edge), reads a stored variant or makes one (original → transform → store), and
 * the same for a placeholder key (`…/placeholder.json`: placeholder.ts), and
 * answers with the headers S3 would serve for the stored object. Runtime-free: the Lambda and
 * local HTTP adapters turn `OriginResponse` into their own shapes.
 */
import type { GrammarConfig } from '../edge-fn/grammar/config.ts';
import { isError } from '../edge-fn/grammar/params.ts';
import { decodePath } from '../edge-fn/grammar/source-key.ts';
import type { PlaceholderSpec, VariantSpec } from '../edge-fn/grammar/types.ts';
import { isPlaceholderKey, parsePlaceholderKey, parseVariantKey } from '../edge-fn/grammar/variant-key.ts';
import { ImageError, toImageError } from './errors.ts';
import type { ImageStore, StoredObject } from './image-store.ts';
import type { Log } from './log.ts';
import { PLACEHOLDER_CONTENT_TYPE, producePlaceholder } from './placeholder.ts';
import { etagOf, produceVariant, VARIANT_CACHE_CONTROL } from './produce-variant.ts';
import type { TransformLimits } from './transform/limits.ts';
import type { Transformer } from './transform/types.ts';

export { VARIANT_CACHE_CONTROL };
/** 4xx answers may be kept a minute (a new upload shows up soon); faults are never kept. */
export const CLIENT_ERROR_CACHE_CONTROL = 'public, max-age=60';
export const FAULT_CACHE_CONTROL = 'no-store';
/**
 * Default time budget of one variant: under CloudFront's 30 s origin response timeout, so the
 * viewer gets our 503 (never cached) rather than CloudFront's 504.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 20_000;

export interface OriginResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface OriginDeps {
  store: ImageStore;
  transformer: Transformer;
  grammar: GrammarConfig;
  limits: TransformLimits;
  log: Log;
  /**
   * Time budget of one variant (store reads, transform, store write), default
   * DEFAULT_REQUEST_TIMEOUT_MS. When it runs out the answer is 503 IMG_TIMEOUT (no-store), store
   * calls in flight are aborted and nothing is stored. A sharp encode cannot be interrupted: it
   * finishes in the background and its result is dropped.
   */
  requestTimeoutMs?: number | undefined;
}

export interface OriginHandler {
  /** `path` is the request path as received (percent-encoded), e.g. `/v1/photos/a.jpg/w828.qauto.webp`. */
  handle(path: string, requestId: string): Promise<OriginResponse>;
  /** Transforms run by this instance (coalesced requests share one). */
  readonly transforms: number;
}

/** What a key asks for: an image variant, or the placeholder of an original (or of a crop). */
type Target =
  | { kind: 'variant'; key: string; spec: VariantSpec }
  | { kind: 'placeholder'; key: string; spec: PlaceholderSpec };

function keyFromPath(path: string, grammar: GrammarConfig): Target {
  const key = decodePath(path.startsWith('/') ? path : `/${path}`);
  if (isError(key)) throw new ImageError(key.status, key.code, key.message);
  if (isPlaceholderKey(key)) {
    const spec = parsePlaceholderKey(key, grammar);
    if (isError(spec)) throw new ImageError(spec.status, spec.code, spec.message);
    return { kind: 'placeholder', key, spec };
  }
  const spec = parseVariantKey(key, grammar);
  if (isError(spec)) throw new ImageError(spec.status, spec.code, spec.message);
  return { kind: 'variant', key, spec };
}

function storedResponse(stored: StoredObject): OriginResponse {
  const headers: Record<string, string> = {
    'content-type': stored.contentType ?? 'application/octet-stream',
    'cache-control': VARIANT_CACHE_CONTROL,
    etag: stored.etag ?? etagOf(stored.bytes),
    'content-length': String(stored.bytes.length),
  };
  if (stored.metadata['original-bytes'])
    headers['x-litepix-original-bytes'] = stored.metadata['original-bytes'];
  if (stored.metadata.quality) headers['x-litepix-quality'] = stored.metadata.quality;
  return { status: 200, headers, body: stored.bytes };
}

export function errorResponse(error: ImageError): OriginResponse {
  const fault = error.status >= 500;
  // Unknown faults never leak their detail; user faults say exactly what was wrong.
  const message = error.status === 500 ? 'Internal error while producing the image' : error.message;
  return {
    status: error.status,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': fault ? FAULT_CACHE_CONTROL : CLIENT_ERROR_CACHE_CONTROL,
      'x-litepix-error': error.code,
    },
    body: Buffer.from(`${message}\n`),
  };
}

function checkTimeout(ms: number): number {
  if (!Number.isInteger(ms) || ms < 1 || ms > 900_000) {
    throw new RangeError(
      `Invalid requestTimeoutMs ${JSON.stringify(ms)}: expected an integer from 1 to 900000`,
    );
  }
  return ms;
}

export function createOriginHandler(deps: OriginDeps): OriginHandler {
  const { store, transformer, grammar, limits, log } = deps;
  const budgetMs = checkTimeout(deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  // Identical concurrent misses in this instance share one transform (and one PutObject).
  const inflight = new Map<string, Promise<OriginResponse>>();
  let transforms = 0;

  async function produce(target: Target, requestId: string, signal: AbortSignal): Promise<OriginResponse> {
    const { key, spec } = target;
    const t0 = performance.now();
    const existing = await store.getVariant(key, { signal });
    if (existing) {
      log.info(
        { requestId, key, status: 200, source: 'stored', bytesOut: existing.bytes.length },
        target.kind,
      );
      return storedResponse(existing);
    }
    const original = await store.getOriginal(spec.source, limits.maxSourceBytes, { signal });
    const fetchMs = performance.now() - t0;
    signal.throwIfAborted();
    transforms++;
    if (target.kind === 'placeholder') {
      const made = await producePlaceholder({ store, limits }, key, target.spec, original, { signal });
      log.info(
        {
          requestId,
          key,
          status: 200,
          source: 'made',
          bytesIn: original.bytes.length,
          bytesOut: made.bytes.length,
          ms: { fetch: Math.round(fetchMs), total: Math.round(performance.now() - t0) },
        },
        'placeholder',
      );
      return {
        status: 200,
        headers: {
          'content-type': PLACEHOLDER_CONTENT_TYPE,
          'cache-control': VARIANT_CACHE_CONTROL,
          etag: made.etag,
          'content-length': String(made.bytes.length),
          'x-litepix-original-bytes': String(original.bytes.length),
        },
        body: made.bytes,
      };
    }
    // Past the budget the caller has had its 503: produceVariant drops the result, stores nothing.
    const made = await produceVariant({ store, transformer }, key, target.spec, original, { signal });
    const { result, quality, etag, storeMs } = made;
    log.info(
      {
        requestId,
        key,
        status: 200,
        source: 'transformed',
        format: result.format,
        width: result.width,
        height: result.height,
        bytesIn: result.originalBytes,
        bytesOut: result.bytes.length,
        quality: result.quality,
        qualityDistance: result.qualityReport.distance,
        qualityMode: result.qualityReport.mode,
        encodes: result.qualityReport.encodes,
        ...(result.qualityReport.budget !== undefined ? { budget: result.qualityReport.budget } : {}),
        servedOriginal: result.servedOriginal,
        ms: {
          fetch: Math.round(fetchMs),
          decode: Math.round(result.timings.decodeMs),
          encode: Math.round(result.timings.encodeMs),
          store: Math.round(storeMs),
        },
      },
      'variant',
    );
    return {
      status: 200,
      headers: {
        'content-type': result.contentType,
        'cache-control': VARIANT_CACHE_CONTROL,
        etag,
        'content-length': String(result.bytes.length),
        'x-litepix-original-bytes': String(result.originalBytes),
        'x-litepix-quality': quality,
      },
      body: result.bytes,
    };
  }

  /**
   * `produce` under the time budget: `answer` rejects with 503 IMG_TIMEOUT when it runs out;
   * `settled` resolves when the work itself is over (possibly later).
   */
  function withinBudget(
    target: Target,
    requestId: string,
  ): { answer: Promise<OriginResponse>; settled: Promise<void> } {
    const controller = new AbortController();
    const timedOut = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    const timer = setTimeout(() => {
      controller.abort(
        new ImageError(
          503,
          'IMG_TIMEOUT',
          `The image was not ready within ${budgetMs} ms (slow storage or a busy instance); retry in a moment`,
        ),
      );
    }, budgetMs);
    const work = produce(target, requestId, controller.signal);
    // After a timeout the work still settles (sharp cannot be interrupted); its outcome is dropped.
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    return { answer: Promise.race([work, timedOut]).finally(() => clearTimeout(timer)), settled };
  }

  return {
    get transforms() {
      return transforms;
    },
    async handle(path, requestId) {
      try {
        const target = keyFromPath(path, grammar);
        const { key } = target;
        let pending = inflight.get(key);
        if (!pending) {
          const run = withinBudget(target, requestId);
          pending = run.answer;
          inflight.set(key, pending);
          // The key stays taken until the work is over, even after a timeout was answered: a
          // retry meanwhile gets the same 503 instead of a second transform beside the first.
          void run.settled.then(() => inflight.delete(key));
        }
        return await pending;
      } catch (err) {
        const error = toImageError(err);
        const fields = { requestId, path: path.slice(0, 300), status: error.status, code: error.code };
        if (error.status >= 500) log.error({ ...fields, err: error.cause ?? error }, error.message);
        else log.info(fields, error.message);
        return errorResponse(error);
      }
    },
  };
}
