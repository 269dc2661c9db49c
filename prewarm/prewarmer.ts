/**
 * The pre-warm core: Data Units in, reports and rewritten units out. Runtime-free: the CLI and
 * the Lambdas are adapters around it.
 *
 * Work is planned across the whole batch: every distinct original is handled once per run (an
 * in-memory map of original → outcome, bounded), whatever the number of units and references
 * that name it, and every distinct external URL is ingested once. Units are taken from the
 * input in windows of `window`; two windows are in flight at a time so the workers never idle
 * at a window's edge. Results are emitted in input order (a window at a time), so output is
 * deterministic and a consumer can checkpoint by position.
 */
import type { GrammarConfig } from '../edge-fn/grammar/config.ts';
import type { OutputFormat } from '../edge-fn/grammar/types.ts';
import { buildPlaceholderKey } from '../edge-fn/grammar/variant-key.ts';
import type { Log } from '../origin-fn/log.ts';
import type { TransformLimits } from '../origin-fn/transform/limits.ts';
import type { Transformer } from '../origin-fn/transform/types.ts';
import { boundedCache } from './bounded-cache.ts';
import { createCdnCheck } from './cdn-check.ts';
import { DEFAULT_MAX_UNIT_DEPTH } from './config.ts';
import { type Failure, toFailure } from './errors.ts';
import { classifyRef, type ImageRef, noImagesReason, type RefContext } from './image-ref.ts';
import {
  fetchExternal,
  type IngestPolicy,
  ingestKey,
  isHostAllowed,
  type Resolver,
  sniffImage,
} from './ingest.ts';
import { assertOriginalKey, formatsFor, planVariants } from './plan.ts';
import type { PrewarmStore } from './prewarm-store.ts';
import { type Replacement, type RewriteSettings, replacementFor, rewriteUnit } from './rewrite.ts';
import { createLimiter, type Limiter } from './scheduler.ts';
import { allStrings, type Found, type Selector, selectAll } from './selectors.ts';
import { type Counters, newCounters, processSource } from './source-job.ts';
import { createTally, round3, type Tally } from './tally.ts';
import type { ImageReport, SourceOutcome, Totals, UnitResult } from './types.ts';
import { nestedDeeperThan } from './unit-depth.ts';

/** Rewrite settings (rewrite.ts: cdnBase, presets, rewrite, rewritePreset, facts, expiresSeconds, signingSecret). */
export interface PrewarmSettings extends RewriteSettings {
  grammar: GrammarConfig;
  limits: TransformLimits;
  originalsBucket: string;
  /** Path-style S3 endpoint, so `<endpoint>/<originals bucket>/<key>` URLs are recognised. */
  s3Endpoint?: string | undefined;
  /** Empty = every format `f=auto` can give. */
  formats: OutputFormat[];
  concurrency: number;
  attempts: number;
  window: number;
  verifyCdn: boolean;
  ingest: IngestPolicy;
  /** Where image references are; empty = auto-detection. */
  selectors: Selector[];
  /** Deepest nesting of objects and arrays in a unit (level 1: the unit). Default DEFAULT_MAX_UNIT_DEPTH. */
  maxUnitDepth?: number | undefined;
  /** Most image references one unit may hold. Default 1000. */
  maxImagesPerUnit?: number | undefined;
  /** Base backoff of retries in ms. Default 200. */
  retryBaseMs?: number | undefined;
}

export interface PrewarmerDeps {
  store: PrewarmStore;
  transformer: Transformer;
  settings: PrewarmSettings;
  log: Log;
  /** DNS for ingest (tests pass a fixed table). */
  resolver?: Resolver | undefined;
  /** Limiters shared with other pre-warmers of the process (a worker's lanes); default: its own. */
  limiters?: PrewarmLimiters | undefined;
}

export interface PrewarmLimiters {
  cpu: Limiter;
  io: Limiter;
  sourceSlots: Limiter;
}

