/**
 * `litepix upload <file…>`: puts originals into the originals bucket: the local stack's by
 * default, or a real bucket with --bucket and the standard AWS environment. Each file must be
 * an image (sniffed from its bytes, not its name) before anything is uploaded.
 *
 * A key that already holds other bytes is refused unless `replace` (--replace): variants are
 * served `immutable` for a year, so viewers' browsers keep the old picture whatever the CDN
 * does, and a changed picture belongs under a new key. Replaced anyway, the bucket and the CDN
 * follow (the S3-event Lambda on AWS, the S3 door locally: cli/local-originals-sync.ts). The
 * same bytes again are not uploaded again.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
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
  /** Replace a key that already holds other bytes (refused otherwise). */
  replace?: boolean | undefined;
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

/**
 * What the bucket holds at `key`: nothing, these very bytes (same MD5 ETag and type), or other
 * bytes. A 403 (no s3:ListBucket: S3 hides whether the key exists) counts as nothing.
 */
async function existing(
  s3: S3Client,
  bucket: string,
  key: string,
  bytes: Buffer,
  type: string,
): Promise<'none' | 'same' | 'other'> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const md5 = createHash('md5').update(bytes).digest('hex');
    return head.ETag?.replaceAll('"', '') === md5 && head.ContentType === type ? 'same' : 'other';
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || status === 403) return 'none';
    throw err;
  }
}

/** Why a request to the bucket failed, and what to check. */
function failure(err: unknown, options: UploadOptions): string {
  const { name, code } = err as { name?: string; code?: string };
  if (options.bucket) return `${code ?? name ?? 'error'}; check AWS_REGION / AWS_PROFILE and the bucket name`;
  if (code === 'ECONNREFUSED')
    return (
      `no local stack answers at ${options.s3Endpoint}. Start it with npm start, or, if it runs ` +
      'with another --data-dir, point LITEPIX_DATA_DIR at that dir (its stack.json says where it listens)'
    );
  return `${code ?? name ?? 'error'} from the local stack at ${options.s3Endpoint}; is litepix dev (npm start) running?`;
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
      const where = `${bucket}/${key}`;
      try {
        const held = await existing(s3, bucket, key, bytes, type);
        if (held === 'same') {
          outcomes.push({
            file,
            key,
            ok: true,
            message: `unchanged ${file}: ${where} holds these bytes already`,
          });
          continue;
        }
        if (held === 'other' && !options.replace) {
          outcomes.push({
            file,
            key,
            ok: false,
            message:
              `${file}: ${where} already holds a different image, not replaced. Browsers keep its variants ` +
              'up to a year (immutable), so a changed picture belongs under a new key; --replace replaces ' +
              'it anyway (its variants are made again, the CDN invalidated)',
          });
          continue;
        }
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: type }));
        outcomes.push({
          file,
          key,
          ok: true,
          message: `${held === 'other' ? 'replaced' : 'uploaded'} ${file} → ${where} (${bytes.length} bytes, ${info})  ${options.cdnBase}/${encodeURI(key)}`,
        });
      } catch (err) {
        outcomes.push({ file, key, ok: false, message: `${file}: upload failed: ${failure(err, options)}` });
      }
    }
  } finally {
    s3.destroy();
  }
  return outcomes;
}
