/**
 * Types of the variant grammar. This folder is dependency-free and written in the subset of
 * JavaScript that the CloudFront Functions runtime (cloudfront-js-2.0) runs: no classes, no
 * for-of, no destructuring, no spread, no Map/Set. The build enforces it (scripts/build.ts).
 */

export type Fit = 'inside' | 'cover' | 'contain' | 'fill' | 'outside';
export type OutputFormat = 'jpeg' | 'webp' | 'avif' | 'png';
export type RequestedFormat = OutputFormat | 'auto';
/** `auto` = the default perceptual target; `lite` = the lighter Save-Data target. */
export type Quality = number | 'auto' | 'lite';

/** A variant, fully resolved: what the origin must produce. */
export interface VariantSpec {
  /** The original's key in the originals bucket (decoded, no leading slash). */
  source: string;
  /** Target width in pixels, a ladder value; undefined = the original's width. */
  width?: number;
  /** Target height in pixels, a ladder value; undefined = the original's height. */
  height?: number;
  /** Only meaningful when both width and height are set; `inside` otherwise. */
  fit: Fit;
  quality: Quality;
  format: OutputFormat;
}

export type ErrorCode = 'IMG_BAD_PARAM' | 'IMG_BAD_PATH' | 'IMG_BAD_SIGNATURE' | 'IMG_BAD_KEY';

/** A refusal: plain data (the CloudFront runtime has no classes); adapters wrap it. */
export interface GrammarError {
  ok: false;
  status: 400 | 403;
  code: ErrorCode;
  message: string;
}

export interface Normalized {
  ok: true;
  spec: VariantSpec;
  /** The variant key (S3 object key in the variants bucket, no leading slash). */
  key: string;
}

/** One query parameter as received (name and value already percent-decoded). */
export interface QueryParam {
  name: string;
  value: string;
}

export interface ViewerRequest {
  /** The raw request path, percent-encoded as received, starting with `/`. */
  path: string;
  params: QueryParam[];
  /** The `Accept` header, if any. */
  accept?: string | undefined;
  /** The `Save-Data` header, if any. */
  saveData?: string | undefined;
}
