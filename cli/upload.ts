/**
 * `litepix upload <file…>`: puts originals into the originals bucket: the local stack's by
 * default, or a real bucket with --bucket and the standard AWS environment. Each file must be
 * an image (sniffed from its bytes, not its name) before anything is uploaded.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { checkSourceKey } from '../edge-fn/grammar/source-key.ts';
import { ORIGIN_SETTINGS } from '../origin-fn/config.ts';
import { createS3Client } from '../origin-fn/s3-client.ts';
import { readSetting, type SettingsOf } from '../origin-fn/settings-schema.ts';
import { SOURCE_CONTENT_TYPES, type SourceFormat } from '../origin-fn/transform/formats.ts';
import { localS3Client } from './local-s3.ts';
import { UsageError } from './usage-error.ts';

export interface UploadOptions {
  files: string[];
  key?: string | undefined;
  prefix?: string | undefined;
  /** A real bucket (AWS environment); undefined = the local stack. */
  bucket?: string | undefined;
  /** The local stack's S3 endpoint (used without --bucket). */
  s3Endpoint: string;
  cdnBase: string;
}

export interface UploadOutcome {
  file: string;
  key?: string;
  ok: boolean;
  message: string;
}

/** sharp's format names of the raster sources the origin serves (SVG is not uploaded). */
const UPLOADED: Readonly<Record<string, SourceFormat>> = {
  jpeg: 'jpeg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  heif: 'avif',
  tiff: 'tiff',
};

/** One of the origin's variables (the same schema, so upload and the origin agree on it). */
function originSetting<K extends keyof typeof ORIGIN_SETTINGS>(name: K): OriginSettings[K] {
  return readSetting(name, ORIGIN_SETTINGS[name], process.env[name], {
    emptyIsUnset: true,
    error: (message) => new UsageError(`upload: ${message}`),
  }) as OriginSettings[K];
}
type OriginSettings = SettingsOf<typeof ORIGIN_SETTINGS>;

function client(options: UploadOptions): S3Client {
  if (options.bucket) {
    const endpoint = originSetting('AWS_ENDPOINT_URL_S3');
    return createS3Client({ region: originSetting('AWS_REGION'), endpoint, forcePathStyle: !!endpoint });
  }
  return localS3Client(options.s3Endpoint, { maxAttempts: 1 });
}

export function keyFor(file: string, options: Pick<UploadOptions, 'key' | 'prefix'>): string {
  if (options.key) return options.key;
  const prefix = options.prefix ? `${options.prefix.replace(/\/+$/, '')}/` : '';
  return `${prefix}${basename(file)}`;
}

export async function upload(options: UploadOptions): Promise<UploadOutcome[]> {
  const s3 = client(options);
  const bucket = options.bucket ?? originSetting('LITEPIX_ORIGINALS_BUCKET');
  const outcomes: UploadOutcome[] = [];
  try {
    for (const file of options.files) {
      const key = keyFor(file, options);
      const unsafe = checkSourceKey(key, key);
      if (unsafe) {
        outcomes.push({ file, ok: false, message: unsafe.message });
        continue;
      }
      let bytes: Buffer;
      let type: string | undefined;
      let info = '';
      try {
        bytes = await readFile(file);
        const meta = await sharp(bytes).metadata();
        const format = meta.format ? UPLOADED[meta.format] : undefined;
        type = format ? SOURCE_CONTENT_TYPES[format] : undefined;
        info = `${meta.format} ${meta.width}x${meta.height}`;
      } catch (err) {
        const why =
          (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not an image sharp can read';
        outcomes.push({ file, key, ok: false, message: `${file}: ${why}` });
        continue;
      }
      if (!type) {
        outcomes.push({
          file,
          key,
          ok: false,
          message: `${file}: ${info.split(' ')[0]} is not an accepted image format (JPEG, PNG, WebP, GIF, AVIF, TIFF)`,
        });
        continue;
      }
      try {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: type }));
        outcomes.push({
          file,
          key,
          ok: true,
          message: `${file} → ${bucket}/${key} (${bytes.length} bytes, ${info})  ${options.cdnBase}/${encodeURI(key)}`,
        });
      } catch (err) {
        const hint = options.bucket
          ? 'check AWS_REGION / AWS_PROFILE and the bucket name'
          : 'is `litepix dev` (npm start) running?';
        outcomes.push({
          file,
          key,
          ok: false,
          message: `${file}: upload failed (${(err as Error).name}); ${hint}`,
        });
      }
    }
  } finally {
    s3.destroy();
  }
  return outcomes;
}
