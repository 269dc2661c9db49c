/**
 * Encoders: decoded, resized sRGB pixels → bytes of one output format. Encoding starts from raw
 * pixels, so a failure here is never the source's fault (decode errors happen earlier).
 */
import sharp, { type Sharp } from 'sharp';
import type { OutputFormat } from '../../edge-fn/grammar/types.ts';

/** Decoded pixels: 8-bit, interleaved; animations are frames stacked vertically. */
export interface RawPixels {
  data: Buffer;
  width: number;
  /** Total height (all frames). */
  height: number;
  channels: 1 | 2 | 3 | 4;
}

export interface Animation {
  /** Height of one frame. */
  frameHeight: number;
  loop?: number | undefined;
  delay?: number[] | undefined;
}

export interface EncodeRequest {
  format: OutputFormat;
  quality: number;
  /** Drop the alpha channel (present but fully opaque: it would only cost bytes). */
  dropAlpha: boolean;
  /** Write one grey channel where the format supports it (JPEG, PNG); the source is greyscale. */
  greyscale: boolean;
  /** Set to keep all frames (WebP only); otherwise the pixels are one still image. */
  animation?: Animation | undefined;
  /**
   * PNG only: one kind of encode (the quality search tries palettes and truecolour itself).
   * Unset: the smaller of a palette at `quality` and lossless truecolour (`quality` 100: lossless).
   */
  png?: 'palette' | 'truecolour' | undefined;
}

export interface Encoded {
  bytes: Buffer;
  /** The quality actually used; 100 for lossless PNG. */
  quality: number;
}

/** AVIF effort: 2 of 0–9. Higher efforts cost seconds per megapixel for a few percent. */
const AVIF_EFFORT = 2;
/** WebP effort: libwebp's default method 4 of 0–6. */
const WEBP_EFFORT = 4;
/** libimagequant effort for PNG palettes (1–10, sharp's default 7). */
const PNG_PALETTE_EFFORT = 7;

function fromRaw(pixels: RawPixels, request: EncodeRequest): Sharp {
  const image = sharp(pixels.data, {
    raw: {
      width: pixels.width,
      height: pixels.height,
      channels: pixels.channels,
      pageHeight: request.animation?.frameHeight,
    },
  });
  if (request.dropAlpha) image.removeAlpha();
  const keepsAlpha = !request.dropAlpha && (pixels.channels === 2 || pixels.channels === 4);
  const grey = request.greyscale && !keepsAlpha && (request.format === 'jpeg' || request.format === 'png');
  // Pixels are sRGB already; untagged output is read as sRGB by every browser, so no ICC
  // profile is attached (it would cost ~500 bytes on every variant for nothing).
  image.toColourspace(grey ? 'b-w' : 'srgb');
  return image;
}

async function encodePng(pixels: RawPixels, request: EncodeRequest): Promise<Encoded> {
  // Lossless truecolour, with adaptive row filters (much smaller than no filter for photos
  // and for flat graphics alike).
  const truecolour = () =>
    fromRaw(pixels, request).png({ compressionLevel: 9, adaptiveFiltering: true }).toBuffer();
  // A palette (libimagequant, dithered) is lossless for images of ≤ 256 colours and a small,
  // near-lossless approximation for others.
  const palette = () =>
    fromRaw(pixels, request)
      .png({ palette: true, quality: request.quality, effort: PNG_PALETTE_EFFORT, compressionLevel: 9 })
      .toBuffer();
  if (request.png === 'truecolour' || request.quality >= 100)
    return { bytes: await truecolour(), quality: 100 };
  if (request.png === 'palette') return { bytes: await palette(), quality: request.quality };
  // Keep whichever of the two attempts is smaller.
  const [lossless, quantised] = await Promise.all([truecolour(), palette()]);
  return quantised.length < lossless.length
    ? { bytes: quantised, quality: request.quality }
    : { bytes: lossless, quality: 100 };
}

/**
 * A palette WebP: the pixels quantised to at most 256 colours by libimagequant (dithered, at
 * `request.quality`) and stored losslessly (libwebp's palette mode). For screenshots and flat
 * graphics often smaller than a lossy WebP and far closer to the pixels (palette-webp.ts).
 */
export async function encodePaletteWebp(pixels: RawPixels, request: EncodeRequest): Promise<Encoded> {
  const quantised = await fromRaw(pixels, request)
    .png({ palette: true, quality: request.quality, effort: PNG_PALETTE_EFFORT, compressionLevel: 0 })
    .toBuffer();
  const bytes = await sharp(quantised).webp({ lossless: true, effort: WEBP_EFFORT }).toBuffer();
  return { bytes, quality: request.quality };
}

export async function encode(pixels: RawPixels, request: EncodeRequest): Promise<Encoded> {
  const { quality } = request;
  switch (request.format) {
    case 'jpeg':
      // mozjpeg: trellis quantisation, optimised progressive scans, a better quant table.
      return {
        bytes: await fromRaw(pixels, request).jpeg({ quality, mozjpeg: true, progressive: true }).toBuffer(),
        quality,
      };
    case 'webp': {
      const animation = request.animation;
      return {
        bytes: await fromRaw(pixels, request)
          .webp({
            quality,
            smartSubsample: true,
            effort: WEBP_EFFORT,
            ...(animation?.loop !== undefined ? { loop: animation.loop } : {}),
            ...(animation?.delay !== undefined ? { delay: animation.delay } : {}),
          })
          .toBuffer(),
        quality,
      };
    }
    case 'avif':
      return {
        bytes: await fromRaw(pixels, request)
          .avif({ quality, effort: AVIF_EFFORT, chromaSubsampling: '4:2:0' })
          .toBuffer(),
        quality,
      };
    case 'png':
      return encodePng(pixels, request);
  }
}
