import sharp from 'sharp';
import type { PixelView } from '../../origin-fn/transform/distance.ts';
import { sharpOf } from './pixel-view.ts';

/**
 * `reference` with its centred `size`×`size` patch (aligned to JPEG's 8-pixel blocks) replaced
 * by that patch encoded alone as a mozjpeg JPEG at `quality` and decoded again: one small
 * damaged area in an otherwise untouched image.
 */
export async function withDamagedPatch(
  reference: PixelView,
  size: number,
  quality: number,
): Promise<PixelView> {
  const { width, height, channels } = reference;
  const left = ((width - size) >> 4) << 3;
  const top = ((height - size) >> 4) << 3;
  const { data: patch } = await sharp(
    await sharpOf(reference)
      .extract({ left, top, width: size, height: size })
      .jpeg({ quality, mozjpeg: true })
      .toBuffer(),
  )
    .raw()
    .toBuffer({ resolveWithObject: true });
  const out = Buffer.from(reference.data);
  const row = size * channels;
  for (let y = 0; y < size; y++)
    out.set(patch.subarray(y * row, (y + 1) * row), ((top + y) * width + left) * channels);
  return { data: out, width, height, channels };
}