/**
 * Transforms at once (`concurrency`), storage calls (4×) and originals held in memory (2×:
 * enough to keep the CPU busy while the next ones download, few enough to bound memory,
 * 2 × concurrency × 40 MB at most).
 */
export function createPrewarmLimiters(concurrency: number): PrewarmLimiters {
  return {
    cpu: createLimiter(concurrency),
    io: createLimiter(concurrency * 4),
    sourceSlots: createLimiter(concurrency * 2),
  };
}

/** One Data Unit from the input, or why it could not be read. */
export interface InputItem {
  seq: number;
  unit?: unknown;
  error?: { code: string; message: string } | undefined;
}

export interface Prewarmer {
  /**
   * Runs a whole input; `emit` is called once per unit, in input order. An `emit` that throws
   * must have written nothing of that unit: it is called once more with the unit reported as
   * failed (PREWARM_OUTPUT_FAILED) and the run goes on; if that call throws too (a disk full, a
   * closed stream), the run ends with its error.
   */
  run(
    items: AsyncIterable<InputItem> | Iterable<InputItem>,
    emit: (result: UnitResult) => void | Promise<void>,
  ): Promise<Totals>;
  readonly counters: Readonly<Counters>;
  /** The running totals of the current (or last) run. */
  snapshot(): Totals;
}

const MAX_CACHED = 5000;

function unitId(unit: unknown): string | undefined {
  if (typeof unit !== 'object' || unit === null || Array.isArray(unit)) return undefined;
  const id = (unit as Record<string, unknown>).id;
  return typeof id === 'string' || typeof id === 'number' ? String(id).slice(0, 200) : undefined;
}

