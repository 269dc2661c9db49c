import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageError } from '../../origin-fn/errors.ts';
import type { ImageStore, PutVariant } from '../../origin-fn/image-store.ts';
import { readCapped } from '../../origin-fn/read-capped.ts';
import { createS3Client } from '../../origin-fn/s3-client.ts';
import { createS3Store, type StoreLog } from '../../origin-fn/s3-store.ts';
import { createS3rverClient, type S3rverHandle, startS3rver } from '../helpers/s3rver.ts';

const ORIGINALS = 'litepix-originals';
const VARIANTS = 'litepix-variants';
const MB = 1024 * 1024;
const IMMUTABLE = 'public, max-age=31536000, immutable';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Runs `fn`, expecting an ImageError; returns it for further assertions. */
async function imageError(fn: () => Promise<unknown>): Promise<ImageError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ImageError);
    return err as ImageError;
  }
  throw new Error('expected an ImageError, but the call succeeded');
}

/** A logger that keeps what it was told. */
function memoryLog(): StoreLog & { entries: Array<{ message: string; fields: Record<string, unknown> }> } {
  const entries: Array<{ message: string; fields: Record<string, unknown> }> = [];
  return { entries, warn: (message, fields) => entries.push({ message, fields }) };
}

function variant(key: string, bytes: Buffer, metadata: Record<string, string> = {}): PutVariant {
  return { key, bytes, contentType: 'image/webp', cacheControl: IMMUTABLE, metadata };
}

