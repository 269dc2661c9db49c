/** The transform core's public types. */
import type { VariantSpec } from '../../edge-fn/grammar/types.ts';
import type { ServedFormat } from './formats.ts';
import type { QualityReport } from './quality.ts';
import type { TransformManyOptions } from './transform-many.ts';

export interface TransformResult {
  bytes: Buffer;
  /** The format actually served (may differ from the spec's: see `transform`). */
  format: ServedFormat;
  /** Exact Content-Type of `bytes`. */
  contentType: string;
  /** Size of the served image (one frame for an animation). */
  width: number;
  height: number;
  /** Size of the source in bytes. */
  originalBytes: number;
  /**
   * Quality used: the encoder's; for PNG the palette quality, or 100 when lossless. When the
   * original is served, the quality of the encode that was not lighter.
   */
  quality: number;
  /** True when the source's own bytes are served because no encode was lighter. */
  servedOriginal: boolean;
  /** How the quality was chosen: search or fixed, perceptual distance, encoder runs. */
  qualityReport: QualityReport;
  /**
   * True when `bytes` were decoded in full (every pixel, sharp's default strictness) inside the
   * transform: the search's chosen candidate. A verifier that trusts this process may skip
   * decoding them again.
   */
  decodedInProcess: boolean;
  /** True when the output keeps every frame of an animated source. */
  animated: boolean;
  timings: { decodeMs: number; encodeMs: number };
}

export interface Transformer {
  /**
   * Throws ImageError: 400 IMG_BAD_PARAM (spec), 413 IMG_TOO_LARGE / IMG_TOO_MANY_PIXELS /
   * IMG_TOO_MANY_FRAMES / IMG_TOO_COMPLEX, 415 IMG_UNSUPPORTED / IMG_CORRUPT. Anything else is
   * an internal fault.
   *
   * There is no time limit here: sharp's `timeout()` does not interrupt encoders (libaom,
   * libimagequant), so a deadline must be enforced by the caller (e.g. the Lambda timeout).
   */
  transform(input: Buffer, spec: VariantSpec): Promise<TransformResult>;
  /**
   * Every spec of one source from one probe and as few decodes as possible (transform-many.ts):
   * one outcome per spec, in order; a refused spec fails alone (its error as `transform` throws it).
   * Optional: without it, callers transform spec by spec.
   */
  transformMany?(
    input: Buffer,
    specs: VariantSpec[],
    options?: Pick<TransformManyOptions, 'onStill'>,
  ): Promise<TransformOutcome[]>;
}

export type TransformOutcome = { ok: true; result: TransformResult } | { ok: false; error: unknown };
