/**
 * Signing secrets kept in a CloudFront KeyValueStore instead of the function code: one key
 * holding a JSON array of secrets, so a rotation is one atomic update of one value
 * (`["new","old"]`, re-sign, then `["new"]`). Written in the cloudfront-js-2.0 subset.
 */

/** The KeyValueStore key the viewer function reads (the CDK stack documents and seeds it). */
export const KVS_SECRETS_KEY = 'litepix-signing-secrets';

/** CloudFront's `cf.kvs()` handle: only `get` is used. */
export interface KvsHandle {
  get(key: string, options: { format: 'json' }): Promise<unknown>;
}

/** The value as secrets: a non-empty array of strings of at least 16 characters, else undefined. */
export function parseKvsSecrets(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  for (let i = 0; i < value.length; i++) {
    const s = value[i];
    if (typeof s !== 'string' || s.length < 16) return undefined;
  }
  return value as string[];
}

/** The active secrets, or undefined when the key is missing or its value is malformed. */
export async function readKvsSecrets(kvs: KvsHandle): Promise<string[] | undefined> {
  try {
    return parseKvsSecrets(await kvs.get(KVS_SECRETS_KEY, { format: 'json' }));
  } catch (_e) {
    // get() rejects when the key does not exist (and when the value is not JSON).
    return undefined;
  }
}
