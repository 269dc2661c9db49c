/**
 * Image formats the transform reads and writes, their content types, and a byte-signature
 * check used only to tell "a damaged image" from "not an image" when sharp cannot read a header.
 */
import type { OutputFormat } from '../../edge-fn/grammar/types.ts';

/** Formats a source may have (sniffed from its bytes, never from its name). */
export type SourceFormat = 'jpeg' | 'png' | 'webp' | 'avif' | 'heic' | 'gif' | 'tiff' | 'svg';

/** What a response can carry: an encode, or (gif) an original served as is. */
export type ServedFormat = OutputFormat | 'gif';

export const CONTENT_TYPES: Readonly<Record<ServedFormat, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
};

/** Content types of every source format (an original stored by upload, ingest or the playground). */
export const SOURCE_CONTENT_TYPES: Readonly<Record<SourceFormat, string>> = {
  ...CONTENT_TYPES,
  heic: 'image/heic',
  tiff: 'image/tiff',
  svg: 'image/svg+xml',
};

/** The usual file extension of each source format (ingested originals are stored under it). */
export const SOURCE_EXTENSIONS: Readonly<Record<SourceFormat, string>> = {
  jpeg: 'jpg',
  png: 'png',
  webp: 'webp',
  avif: 'avif',
  heic: 'heic',
  gif: 'gif',
  tiff: 'tif',
  svg: 'svg',
};

/** The content type of a file by its name's extension (seeding samples), or undefined. */
export function contentTypeOfName(name: string): string | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  if (ext === undefined) return undefined;
  const aliases: Record<string, SourceFormat> = {
    jpg: 'jpeg',
    jpeg: 'jpeg',
    tif: 'tiff',
    tiff: 'tiff',
    heif: 'heic',
  };
  const format =
    aliases[ext] ?? (Object.hasOwn(SOURCE_CONTENT_TYPES, ext) ? (ext as SourceFormat) : undefined);
  return format === undefined ? undefined : SOURCE_CONTENT_TYPES[format];
}

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
