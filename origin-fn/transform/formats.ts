/**
 * Image formats the transform reads and writes, their content types, and a byte-signature
 * check used only to tell "a damaged image" from "not an image" when sharp cannot read a header.
 */
import type { OutputFormat } from '../../edge-fn/grammar/types.ts';

/** Formats a source may have (sniffed from its bytes, never from its name). */
export type SourceFormat = 'jpeg' | 'png' | 'webp' | 'avif' | 'gif' | 'tiff' | 'svg';

/** What a response can carry: an encode, or (gif) an original served as is. */
export type ServedFormat = OutputFormat | 'gif';

export const CONTENT_TYPES: Readonly<Record<ServedFormat, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
};

/** The served format a source's own bytes would have, if it can be served as is. */
export function servableAs(format: SourceFormat): ServedFormat | undefined {
  switch (format) {
    case 'jpeg':
    case 'png':
    case 'webp':
    case 'avif':
    case 'gif':
      return format;
    default:
      return undefined;
  }
}

const ascii = (bytes: Buffer, start: number, text: string) =>
  bytes.length >= start + text.length && bytes.toString('latin1', start, start + text.length) === text;

/**
 * True when the bytes start like a raster image sharp can decode (JPEG, PNG, GIF, WebP,
 * HEIF/AVIF, TIFF). Used after sharp failed to read the header, to answer IMG_CORRUPT
 * (an image, but damaged) rather than IMG_UNSUPPORTED (not an image at all).
 */
export function hasImageSignature(bytes: Buffer): boolean {
  return (
    (bytes[0] === 0xff && bytes[1] === 0xd8) ||
    ascii(bytes, 0, '\x89PNG\r\n\x1a\n') ||
    ascii(bytes, 0, 'GIF87a') ||
    ascii(bytes, 0, 'GIF89a') ||
    (ascii(bytes, 0, 'RIFF') && ascii(bytes, 8, 'WEBP')) ||
    ascii(bytes, 4, 'ftyp') ||
    ascii(bytes, 0, 'II*\0') ||
    ascii(bytes, 0, 'MM\0*')
  );
}
