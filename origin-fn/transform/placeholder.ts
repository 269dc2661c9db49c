/**
 * Placeholders: a ThumbHash (evanw's `thumbhash`: about 25 bytes that keep the aspect ratio,
 * alpha and more detail than a BlurHash of the same size) of an image, or of a per-mille crop
 * of it, with the PNG it renders to as a data URI (drawn from the hash, encoded by sharp), the
 * hash's average colour and the size of the image it stands for (after EXIF orientation).
 * The origin makes one from the original bytes (`makePlaceholder`: shrink-on-load to at most
 * 100 px); the pre-warm from pixels it has already decoded (`placeholderFromPixels`).
 */
import sharp, { type OutputInfo } from 'sharp';
import { rgbaToThumbHash, thumbHashToAverageRGBA, thumbHashToRGBA } from 'thumbhash';
import type { Crop } from '../../edge-fn/grammar/types.ts';
import { unsupported } from '../errors.ts';
import type { TransformLimits } from './limits.ts';
import { probeSource } from './probe-source.ts';

/** ThumbHash encodes images of at most 100 × 100 pixels. */
export const PLACEHOLDER_MAX_SIDE = 100;

export interface Placeholder {
  /** Size of the image (or of its crop) in pixels, after EXIF orientation. */
  width: number;
  height: number;
  /** The ThumbHash bytes, base64. */
  thumbhash: string;
  /** `data:image/png;base64,…`: the hash rendered (at most 32 px on its longer side). */
  dataUri: string;
  /** The hash's average colour, `#rrggbb` (or `#rrggbbaa` when it is not opaque). */
  averageColor: string;
}

/** Upright sRGB pixels, 1 to 4 channels (grey, grey + alpha, RGB, RGBA). */
export interface PlaceholderPixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

export interface PixelRect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * A per-mille crop as pixels of a `width` × `height` image: near edges rounded down, far edges
 * up (as the grammar snaps a crop), so the region asked for is inside the one given; at least
 * one pixel each way.
 */
export function cropRect(crop: Crop | undefined, width: number, height: number): PixelRect {
  if (crop === undefined) return { left: 0, top: 0, width, height };
  const left = Math.min(width - 1, Math.floor((width * crop.x) / 1000));
  const top = Math.min(height - 1, Math.floor((height * crop.y) / 1000));
  const right = Math.min(width, Math.max(left + 1, Math.ceil((width * (crop.x + crop.w)) / 1000)));
  const bottom = Math.min(height, Math.max(top + 1, Math.ceil((height * (crop.y + crop.h)) / 1000)));
  return { left, top, width: right - left, height: bottom - top };
}

const hex = (n: number) =>
  Math.round(Math.min(1, Math.max(0, n)) * 255)
    .toString(16)
    .padStart(2, '0');

/** The PNG the hash renders to, as a data URI (alpha kept only when the hash has some). */
export async function renderThumbHash(hash: Uint8Array): Promise<string> {
  const { w, h, rgba } = thumbHashToRGBA(hash);
  let image = sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), {
    raw: { width: w, height: h, channels: 4 },
  });
  if (thumbHashToAverageRGBA(hash).a >= 1) image = image.removeAlpha();
  const png = await image.png({ compressionLevel: 9, adaptiveFiltering: true }).toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** The placeholder of upright sRGB pixels standing for an image of `size`. */
export async function placeholderFromPixels(
  pixels: PlaceholderPixels,
  size: { width: number; height: number },
): Promise<Placeholder> {
  const { data, width, height, channels } = pixels;
  const { data: rgba, info } = await sharp(data, { raw: { width, height, channels } })
    .resize({
      width: PLACEHOLDER_MAX_SIDE,
      height: PLACEHOLDER_MAX_SIDE,
      fit: 'inside',
      withoutEnlargement: true,
    })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const hash = rgbaToThumbHash(info.width, info.height, rgba);
  const average = thumbHashToAverageRGBA(hash);
  return {
    width: size.width,
    height: size.height,
    thumbhash: Buffer.from(hash).toString('base64'),
    dataUri: await renderThumbHash(hash),
    averageColor: `#${hex(average.r)}${hex(average.g)}${hex(average.b)}${average.a < 1 ? hex(average.a) : ''}`,
  };
}

/**
 * The placeholder of an original (its first frame), or of a crop of it: the header is probed
 * with the transform's limits (413/415 as for a variant), the pixels decoded with shrink-on-load
 * at the smallest size that still gives the crop 100 px on its longer side.
 */
export async function makePlaceholder(
  input: Buffer,
  crop: Crop | undefined,
  limits: TransformLimits,
): Promise<Placeholder> {
  const source = await probeSource(input, limits);
  const rect = cropRect(crop, source.width, source.height);
  const scale = Math.min(1, PLACEHOLDER_MAX_SIDE / Math.max(rect.width, rect.height));
  const boxW = Math.max(1, Math.ceil(source.width * scale));
  const boxH = Math.max(1, Math.ceil(source.height * scale));
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    const image = sharp(input, { failOn: 'warning', limitInputPixels: limits.maxInputPixels })
      .autoOrient()
      .resize({ width: boxW, height: boxH, fit: 'fill' });
    if (crop !== undefined) {
      const left = Math.min(boxW - 1, Math.floor(rect.left * scale));
      const top = Math.min(boxH - 1, Math.floor(rect.top * scale));
      image.extract({
        left,
        top,
        width: Math.max(1, Math.min(boxW - left, Math.round(rect.width * scale))),
        height: Math.max(1, Math.min(boxH - top, Math.round(rect.height * scale))),
      });
    }
    decoded = await image.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw unsupported(
      'IMG_CORRUPT',
      'The image is damaged (truncated or corrupt data). Re-export the file.',
      err,
    );
  }
  const { data, info } = decoded;
  return placeholderFromPixels(
    { data, width: info.width, height: info.height, channels: info.channels as 1 | 2 | 3 | 4 },
    { width: rect.width, height: rect.height },
  );
}
