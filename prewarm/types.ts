/** What pre-warm reports: per variant, per image reference, per Data Unit, and in total. */
import type { OutputFormat } from '../edge-fn/grammar/types.ts';
import type { Placeholder } from '../origin-fn/transform/placeholder.ts';

/** `produced`: made now; `existing`: already stored (left as is, verified); `failed`: see code. */
export type VariantStatus = 'produced' | 'existing' | 'failed';

export interface VariantOutcome {
  preset: string;
  format: OutputFormat;
  /** Key in the variants bucket. */
  key: string;
  status: VariantStatus;
  bytes?: number | undefined;
  contentType?: string | undefined;
  width?: number | undefined;
  height?: number | undefined;
  code?: string | undefined;
  message?: string | undefined;
  transient?: boolean | undefined;
}

/** The placeholder of an original (`--facts`): read back from its key, made now, or failed. */
export type PlaceholderOutcome =
  | { status: 'produced' | 'existing'; key: string; placeholder: Placeholder }
  | { status: 'failed'; key: string; code: string; message: string; transient: boolean };

/** All variants of one original, computed once per run and shared by every unit that needs them. */
export interface SourceOutcome {
  source: string;
  originalBytes?: number | undefined;
  variants: VariantOutcome[];
  /** With `--facts` only. */
  placeholder?: PlaceholderOutcome | undefined;
  /** A failure of the original itself (missing, not an image, storage down). */
  failure?: { code: string; message: string; transient: boolean } | undefined;
}

/** `ok`: every variant there and verified, some made now; `skipped-existing`: all were there. */
export type ImageStatus = 'ok' | 'skipped-existing' | 'failed';

export interface ImageReport {
  /** JSON pointer of the reference in the Data Unit. */
  pointer: string;
  /** The reference as written (shortened past 300 characters). */
  ref: string;
  /** Key of the original (after ingest for external URLs). */
  source?: string | undefined;
  status: ImageStatus;
  code?: string | undefined;
  message?: string | undefined;
  transient?: boolean | undefined;
  bytesBefore?: number | undefined;
  /** Bytes of the rewrite preset's variant in the first pre-warmed format. */
  bytesAfter?: number | undefined;
  /** 1 − after / before, rounded to 0.1 %. */
  savings?: number | undefined;
  variants: Array<Pick<VariantOutcome, 'preset' | 'format' | 'status' | 'bytes' | 'code'>>;
}

export interface UnitReport {
  /** 1-based position of the Data Unit in the input. */
  seq: number;
  /** The unit's own `id` field, when it has a string or number one. */
  id?: string | undefined;
  status: 'done' | 'failed';
  code?: string | undefined;
  message?: string | undefined;
  images: ImageReport[];
}

export interface UnitResult {
  report: UnitReport;
  /** The rewritten Data Unit (absent when the input was not a JSON object). */
  unit?: unknown;
}

export interface Totals {
  units: { total: number; done: number; failed: number };
  images: { total: number; ok: number; skippedExisting: number; failed: number };
  /** Distinct variants handled by this run (each counted once, however many units share it). */
  variants: { produced: number; existing: number; failed: number };
  bytesBefore: number;
  bytesAfter: number;
  savings: number;
  durationMs: number;
  unitsPerSecond: number;
  variantsPerSecond: number;
}
