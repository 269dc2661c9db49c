/**
 * Decoding: source bytes → upright, resized, 8-bit sRGB pixels. Colour management happens
 * here: sharp converts any embedded ICC profile (Display P3, Adobe RGB, CMYK, …) and CMYK
 * without a profile (through its built-in CMYK profile) to sRGB before resizing.
 */
import sharp from 'sharp';
import type { OutputFormat } from '../../edge-fn/grammar/types.ts';
import type { RawPixels } from './encode.ts';
import type { ResizePlan } from './resize-plan.ts';

export interface DecodeRequest {
  plan: ResizePlan | undefined;
  /** Decode every frame (the caller has checked the frame and pixel limits). */
  animated: boolean;
  /** Pixel limit passed to sharp as a second guard (the header was already checked). */
  maxInputPixels: number;
  /** The requested format: `contain` pads with white for JPEG, with transparency otherwise. */
  format: OutputFormat;
  /** SVG only: the density it is rendered at (svg-guard.ts `svgDensity`). */
  density?: number | undefined;
}

export interface Decoded {
  pixels: RawPixels;
  /** Size of the output (one frame). */
  width: number;
  height: number;
}

const WHITE = { r: 255, g: 255, b: 255, alpha: 1 };
const TRANSPARENT = { r: 0, g: 0, b: 0, alpha: 0 };

/** Throws whatever sharp throws; the caller classifies it. */
export async function decode(input: Buffer, request: DecodeRequest): Promise<Decoded> {
  const image = sharp(input, {
    // Strict: truncated or corrupt data is an error, never a grey or garbage half image.
    failOn: 'warning',
    limitInputPixels: request.maxInputPixels,
    animated: request.animated,
    ...(request.density !== undefined ? { density: request.density } : {}),
  }).autoOrient();
  if (request.plan !== undefined) {
    image.resize({
      ...request.plan,
      withoutEnlargement: true,
      background: request.format === 'jpeg' ? WHITE : TRANSPARENT,
    });
  }
  const { data, info } = await image
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const frameHeight = request.animated && info.pageHeight !== undefined ? info.pageHeight : info.height;
  return {
    pixels: { data, width: info.width, height: info.height, channels: info.channels },
    width: info.width,
    height: frameHeight,
  };
}