describe('S3 store (s3rver over HTTP)', () => {
  let s3: S3rverHandle;
  let store: ImageStore;

  const putOriginal = (key: string, bytes: Buffer, extra: { ContentType?: string } = {}) =>
    s3.client.send(
      new PutObjectCommand({
        Bucket: ORIGINALS,
        Key: key,
        Body: bytes,
        ContentLength: bytes.length,
        Metadata: { Photographer: 'Ada' },
        ...extra,
      }),
    );

  beforeAll(async () => {
    s3 = await startS3rver({ buckets: [ORIGINALS, VARIANTS] });
    store = createS3Store({ client: s3.client, originalsBucket: ORIGINALS, variantsBucket: VARIANTS });
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('returns the bytes, content type, etag, date and lower-case metadata of an original', async () => {
    const bytes = randomBytes(300 * 1024);
    await putOriginal('photos/a b/ü.jpg', bytes, { ContentType: 'image/jpeg' });

    const got = await store.getOriginal('photos/a b/ü.jpg', MB);

    expect(sha256(got.bytes)).toBe(sha256(bytes));
    expect(got.contentType).toBe('image/jpeg');
    expect(got.etag).toBe(`"${createHash('md5').update(bytes).digest('hex')}"`);
    expect(got.lastModified).toBeInstanceOf(Date);
    expect(got.metadata).toEqual({ photographer: 'Ada' });
  });

  it('returns an original whose size equals maxBytes', async () => {
    const bytes = randomBytes(64 * 1024);
    await putOriginal('photos/exact.jpg', bytes);
    const got = await store.getOriginal('photos/exact.jpg', bytes.length);
    expect(got.bytes.length).toBe(bytes.length);
  });

  it('throws 404 IMG_NOT_FOUND naming the key, not the bucket, when the original is missing', async () => {
    const err = await imageError(() => store.getOriginal('photos/missing.jpg', MB));
    expect(err.status).toBe(404);
    expect(err.code).toBe('IMG_NOT_FOUND');
    expect(err.message).toBe('Original image "photos/missing.jpg" not found');
    expect(err.message).not.toContain(ORIGINALS);
    expect(err.cause).toMatchObject({ name: 'NoSuchKey' });
  });

  it('throws 413 IMG_TOO_LARGE when the original is larger than maxBytes', async () => {
    await putOriginal('photos/huge.jpg', randomBytes(3 * MB));
    const err = await imageError(() => store.getOriginal('photos/huge.jpg', MB));
    expect(err.status).toBe(413);
    expect(err.code).toBe('IMG_TOO_LARGE');
    expect(err.message).toBe(`Original image "photos/huge.jpg" is ${3 * MB} bytes; the limit is ${MB} bytes`);
    // The abandoned body released its connection: the same client keeps working.
    await expect(store.getOriginal('photos/exact.jpg', MB)).resolves.toBeDefined();
  });

  it('returns undefined when the variant is missing', async () => {
    await expect(store.getVariant('v1/photos/a.jpg/w828.qauto.webp')).resolves.toBeUndefined();
  });

  it('stores a variant with its Content-Type, Cache-Control and metadata', async () => {
    const key = 'v1/photos/a.jpg/w828.qauto.webp';
    const bytes = randomBytes(20 * 1024);
    await store.putVariant(variant(key, bytes, { 'source-etag': '"abc"', pipeline: 'v1' }));

    const head = await s3.client.send(new HeadObjectCommand({ Bucket: VARIANTS, Key: key }));
    expect(head.ContentType).toBe('image/webp');
    expect(head.CacheControl).toBe(IMMUTABLE);
    expect(head.ContentLength).toBe(bytes.length);
    expect(head.Metadata).toEqual({ 'source-etag': '"abc"', pipeline: 'v1' });

    const got = await store.getVariant(key);
    expect(got?.bytes.equals(bytes)).toBe(true);
    expect(got?.contentType).toBe('image/webp');
    expect(got?.metadata).toEqual({ 'source-etag': '"abc"', pipeline: 'v1' });
  });

  it('round-trips a 7 MB variant intact in one PutObject', async () => {
    const key = 'v1/photos/big.png/w4096.q100.png';
    const bytes = randomBytes(7 * MB);
    await store.putVariant(variant(key, bytes));
    const got = await store.getVariant(key);
    expect(got?.bytes.length).toBe(bytes.length);
    expect(sha256(got?.bytes ?? Buffer.alloc(0))).toBe(sha256(bytes));
  });

  it('leaves one complete object when two writers put the same key at once', async () => {
    // Racing origins render the same variant to the same bytes. (Racing DIFFERENT bytes would
    // test s3rver, not the store: its filesystem store writes in place and can mix them; S3
    // keeps the last complete PUT.)
    const key = 'v1/photos/race.jpg/w640.qauto.avif';
    const bytes = randomBytes(2 * MB);
    await Promise.all([
      store.putVariant(variant(key, bytes, { writer: 'a' })),
      store.putVariant(variant(key, bytes, { writer: 'b' })),
    ]);

    const got = await store.getVariant(key);
    expect(got?.bytes.length).toBe(bytes.length);
    expect(sha256(got?.bytes ?? Buffer.alloc(0))).toBe(sha256(bytes));
    expect(['a', 'b']).toContain(got?.metadata.writer);
  });

  it('throws 400 IMG_BAD_KEY for an empty key or one with control characters, before any request', async () => {
    for (const key of ['', 'photos/a\u0000.jpg', `${'x'.repeat(1025)}`]) {
      const err = await imageError(() => store.getOriginal(key, MB));
      expect(err.status).toBe(400);
      expect(err.code).toBe('IMG_BAD_KEY');
    }
  });

  it('throws 503 IMG_STORAGE_UNAVAILABLE, not 404, when the bucket does not exist', async () => {
    const log = memoryLog();
    const broken = createS3Store({
      client: s3.client,
      originalsBucket: 'no-such-bucket',
      variantsBucket: 'no-such-bucket',
      log,
    });
    const err = await imageError(() => broken.getOriginal('photos/a.jpg', MB));
    expect(err.status).toBe(503);
    expect(err.code).toBe('IMG_STORAGE_UNAVAILABLE');
    await expect(broken.getVariant('v1/a')).rejects.toMatchObject({ status: 503 });
    expect(log.entries[0]?.fields).toMatchObject({ op: 'getOriginal', name: 'NoSuchBucket', status: 404 });
  });

  it('throws 503, not 404, when the credentials are rejected (403 InvalidAccessKeyId)', async () => {
    const badClient = createS3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'WRONG', secretAccessKey: 'WRONG' },
      maxAttempts: 1,
    });
    try {
      const bad = createS3Store({ client: badClient, originalsBucket: ORIGINALS, variantsBucket: VARIANTS });
      const err = await imageError(() => bad.getOriginal('photos/exact.jpg', MB));
      expect(err.status).toBe(503);
      expect(err.cause).toMatchObject({ $metadata: { httpStatusCode: 403 } });
      // Same key, right credentials: found.
      await expect(store.getOriginal('photos/exact.jpg', MB)).resolves.toBeDefined();
    } finally {
      badClient.destroy();
    }
  });
});

