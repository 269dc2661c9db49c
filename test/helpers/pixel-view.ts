import sharp, { type Sharp } from 'sharp';
import type { PixelView } from '../../origin-fn/transform/distance.ts';

/** The raw pixels of an image (encoded bytes, or a sharp pipeline) as the distance reads them. */
export async function pixelView(image: Buffer | Sharp): Promise<PixelView> {
  const pipeline = Buffer.isBuffer(image) ? sharp(image) : image;
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** A sharp pipeline over a pixel view (to encode it, or to cut a region of it). */
export function sharpOf(view: PixelView): Sharp {
  return sharp(Buffer.from(view.data), {
    raw: { width: view.width, height: view.height, channels: view.channels as 1 | 2 | 3 | 4 },
  });
}
