/**
 * Errors of the origin: each carries the HTTP status the client gets, a stable code and the
 * cause. User faults are 4xx with a message meant for the user; anything else becomes a
 * generic 500 whose detail is logged, never sent.
 */

export type ImageErrorCode =
  | 'IMG_BAD_PARAM'
  | 'IMG_BAD_PATH'
  | 'IMG_BAD_KEY'
  | 'IMG_BAD_SIGNATURE'
  | 'IMG_EXPIRED'
  | 'IMG_NOT_FOUND'
  | 'IMG_TOO_LARGE'
  | 'IMG_TOO_MANY_PIXELS'
  | 'IMG_TOO_MANY_FRAMES'
  | 'IMG_TOO_COMPLEX'
  | 'IMG_OVER_BUDGET'
  | 'IMG_UNSUPPORTED'
  | 'IMG_CORRUPT'
  | 'IMG_STORAGE_UNAVAILABLE'
  | 'IMG_TIMEOUT'
  | 'IMG_INTERNAL';

export class ImageError extends Error {
  override name = 'ImageError';
  readonly status: number;
  readonly code: ImageErrorCode;

  constructor(status: number, code: ImageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
    this.code = code;
  }
}

export const badRequest = (code: ImageErrorCode, message: string) => new ImageError(400, code, message);
export const notFound = (message: string, cause?: unknown) =>
  new ImageError(404, 'IMG_NOT_FOUND', message, { cause });
export const tooLarge = (
  code:
    | 'IMG_TOO_LARGE'
    | 'IMG_TOO_MANY_PIXELS'
    | 'IMG_TOO_MANY_FRAMES'
    | 'IMG_TOO_COMPLEX'
    | 'IMG_OVER_BUDGET',
  message: string,
) => new ImageError(413, code, message);
export const unsupported = (code: 'IMG_UNSUPPORTED' | 'IMG_CORRUPT', message: string, cause?: unknown) =>
  new ImageError(415, code, message, { cause });
export const storageUnavailable = (message: string, cause?: unknown) =>
  new ImageError(503, 'IMG_STORAGE_UNAVAILABLE', message, { cause });

/** Any thrown value → an ImageError (unknown faults become a generic 500). */
export function toImageError(err: unknown): ImageError {
  if (err instanceof ImageError) return err;
  return new ImageError(500, 'IMG_INTERNAL', 'Internal error while producing the image', { cause: err });
}