const short = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…` : s);

export function createPrewarmer(deps: PrewarmerDeps): Prewarmer {
  const { store, transformer, settings, log } = deps;
  const counters = newCounters();
  const { cpu, io, sourceSlots } = deps.limiters ?? createPrewarmLimiters(settings.concurrency);
  // Per run (reset by run()): a warm Lambda must not reuse a failure from an earlier batch.
  let sources = boundedCache<SourceOutcome>(MAX_CACHED);
  let ingested = boundedCache<string>(MAX_CACHED);
  const maxImages = settings.maxImagesPerUnit ?? 1000;
  const maxDepth = settings.maxUnitDepth ?? DEFAULT_MAX_UNIT_DEPTH;
  const cdnCheck = settings.verifyCdn ? createCdnCheck(settings.cdnBase, settings.signingSecret) : undefined;
  const ctx: RefContext = {
    cdnBase: new URL(settings.cdnBase),
    originalsBucket: settings.originalsBucket,
    s3Endpoint: settings.s3Endpoint ? new URL(settings.s3Endpoint) : undefined,
    isIngestHost: (host) => isHostAllowed(host, settings.ingest.hosts),
  };
  let tally: Tally = createTally();

  function sourceOutcome(key: string): Promise<SourceOutcome> {
    let pending = sources.get(key);
    if (!pending) {
      const planned = planVariants(key, settings.presets, settings.formats, settings.grammar);
      const t = tally;
      pending = sourceSlots
        .run(() =>
          processSource(key, planned, {
            store,
            transformer,
            limits: settings.limits,
            cpu,
            io,
            retry: { attempts: settings.attempts, baseDelayMs: settings.retryBaseMs ?? 200 },
            counters,
            log,
            cdnCheck,
            placeholderKey: settings.facts
              ? buildPlaceholderKey({ source: key }, settings.grammar)
              : undefined,
          }),
        )
        .then((outcome) => {
          t.addSource(outcome);
          return outcome;
        });
      sources.set(key, pending);
    }
    return pending;
  }

  function ingest(url: string): Promise<string> {
    let pending = ingested.get(url);
    if (!pending) {
      pending = (async () => {
        const fetched = await fetchExternal(url, settings.ingest, deps.resolver);
        const type = await sniffImage(fetched.bytes, url);
        const key = ingestKey(fetched.bytes, type.ext);
        assertOriginalKey(key, settings.grammar); // never written as an original under a variant key
        const exists = await io.run(() => store.headOriginal(key));
        if (!exists) await io.run(() => store.putOriginal(key, fetched.bytes, type.type));
        log.info({ url: short(url), key, bytes: fetched.bytes.length }, 'ingested');
        return key;
      })();
      ingested.set(url, pending);
    }
    return pending;
  }

  function failedImage(found: Found, failure: Failure, source?: string): ImageReport {
    return {
      pointer: found.pointer,
      ref: short(found.value),
      source,
      status: 'failed',
      code: failure.code,
      message: failure.message,
      transient: failure.transient,
      variants: [],
    };
  }

  async function image(
    found: Found,
    ref: ImageRef,
  ): Promise<{ report: ImageReport; replacement?: Replacement | undefined }> {
    if (ref.kind === 'invalid') return { report: failedImage(found, { ...ref, transient: false }) };
    let key: string;
    try {
      key = ref.kind === 'key' ? ref.key : await ingest(ref.url);
    } catch (err) {
      return { report: failedImage(found, toFailure(err)) };
    }
    let outcome: SourceOutcome;
    try {
      outcome = await sourceOutcome(key);
    } catch (err) {
      return { report: failedImage(found, toFailure(err), key) };
    }
    if (outcome.failure) return { report: failedImage(found, outcome.failure, key) };
    const variants = outcome.variants.map((v) => ({
      preset: v.preset,
      format: v.format,
      status: v.status,
      bytes: v.bytes,
      ...(v.code ? { code: v.code } : {}),
    }));
    const placeholder = outcome.placeholder;
    const broken =
      outcome.variants.find((v) => v.status === 'failed') ??
      (placeholder?.status === 'failed' ? placeholder : undefined);
    if (broken) {
      const report = failedImage(
        found,
        {
          code: broken.code ?? 'IMG_INTERNAL',
          message: broken.message ?? '',
          transient: broken.transient ?? false,
        },
        key,
      );
      return { report: { ...report, bytesBefore: outcome.originalBytes, variants } };
    }
    const firstFormat = formatsFor(key, settings.formats, settings.grammar)[0];
    const after = outcome.variants.find(
      (v) => v.preset === settings.rewritePreset && v.format === firstFormat,
    )?.bytes;
    const before = outcome.originalBytes;
    return {
      replacement: replacementFor(key, outcome, settings),
      report: {
        pointer: found.pointer,
        ref: short(found.value),
        source: key,
        status: outcome.variants.every((v) => v.status === 'existing') ? 'skipped-existing' : 'ok',
        bytesBefore: before,
        bytesAfter: after,
        savings: before && after !== undefined ? round3(1 - after / before) : undefined,
        variants,
      },
    };
  }

  async function processUnit(item: InputItem): Promise<UnitResult> {
    const fail = (code: string, message: string, unit?: unknown, echo = true): UnitResult => ({
      report: { seq: item.seq, id: unitId(unit), status: 'failed', code, message, images: [] },
      ...(unit === undefined || !echo ? {} : { unit }),
    });
    if (item.error) return fail(item.error.code, item.error.message);
    const unit = item.unit;
    if (typeof unit !== 'object' || unit === null || Array.isArray(unit))
      return fail('PREWARM_NOT_OBJECT', `Data Unit ${item.seq} is not a JSON object`);
    // Before any recursive walk (string search, structuredClone, JSON.stringify of the output);
    // the unit is not echoed back: writing it out would be such a walk.
    if (nestedDeeperThan(unit, maxDepth))
      return fail(
        'PREWARM_TOO_DEEP',
        `Data Unit ${item.seq} nests objects and arrays more than ${maxDepth} levels deep; at most ${maxDepth} are allowed (LITEPIX_PREWARM_MAX_DEPTH)`,
        unit,
        false,
      );
    const selected = settings.selectors.length > 0;
    const seen = new Set<string>();
    const slots: Array<{ found: Found; ref: ImageRef }> = [];
    const candidates = selected
      ? settings.selectors.flatMap((s) => selectAll(unit, s))
      : allStrings(unit, maxDepth);
    for (const found of candidates) {
      if (seen.has(found.pointer)) continue;
      seen.add(found.pointer);
      const ref = classifyRef(found.value, ctx, selected);
      if (ref) slots.push({ found, ref });
    }
    if (slots.length === 0) {
      const how = selected
        ? `the selectors ${settings.selectors.map((s) => JSON.stringify(s.text)).join(', ')} match no string`
        : noImagesReason(candidates, ctx);
      return fail('PREWARM_NO_IMAGES', `Data Unit ${item.seq} has no image references: ${how}`, unit);
    }
    if (slots.length > maxImages)
      return fail(
        'PREWARM_UNIT_TOO_LARGE',
        `Data Unit ${item.seq} has ${slots.length} image references; at most ${maxImages} are allowed`,
        unit,
      );
    const images = await Promise.all(slots.map((s) => image(s.found, s.ref)));
    const replacements = new Map<string, Replacement>();
    for (const i of images)
      if (i.replacement !== undefined && i.report.status !== 'failed')
        replacements.set(i.report.pointer, i.replacement);
    const failed = images.filter((i) => i.report.status === 'failed').length;
    return {
      report: {
        seq: item.seq,
        id: unitId(unit),
        status: failed === 0 ? 'done' : 'failed',
        ...(failed === 0
          ? {}
          : { code: 'PREWARM_IMAGES_FAILED', message: `${failed} of ${images.length} images failed` }),
        images: images.map((i) => i.report),
      },
      unit: rewriteUnit(unit, replacements),
    };
  }

  async function processWindow(window: InputItem[]): Promise<UnitResult[]> {
    return Promise.all(
      window.map((item) =>
        processUnit(item).catch((err: unknown): UnitResult => {
          // A bug, not a bad unit: report the unit as failed and keep going.
          log.error({ seq: item.seq, err }, 'pre-warm of a Data Unit failed unexpectedly');
          const f = toFailure(err);
          return {
            report: { seq: item.seq, status: 'failed', code: f.code, message: f.message, images: [] },
          };
        }),
      ),
    );
  }

  /** One unit's output step, inside its error handling: a unit that cannot be written is one failure. */
  async function emitted(r: UnitResult, emit: (result: UnitResult) => void | Promise<void>) {
    try {
      await emit(r);
      return r.report;
    } catch (err) {
      log.error({ seq: r.report.seq, err }, 'the result of a Data Unit could not be written');
      const failed: UnitResult = {
        report: {
          seq: r.report.seq,
          id: r.report.id,
          status: 'failed',
          code: 'PREWARM_OUTPUT_FAILED',
          message: `The result of Data Unit ${r.report.seq} could not be written: ${(err as Error).message}`,
          images: r.report.images,
        },
      };
      await emit(failed);
      return failed.report;
    }
  }

  return {
    counters,
    snapshot: () => tally.totals(),
    async run(items, emit) {
      tally = createTally();
      sources = boundedCache<SourceOutcome>(MAX_CACHED);
      ingested = boundedCache<string>(MAX_CACHED);
      const inFlight: Array<Promise<UnitResult[]>> = [];
      const flushOne = async () => {
        const done = await (inFlight.shift() as Promise<UnitResult[]>);
        for (const r of done) tally.addUnit(await emitted(r, emit));
      };
      let window: InputItem[] = [];
      for await (const item of items) {
        window.push(item);
        if (window.length >= settings.window) {
          inFlight.push(processWindow(window));
          window = [];
          if (inFlight.length >= 2) await flushOne();
        }
      }
      if (window.length > 0) inFlight.push(processWindow(window));
      while (inFlight.length > 0) await flushOne();
      return tally.totals();
    },
  };
}
