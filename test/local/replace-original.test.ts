/**
 * A changed original under the same key, as a newcomer meets it: `litepix upload` refuses to
 * replace a different image without --replace (browsers keep immutable variants), and once it
 * is replaced (or deleted) the local stack behaves as the S3-event Lambda makes AWS behave: the
 * stale variants leave the bucket and the local CDN's cache before the upload returns, so the
 * next request is made from the new bytes.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import {
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../../cli/dev-stack.ts';
import { originalWriteOf } from '../../cli/local-originals-sync.ts';
import { localS3Client } from '../../cli/local-s3.ts';
import { type UploadOptions, upload } from '../../cli/upload.ts';
import { devOptions } from '../helpers/local-stack.ts';

const A = 'test/fixtures/images/kodim23-q95.jpg';
const B = 'test/fixtures/images/kodim03-q95.jpg';
const md5 = (file: string) => createHash('md5').update(readFileSync(file)).digest('hex');

let stack: DevStack;
let dataDir: string;
let s3: S3Client;

beforeAll(async () => {
  const options = devOptions({ seed: false, worker: false });
  dataDir = options.dataDir;
  stack = await startDevStack(options);
  s3 = localS3Client(stack.s3Endpoint);
});

afterAll(async () => {
  s3?.destroy();
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const put = (file: string, key: string, more: Partial<UploadOptions> = {}) =>
  upload({ files: [file], key, s3Endpoint: stack.s3Endpoint, cdnBase: stack.url, ...more }).then(
    (outcomes) => outcomes[0],
  );

const variant = async (path: string) => {
  const res = await fetch(`${stack.url}${path}`);
  return {
    status: res.status,
    cache: res.headers.get('x-cache'),
    from: res.headers.get('x-litepix-from'),
    etag: res.headers.get('etag'),
  };
};

async function storedVariants(key: string): Promise<Record<string, string | undefined>> {
  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: 'litepix-variants', Prefix: `v1/${key}/` }),
  );
  const out: Record<string, string | undefined> = {};
  for (const o of listed.Contents ?? []) {
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'litepix-variants', Key: o.Key }));
    out[o.Key as string] = head.Metadata?.['original-etag'];
  }
  return out;
}

describe('litepix upload over a key that holds an image', () => {
  it('uploads a new key, leaves the same bytes alone, refuses other bytes, replaces them with --replace', async () => {
    expect(await put(A, 'up/a.jpg')).toMatchObject({
      ok: true,
      message: expect.stringMatching(/^uploaded /),
    });
    expect(await put(A, 'up/a.jpg')).toMatchObject({
      ok: true,
      message: `unchanged ${A}: litepix-originals/up/a.jpg holds these bytes already`,
    });
    const refused = await put(B, 'up/a.jpg');
    expect(refused?.ok).toBe(false);
    expect(refused?.message).toContain(
      'litepix-originals/up/a.jpg already holds a different image, not replaced',
    );
    expect(refused?.message).toContain(
      'a changed picture belongs under a new key; --replace replaces it anyway',
    );
    const kept = await s3.send(new HeadObjectCommand({ Bucket: 'litepix-originals', Key: 'up/a.jpg' }));
    expect(kept.ETag).toBe(`"${md5(A)}"`);
    expect(await put(B, 'up/a.jpg', { replace: true })).toMatchObject({
      ok: true,
      message: expect.stringMatching(/^replaced /),
    });
    const replaced = await s3.send(new HeadObjectCommand({ Bucket: 'litepix-originals', Key: 'up/a.jpg' }));
    expect(replaced.ETag).toBe(`"${md5(B)}"`);
  });
});

describe('the local stack follows a replaced or deleted original (as the S3-event Lambda does on AWS)', () => {
  it('a replaced original: its stale variants leave the bucket and the CDN cache, the next request is made from the new bytes', async () => {
    expect((await put(A, 'r/pic.jpg'))?.ok).toBe(true);
    const first = await variant('/r/pic.jpg?w=256&f=webp');
    expect(first).toMatchObject({ status: 200, cache: 'Miss from litepix-dev', from: 'origin' });
    expect(await variant('/r/pic.jpg?w=256&f=webp')).toMatchObject({ cache: 'Hit from litepix-dev' });
    expect((await variant('/r/pic.jpg?w=640&f=jpeg')).status).toBe(200);
    expect(await storedVariants('r/pic.jpg')).toEqual({
      'v1/r/pic.jpg/w256.qauto.webp': md5(A),
      'v1/r/pic.jpg/w640.qauto.jpeg': md5(A),
    });

    expect((await put(B, 'r/pic.jpg', { replace: true }))?.ok).toBe(true);
    // Nothing made from A is left, and the upload has returned only once that was so.
    expect(await storedVariants('r/pic.jpg')).toEqual({});
    const after = await variant('/r/pic.jpg?w=256&f=webp');
    expect(after).toMatchObject({ status: 200, cache: 'Miss from litepix-dev', from: 'origin' });
    expect(after.etag).not.toBe(first.etag);
    expect(await storedVariants('r/pic.jpg')).toEqual({ 'v1/r/pic.jpg/w256.qauto.webp': md5(B) });
  });

  it('a deleted original: its variants leave the bucket and the cache, the CDN answers 404', async () => {
    expect((await put(A, 'd/pic.jpg'))?.ok).toBe(true);
    expect((await variant('/d/pic.jpg?w=256&f=webp')).status).toBe(200);
    expect(await variant('/d/pic.jpg?w=256&f=webp')).toMatchObject({ cache: 'Hit from litepix-dev' });
    await s3.send(new DeleteObjectCommand({ Bucket: 'litepix-originals', Key: 'd/pic.jpg' }));
    expect(await storedVariants('d/pic.jpg')).toEqual({});
    expect((await variant('/d/pic.jpg?w=256&f=webp')).status).toBe(404);
  });

  it('follows the writes of originals only (PUT, COPY, DELETE, multipart completion), by their S3 path', () => {
    const bucket = 'litepix-originals';
    expect(originalWriteOf('PUT', '/litepix-originals/a%20b/c.jpg?x-id=PutObject', bucket)).toBe('a b/c.jpg');
    expect(originalWriteOf('DELETE', '/litepix-originals/a.jpg?x-id=DeleteObject', bucket)).toBe('a.jpg');
    expect(originalWriteOf('POST', '/litepix-originals/a.jpg?uploadId=1', bucket)).toBe('a.jpg');
    expect(
      originalWriteOf('PUT', '/litepix-originals/a.jpg?partNumber=1&uploadId=1', bucket),
    ).toBeUndefined();
    expect(originalWriteOf('PUT', '/litepix-originals/a.jpg?tagging', bucket)).toBeUndefined();
    expect(originalWriteOf('GET', '/litepix-originals/a.jpg', bucket)).toBeUndefined();
    expect(originalWriteOf('PUT', '/litepix-variants/v1/a.jpg/w256.qauto.webp', bucket)).toBeUndefined();
    expect(originalWriteOf('PUT', '/litepix-originals/', bucket)).toBeUndefined();
  });
});
