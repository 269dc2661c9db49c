/**
 * Failures of pre-warm work. Each carries a stable `code` (in the report), the `status` an HTTP
 * answer would have, whether retrying can help (`transient`), and the `cause`. Failures of the
 * origin's core (ImageError: missing original, not an image, too large…) keep their own codes.
 */
import { ImageError } from '../origin-fn/errors.ts';

export type PrewarmErrorCode =
  | 'PREWARM_BAD_JSON'
  | 'PREWARM_NOT_OBJECT'
  | 'PREWARM_NO_IMAGES'
  | 'PREWARM_BAD_REF'
  | 'PREWARM_VARIANT_KEY'
  | 'PREWARM_EXTERNAL_OFF'
  | 'PREWARM_UNIT_TOO_LARGE'
  | 'PREWARM_TOO_DEEP'
  | 'PREWARM_OUTPUT_FAILED'
  | 'INGEST_REFUSED'
  | 'INGEST_TOO_LARGE'
  | 'INGEST_TIMEOUT'
  | 'INGEST_HTTP'
  | 'INGEST_NOT_IMAGE'
  | 'INGEST_UNREACHABLE'
  | 'VERIFY_MISSING'
  | 'VERIFY_UNDECODABLE'
  | 'VERIFY_FORMAT'
  | 'VERIFY_DIMENSIONS'
  | 'VERIFY_HEAVIER'
  | 'VERIFY_CDN';

export class PrewarmError extends Error {
  override name = 'PrewarmError';
  readonly code: PrewarmErrorCode;
  readonly status: number;
  readonly transient: boolean;

  constructor(
    code: PrewarmErrorCode,
    message: string,
    options: { status?: number; transient?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 400;
    this.transient = options.transient ?? false;
  }
}

/** What the report says about a failure: a code and a message meant for people. */
export interface Failure {
  code: string;
  message: string;
  transient: boolean;
}

/** Any thrown value → a reportable failure (unknown faults: a generic message, detail logged by the caller). */
export function toFailure(err: unknown): Failure {
  if (err instanceof PrewarmError) return { code: err.code, message: err.message, transient: err.transient };
  if (err instanceof ImageError) {
    const message = err.status === 500 ? 'Internal error while producing the image' : err.message;
    return { code: err.code, message, transient: err.status === 503 || err.code === 'IMG_TIMEOUT' };
  }
  return { code: 'IMG_INTERNAL', message: 'Internal error while producing the image', transient: false };
}

/** True for faults a retry may cure: storage unavailable (503), timeouts, dropped connections. */
export function isTransient(err: unknown): boolean {
  return toFailure(err).transient;
}
