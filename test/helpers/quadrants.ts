/** Generated images whose regions are told apart by their mean colour (crop and position tests). */
import sharp, { type Sharp } from 'sharp';

export type Rgb = readonly [number, number, number];

export const RED: Rgb = [255, 0, 0];
export const GREEN: Rgb = [0, 255, 0];
export const BLUE: Rgb = [0, 0, 255];
export const YELLOW: Rgb = [255, 255, 0];

const flat = (width: number, height: number, [r, g, b]: Rgb) =>
  sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer();

/**
 * A `width`×`height` image in four flat quadrants: top-left red, top-right green, bottom-left
 * blue, bottom-right yellow (as a lossless PNG pipeline: encode it as the test needs).
 */
export async function quadrants(width: number, height: number): Promise<Sharp> {
  const w = width / 2;
  const h = height / 2;
  return sharp(
    await sharp({ create: { width, height, channels: 3, background: 'black' } })
      .composite([
        { input: await flat(w, h, RED), left: 0, top: 0 },
        { input: await flat(w, h, GREEN), left: w, top: 0 },
        { input: await flat(w, h, BLUE), left: 0, top: h },
        { input: await flat(w, h, YELLOW), left: w, top: h },
      ])
      .png()
      .toBuffer(),
  );
}

/** Mean R, G, B of an encoded image (or of a region of it). */
export async function meanRgb(
  bytes: Buffer,
  region?: { left: number; top: number; width: number; height: number },
): Promise<[number, number, number]> {
  const image = sharp(bytes);
  if (region !== undefined) image.extract(region);
  const { channels } = await sharp(await image.png().toBuffer()).stats();
  const mean = (i: number) => Math.round(channels[i]?.mean ?? Number.NaN);
  return [mean(0), mean(1), mean(2)];
}

/** The largest per-channel difference between two colours. */
export const colourGap = (a: readonly number[], b: readonly number[]) =>
  Math.max(...a.map((v, i) => Math.abs(v - (b[i] ?? Number.NaN))));