describe('S3 store when the storage goes away', () => {
  let s3: S3rverHandle;

  beforeAll(async () => {
    s3 = await startS3rver({ buckets: [ORIGINALS, VARIANTS] });
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('throws 503 IMG_STORAGE_UNAVAILABLE quickly while s3rver is down and works again after it restarts', async () => {
    const client = createS3rverClient(s3.endpoint, {
      maxAttempts: 1,
      connectTimeoutMs: 500,
      requestTimeoutMs: 1000,
    });
    const log = memoryLog();
    const store = createS3Store({ client, originalsBucket: ORIGINALS, variantsBucket: VARIANTS, log });
    const bytes = randomBytes(10 * 1024);
    try {
      await store.putVariant(variant('v1/before.jpg/w1.webp', bytes));
      await s3.down();

      const started = Date.now();
      const failures = [
        await imageError(() => store.getOriginal('photos/a.jpg', MB)),
        await imageError(() => store.getVariant('v1/before.jpg/w1.webp')),
        await imageError(() => store.putVariant(variant('v1/during.jpg/w1.webp', bytes))),
      ];
      expect(Date.now() - started).toBeLessThan(2_000);
      for (const err of failures) {
        expect(err.status).toBe(503);
        expect(err.code).toBe('IMG_STORAGE_UNAVAILABLE');
        expect(err.message).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|litepix-/);
        // ECONNRESET when the request went out on a kept-alive socket the outage just cut.
        expect(['ECONNREFUSED', 'ECONNRESET']).toContain((err.cause as { code?: unknown }).code);
      }
      expect(log.entries.map((e) => e.fields.op)).toEqual(['getOriginal', 'getVariant', 'putVariant']);

      await s3.up();
      const got = await store.getVariant('v1/before.jpg/w1.webp');
      expect(got?.bytes.equals(bytes)).toBe(true);
      await store.putVariant(variant('v1/after.jpg/w1.webp', bytes));
      await expect(store.getVariant('v1/after.jpg/w1.webp')).resolves.toBeDefined();
    } finally {
      client.destroy();
    }
  });
});

describe('startS3rver', () => {
  it('removes its directory on stop, and stopping twice is harmless', async () => {
    const s3 = await startS3rver({ buckets: [ORIGINALS] });
    expect(existsSync(s3.directory)).toBe(true);
    await s3.stop();
    await s3.stop();
    expect(existsSync(s3.directory)).toBe(false);
  });
});

describe('S3 store against a misbehaving endpoint', () => {
  const sockets = new Set<Socket>();
  let silent: ReturnType<typeof createTcpServer>;
  let slowDown: Server;

  const listen = (server: {
    listen(port: number, host: string, cb: () => void): unknown;
    address(): unknown;
  }) =>
    new Promise<string>((resolve) => {
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const port = typeof address === 'object' && address !== null && 'port' in address ? address.port : 0;
        resolve(`http://127.0.0.1:${String(port)}`);
      });
    });

  let silentEndpoint = '';
  let slowDownEndpoint = '';

  beforeAll(async () => {
    // Accepts connections and never answers.
    silent = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    // Answers every request like an overloaded S3.
    slowDown = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
      );
    });
    silentEndpoint = await listen(silent);
    slowDownEndpoint = await listen(slowDown);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    slowDown.closeAllConnections();
    await Promise.all([
      new Promise((resolve) => silent.close(resolve)),
      new Promise((resolve) => slowDown.close(resolve)),
    ]);
  });

  it('throws 503 when S3 does not answer within the request timeout', async () => {
    const client = createS3rverClient(silentEndpoint, { maxAttempts: 1, requestTimeoutMs: 300 });
    const store = createS3Store({ client, originalsBucket: ORIGINALS, variantsBucket: VARIANTS });
    try {
      const started = Date.now();
      const err = await imageError(() => store.getOriginal('photos/a.jpg', MB));
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(err.status).toBe(503);
      expect(err.cause).toMatchObject({ name: 'TimeoutError' });
    } finally {
      client.destroy();
    }
  });

  it('throws 503 when S3 answers 503 SlowDown', async () => {
    const client = createS3rverClient(slowDownEndpoint, { maxAttempts: 1 });
    const store = createS3Store({ client, originalsBucket: ORIGINALS, variantsBucket: VARIANTS });
    try {
      for (const call of [
        () => store.getOriginal('photos/a.jpg', MB),
        () => store.getVariant('v1/a'),
        () => store.putVariant(variant('v1/a', Buffer.from('x'))),
      ]) {
        const err = await imageError(call);
        expect(err.status).toBe(503);
        expect(err.cause).toMatchObject({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
      }
    } finally {
      client.destroy();
    }
  });
});

describe('readCapped', () => {
  const CHUNK = 64 * 1024;

  /** A stream that produces `total` bytes on demand and counts what it produced. */
  function lazyBody(total: number) {
    const state = { produced: 0 };
    const stream = new Readable({
      highWaterMark: CHUNK,
      read() {
        if (state.produced >= total) {
          this.push(null);
          return;
        }
        const size = Math.min(CHUNK, total - state.produced);
        state.produced += size;
        this.push(Buffer.alloc(size, 1));
      },
    });
    return { stream, state };
  }

  it('stops pulling and destroys the body as soon as the cap is exceeded', async () => {
    const cap = 10 * CHUNK;
    const { stream, state } = lazyBody(1000 * CHUNK);
    await expect(readCapped(stream, cap)).rejects.toMatchObject({ name: 'BodyTooLargeError' });
    expect(stream.destroyed).toBe(true);
    // The chunk that crossed the cap plus the stream's own read-ahead, nothing more.
    expect(state.produced).toBeLessThanOrEqual(cap + 2 * CHUNK);
  });

  it('returns the whole body when it fits the cap', async () => {
    const { stream } = lazyBody(10 * CHUNK);
    const bytes = await readCapped(stream, 10 * CHUNK, 10 * CHUNK);
    expect(bytes.length).toBe(10 * CHUNK);
  });

  it('rejects a body shorter than its announced length', async () => {
    const { stream } = lazyBody(CHUNK);
    await expect(readCapped(stream, 10 * CHUNK, 2 * CHUNK)).rejects.toThrow(
      `body ended after ${CHUNK} of ${2 * CHUNK} bytes`,
    );
  });
});
