/**
 * Verification of one stored variant: it exists (the caller read it back or just wrote it), it
 * decodes (every pixel, not only the header), its format is the one asked for (or the
 * documented substitutes: PNG for a transparent JPEG, WebP for an AVIF beyond the AVIF pixel
 * limit), its size is what the spec gives for the original (when the original's size is known;
 * otherwise within the spec's box), and it is not heavier than the original.
 */
import sharp, { type Metadata } from 'sharp';
import type { OutputFormat, VariantSpec } from '../edge-fn/grammar/types.ts';
import { outputSize, planGeometry } from '../origin-fn/transform/resize-plan.ts';
import { PrewarmError } from './errors.ts';

export interface VerifyInput {
  key: string;
  bytes: Buffer;
  spec: VariantSpec;
  originalBytes: number;
  /** Size of the original as displayed, when known. */
  source?: { width: number; height: number } | undefined;
  maxOutputDimension: number;
  avifMaxPixels: number;
  /**
   * The bytes were decoded in full in this process already (a variant just produced, whose
   * final candidate the quality search decoded and measured): the header is still read and
   * checked, the pixels are not decoded a second time. Variants read back from storage never set it.
   */
  decodedInProcess?: boolean | undefined;
}

export interface Verified {
  format: OutputFormat;
  width: number;
  height: number;
}

function sharpFormat(meta: Metadata): OutputFormat | undefined {
  if (meta.format === 'heif') return meta.compression === 'av1' ? 'avif' : undefined;
  if (meta.format === 'jpeg' || meta.format === 'png' || meta.format === 'webp') return meta.format;
  return undefined;
}

/** The output size the transform makes of a source for a spec (its crop, the plan, then `inside` scaling). */
export function expectedSize(
  source: { width: number; height: number },
  spec: VariantSpec,
  maxOutputDimension: number,
): { width: number; height: number } {
  const { size, plan } = planGeometry(source, spec, maxOutputDimension);
  return outputSize(size, plan);
}

export async function verifyVariant(input: VerifyInput): Promise<Verified> {
  const { key, bytes, spec } = input;
  const fail = (
    code: 'VERIFY_UNDECODABLE' | 'VERIFY_FORMAT' | 'VERIFY_DIMENSIONS' | 'VERIFY_HEAVIER',
    why: string,
  ) => new PrewarmError(code, `Variant ${JSON.stringify(key)} ${why}`, { status: 500 });
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
    // Decodes every pixel (a truncated or corrupt body fails here); raw output is the cheapest sink.
    if (!input.decodedInProcess) await sharp(bytes).raw().toBuffer();
  } catch (cause) {
    throw Object.assign(fail('VERIFY_UNDECODABLE', 'does not decode'), { cause });
  }
  const format = sharpFormat(meta);
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  const substitute =
    (spec.format === 'jpeg' && format === 'png' && meta.hasAlpha === true) ||
    (spec.format === 'avif' && format === 'webp' && width * height > input.avifMaxPixels);
  if (format !== spec.format && !substitute)
    throw fail('VERIFY_FORMAT', `is ${format ?? meta.format ?? 'unknown'}, expected ${spec.format}`);
  if (input.source) {
    const want = expectedSize(input.source, spec, input.maxOutputDimension);
    if (Math.abs(want.width - width) > 1 || Math.abs(want.height - height) > 1)
      throw fail('VERIFY_DIMENSIONS', `is ${width}×${height}, expected ${want.width}×${want.height}`);
  } else if (
    (spec.width !== undefined && width > spec.width) ||
    (spec.height !== undefined && height > spec.height) ||
    Math.max(width, height) > input.maxOutputDimension
  ) {
    throw fail('VERIFY_DIMENSIONS', `is ${width}×${height}, larger than its box`);
  }
  if (bytes.length > input.originalBytes)
    throw fail(
      'VERIFY_HEAVIER',
      `is ${bytes.length} bytes, heavier than its original (${input.originalBytes} bytes)`,
    );
  return { format: format ?? spec.format, width, height };
}
