/**
 * The metadata-free copy of an original that may be served as is (never heavier), or undefined
 * when its bytes must not be served. Every original goes through here, whatever its header
 * says: metadata a header probe does not see (a segment after the first JPEG scan, a PNG text
 * chunk after IDAT, anything after the end of the image) is removed all the same.
 *
 * JPEG, PNG and WebP are stripped losslessly (same pixels). AVIF is never passed through: its
 * metadata (EXIF and XMP items, free-text names and handlers) sits in the box tree the image
 * items are addressed through, and cannot be removed without rewriting it. GIF, TIFF and SVG
 * are never served as is anyway.
 */
import type { SourceFormat } from './formats.ts';
import { stripJpegMetadata } from './strip-jpeg-metadata.ts';
import { stripPngMetadata } from './strip-png-metadata.ts';
import { stripWebpMetadata } from './strip-webp-metadata.ts';

export function withoutMetadata(bytes: Buffer, format: SourceFormat): Buffer | undefined {
  switch (format) {
    case 'jpeg':
      return stripJpegMetadata(bytes);
    case 'png':
      return stripPngMetadata(bytes);
    case 'webp':
      return stripWebpMetadata(bytes);
    default:
      return undefined;
  }
}
