/**
 * Perceptual comparison for tests: image tests compare what people see, never bytes.
 *
 * Both images are decoded by sharp (EXIF orientation applied, colour-managed to sRGB),
 * flattened onto white (so transparent pixels compare by what they show), resized to the same
 * size and compared on luma (SSIM) or on RGB (mean absolute difference).
 */
import sharp from 'sharp';

export interface CompareOptions {
  /** Longest side both images are reduced to before comparing (default 256). */
  maxSide?: number;
  /** Flatten transparent pixels onto this colour (default white). */
  background?: string;
}

interface Pixels {
  data: Buffer;
  width: number;
  height: number;
}

/** Decodes to 8-bit sRGB (3 channels), flattened, at exactly width × height. */
async function rgbAt(image: Buffer, width: number, height: number, background: string): Promise<Pixels> {
  const { data, info } = await sharp(image)
    .autoOrient()
    .flatten({ background })
    .resize({ width, height, fit: 'fill' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** The size both images are compared at: `a`'s oriented size, longest side ≤ maxSide. */
async function comparisonSize(a: Buffer, maxSide: number): Promise<{ width: number; height: number }> {
  const meta = await sharp(a).metadata();
  const { width, height } = meta.autoOrient;
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

async function decodePair(a: Buffer, b: Buffer, options: CompareOptions): Promise<[Pixels, Pixels]> {
  const background = options.background ?? '#ffffff';
  const { width, height } = await comparisonSize(a, options.maxSide ?? 256);
  return Promise.all([rgbAt(a, width, height, background), rgbAt(b, width, height, background)]);
}

function luma(p: Pixels): Float64Array {
  const out = new Float64Array(p.width * p.height);
  for (let i = 0, j = 0; i < out.length; i++, j += 3) {
    out[i] = 0.299 * (p.data[j] ?? 0) + 0.587 * (p.data[j + 1] ?? 0) + 0.114 * (p.data[j + 2] ?? 0);
  }
  return out;
}

/**
 * Structural similarity of the two images' luma, averaged over 8×8 windows (stride 4):
 * 1 = identical, ≥ 0.95 looks the same at a glance, < 0.8 is visibly different.
 */
export async function ssim(a: Buffer, b: Buffer, options: CompareOptions = {}): Promise<number> {
  const [pa, pb] = await decodePair(a, b, options);
  const ya = luma(pa);
  const yb = luma(pb);
  const { width, height } = pa;
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  const win = Math.min(8, width, height);
  const step = Math.max(1, win >> 1);
  let total = 0;
  let count = 0;
  for (let y0 = 0; y0 + win <= height; y0 += step) {
    for (let x0 = 0; x0 + win <= width; x0 += step) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let y = y0; y < y0 + win; y++) {
        for (let x = x0; x < x0 + win; x++) {
          const va = ya[y * width + x] ?? 0;
          const vb = yb[y * width + x] ?? 0;
          sa += va;
          sb += vb;
          saa += va * va;
          sbb += vb * vb;
          sab += va * vb;
        }
      }
      const n = win * win;
      const ma = sa / n;
      const mb = sb / n;
      const varA = saa / n - ma * ma;
      const varB = sbb / n - mb * mb;
      const cov = sab / n - ma * mb;
      total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (varA + varB + c2));
      count++;
    }
  }
  return count === 0 ? 1 : total / count;
}

/**
 * Mean absolute difference of the RGB values (0 = identical, 255 = opposite), compared at a
 * small size so that it measures colour and layout, not compression noise.
 */
export async function meanAbsoluteDifference(
  a: Buffer,
  b: Buffer,
  options: CompareOptions = {},
): Promise<number> {
  const [pa, pb] = await decodePair(a, b, { maxSide: 64, ...options });
  let sum = 0;
  for (let i = 0; i < pa.data.length; i++) sum += Math.abs((pa.data[i] ?? 0) - (pb.data[i] ?? 0));
  return sum / pa.data.length;
}

/** Mean absolute difference of the alpha channels (0–255) at a small size: does transparency survive? */
export async function alphaDifference(a: Buffer, b: Buffer, maxSide = 64): Promise<number> {
  const { width, height } = await comparisonSize(a, maxSide);
  const alpha = async (image: Buffer) =>
    sharp(image)
      .autoOrient()
      .ensureAlpha()
      .resize({ width, height, fit: 'fill' })
      .extractChannel('alpha')
      .raw()
      .toBuffer();
  const [aa, ab] = await Promise.all([alpha(a), alpha(b)]);
  let sum = 0;
  for (let i = 0; i < aa.length; i++) sum += Math.abs((aa[i] ?? 0) - (ab[i] ?? 0));
  return sum / aa.length;
}
