/**
 * Stored placeholders: `<version>/<original>/[crop-x-y-w-h.]placeholder.json` in the variants
 * bucket, beside the original's variants, with the same caching and the original's ETag and
 * version in its metadata (so the S3-event Lambda deletes it with the variants when the original
 * changes). The origin makes one on a miss; the pre-warm stores the one its facts carry, so
 * `?placeholder=1` through the CDN answers exactly what a rewritten Data Unit holds.
 */

import { thumbHashToRGBA } from 'thumbhash';
import * as v from 'valibot';
import type { PlaceholderSpec } from '../edge-fn/grammar/types.ts';
import type { ImageStore, PutVariant, StoreCallOptions } from './image-store.ts';
import { etagOf, type OriginalSource, VARIANT_CACHE_CONTROL } from './produce-variant.ts';
import type { TransformLimits } from './transform/limits.ts';
import { makePlaceholder, type Placeholder } from './transform/placeholder.ts';

export type { Placeholder };
export const PLACEHOLDER_CONTENT_TYPE = 'application/json';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The JSON shape of a placeholder (docs/prewarm.md "Facts"), checked wherever one is read back. */
export const PLACEHOLDER_SCHEMA = v.strictObject({
  width: v.pipe(v.number(), v.integer(), v.minValue(1)),
  height: v.pipe(v.number(), v.integer(), v.minValue(1)),
  thumbhash: v.pipe(
    v.string(),
    v.maxLength(64),
    v.regex(BASE64),
    v.check((s) => {
      try {
        thumbHashToRGBA(Buffer.from(s, 'base64'));
        return true;
      } catch {
        return false;
      }
    }, 'expected a ThumbHash that decodes'),
  ),
  dataUri: v.pipe(v.string(), v.maxLength(16_384), v.startsWith('data:image/png;base64,')),
  averageColor: v.pipe(v.string(), v.regex(/^#[0-9a-f]{6}([0-9a-f]{2})?$/)),
});

/** A placeholder parsed from JSON text or a value; throws an Error naming what is wrong. */
export function parsePlaceholder(input: Buffer | string | unknown, what = 'placeholder'): Placeholder {
  let value: unknown = input;
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    try {
      value = JSON.parse(input.toString());
    } catch {
      throw new Error(`Invalid ${what}: not JSON`);
    }
  }
  const parsed = v.safeParse(PLACEHOLDER_SCHEMA, value);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = issue.path?.map((p) => String(p.key)).join('.') || 'the object';
    throw new Error(`Invalid ${what}: ${where}: ${issue.message}`);
  }
  return parsed.output;
}

/** The object stored for a placeholder: its JSON, the variants' caching, the original's identity. */
export function placeholderObject(
  key: string,
  placeholder: Placeholder,
  original: OriginalSource,
): PutVariant {
  const metadata: Record<string, string> = {
    'original-bytes': String(original.bytes.length),
    width: String(placeholder.width),
    height: String(placeholder.height),
  };
  if (original.etag) metadata['original-etag'] = original.etag.replaceAll('"', '');
  if (original.versionId) metadata['original-version'] = original.versionId;
  return {
    key,
    bytes: Buffer.from(JSON.stringify(placeholder)),
    contentType: PLACEHOLDER_CONTENT_TYPE,
    cacheControl: VARIANT_CACHE_CONTROL,
    metadata,
  };
}

export interface ProducedPlaceholder {
  placeholder: Placeholder;
  bytes: Buffer;
  etag: string;
}

/** Stores a placeholder whole (one PUT), and returns what was stored. */
export async function storePlaceholder(
  store: Pick<ImageStore, 'putVariant'>,
  key: string,
  placeholder: Placeholder,
  original: OriginalSource,
  options: StoreCallOptions = {},
): Promise<ProducedPlaceholder> {
  const object = placeholderObject(key, placeholder, original);
  await store.putVariant(object, options);
  return { placeholder, bytes: object.bytes, etag: etagOf(object.bytes) };
}

/**
 * The origin's miss: the placeholder of the original (or its crop) made from its bytes and
 * stored; `signal` is checked before the PUT (past the budget nothing is stored).
 */
export async function producePlaceholder(
  deps: { store: Pick<ImageStore, 'putVariant'>; limits: TransformLimits },
  key: string,
  spec: PlaceholderSpec,
  original: OriginalSource,
  options: StoreCallOptions = {},
): Promise<ProducedPlaceholder> {
  const placeholder = await makePlaceholder(original.bytes, spec.crop, deps.limits);
  options.signal?.throwIfAborted();
  return storePlaceholder(deps.store, key, placeholder, original, options);
}
