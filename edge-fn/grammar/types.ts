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
/** Where `fit=cover`/`contain` anchors the image: a gravity, or (cover only) sharp's strategies. */
export type Position =
  | 'top'
  | 'right'
  | 'bottom'
  | 'left'
  | 'top-left'
  | 'top-right'
  | 'bottom-left'
  | 'bottom-right'
  | 'attention'
  | 'entropy';

/**
 * A region of the original in per-mille of its width and height (after EXIF orientation),
 * applied before any resize. Edges are on a grid of `CROP_GRID` per-mille: x/y snap down,
 * the far edges snap up, so the region asked for is always inside the one produced.
 */
export interface Crop {
  x: number;
  y: number;
  w: number;
  h: number;
}

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
  /** Region of the original to keep, before resizing; undefined = the whole image. */
  crop?: Crop;
  /** Anchor of `fit=cover`/`contain` (both sizes set); undefined = centre. */
  position?: Position;
  /** Byte budget in KB (1 KB = 1024 bytes), a value of the budget ladder: the variant is never larger. */
  maxKb?: number;
}

/** A placeholder (ThumbHash and data URI, as JSON) of an original, or of a crop of it. */
export interface PlaceholderSpec {
  source: string;
  crop?: Crop;
}

export type ErrorCode =
  | 'IMG_BAD_PARAM'
  | 'IMG_BAD_PATH'
  | 'IMG_BAD_SIGNATURE'
  | 'IMG_BAD_KEY'
  | 'IMG_EXPIRED';

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
  /** Network client hints as received (`ECT`, `RTT` in ms, `Downlink` in Mbps), if any. */
  ectHint?: string | undefined;
  rttHint?: string | undefined;
  downlinkHint?: string | undefined;
  /** Width client hints: `Sec-CH-DPR` (or `DPR`) and `Sec-CH-Width` (or `Width`, physical px). */
  dprHint?: string | undefined;
  widthHint?: string | undefined;
  /** The edge's clock in Unix seconds (for `exp`); default: `Date.now()`. */
  now?: number | undefined;
}
