/**
 * The Lambda adapters with literal event fixtures, over s3rver. CloudFront invalidations go to
 * a small local HTTP server standing in for the CloudFront API: the real SDK client signs and
 * sends a real CreateInvalidation request, which the server records and answers as AWS does.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_GRAMMAR_CONFIG } from '../../edge-fn/grammar/index.ts';
import { createLog } from '../../origin-fn/log.ts';
import { createCloudFrontInvalidator } from '../../prewarm/invalidation.ts';
import { createSqsHandler, type SqsEvent } from '../../prewarm/lambda.ts';
import { createS3EventHandler, type S3Event } from '../../prewarm/s3-events.ts';
import { fixture } from '../helpers/images.ts';
import { ORIGINALS, type PrewarmStack, startPrewarmStack, VARIANTS } from './helpers.ts';

const event = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../fixtures/events/${name}`, import.meta.url), 'utf8')) as T;
const log = createLog({ level: 'silent' });
const photo = fixture('kodim03-q95.jpg');
const parrots = fixture('kodim23-q95.jpg');

describe('SQS handler', () => {
  let stack: PrewarmStack;
  beforeAll(async () => {
    stack = await startPrewarmStack();
    await stack.put('photos/hats.jpg', photo, 'image/jpeg');
    await stack.put('photos/parrots.jpg', parrots, 'image/jpeg');
  });
  afterAll(() => stack?.stop());

  it('returns only the messages with a failed unit, and shares work across messages', async () => {
    const prewarmer = stack.prewarmer();
    const handler = createSqsHandler({ prewarmer, log });
    const result = await handler(event<SqsEvent>('sqs-prewarm-batch.json'));
    expect(result).toEqual({
      batchItemFailures: [
        { itemIdentifier: '2e1424d4-f796-459a-8184-9c92662be6da' },
        { itemIdentifier: 'd9b3c4a5-6e7f-4081-9a2b-3c4d5e6f7a8b' },
      ],
    });
    // hats.jpg is named by two messages, parrots.jpg by two: 2 originals × 2 formats, once each.
    expect(prewarmer.counters.transforms).toBe(4);
    expect(await stack.variantKeys()).toEqual([
      'v1/photos/hats.jpg/w256.qauto.jpeg',
      'v1/photos/hats.jpg/w256.qauto.webp',
      'v1/photos/parrots.jpg/w256.qauto.jpeg',
      'v1/photos/parrots.jpg/w256.qauto.webp',
    ]);
  });

  it('succeeds on the retry once the missing original is there, without redoing finished work', async () => {
    await stack.put('photos/not-uploaded-yet.jpg', photo, 'image/jpeg');
    const prewarmer = stack.prewarmer();
    const retried = event<SqsEvent>('sqs-prewarm-batch.json');
    retried.Records = retried.Records.filter((r) => r.messageId === '2e1424d4-f796-459a-8184-9c92662be6da');
    expect(await createSqsHandler({ prewarmer, log })(retried)).toEqual({ batchItemFailures: [] });
    expect(prewarmer.counters.transforms).toBe(2);
  });
});

interface Recorded {
  method: string;
  url: string;
  authorization: string;
  body: string;
}

describe('S3 event handler', () => {
  let stack: PrewarmStack;
  let server: Server;
  const recorded: Recorded[] = [];
  let cloudfront: CloudFrontClient;
  beforeAll(async () => {
    stack = await startPrewarmStack();
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        recorded.push({
          method: req.method ?? '',
          url: req.url ?? '',
          authorization: String(req.headers.authorization),
          body,
        });
        const id = `I${recorded.length}EXAMPLE`;
        res.writeHead(201, {
          'content-type': 'text/xml',
          location: `https://cloudfront.amazonaws.com${req.url}/${id}`,
        });
        res.end(
          `<?xml version="1.0"?><Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>${id}</Id><Status>InProgress</Status><CreateTime>2026-11-23T10:00:00Z</CreateTime><InvalidationBatch><Paths><Quantity>0</Quantity></Paths><CallerReference>x</CallerReference></InvalidationBatch></Invalidation>`,
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cloudfront = new CloudFrontClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'test-secret' },
    });
  });
  afterAll(async () => {
    cloudfront?.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    await stack?.stop();
  });

  const handler = () =>
    createS3EventHandler({
      store: stack.store,
      prewarmer: stack.prewarmer({ formats: ['webp'] }),
      invalidator: createCloudFrontInvalidator({
        client: cloudfront,
        distributionId: 'E2EXAMPLE123',
        version: 'v1',
      }),
      originalsBucket: ORIGINALS,
      grammar: DEFAULT_GRAMMAR_CONFIG,
      log,
    });
  const KEY = 'photos/new shot.jpg';
  const VARIANT = 'v1/photos/new shot.jpg/w256.qauto.webp';

  it('pre-warms a new original (ObjectCreated), with no invalidation', async () => {
    await stack.put(KEY, photo, 'image/jpeg');
    const result = await handler()(event<S3Event>('s3-object-created.json'));
    expect(result).toMatchObject({ keys: 1, deletedVariants: 0, invalidated: [] });
    expect(result.prewarm?.variants.produced).toBe(1);
    expect(await stack.variantKeys()).toEqual([VARIANT]);
    expect(recorded).toEqual([]);
  });

  it('a replay of the same event changes nothing', async () => {
    const result = await handler()(event<S3Event>('s3-object-created.json'));
    expect(result).toMatchObject({ deletedVariants: 0, invalidated: [] });
    expect(result.prewarm?.variants).toEqual({ produced: 0, existing: 1, failed: 0 });
    expect(recorded).toEqual([]);
  });

  it('replacing the original deletes its stale variants, invalidates its paths and pre-warms the new one', async () => {
    // Another variant of the old original, made by the origin for a viewer: stale too.
    const old = await stack.store.getVariant(VARIANT);
    await stack.s3.client.send(
      new PutObjectCommand({
        Bucket: VARIANTS,
        Key: 'v1/photos/new shot.jpg/w640.qauto.jpeg',
        Body: photo,
        Metadata: { 'original-etag': old?.metadata['original-etag'] ?? '' },
      }),
    );
    await stack.put(KEY, parrots, 'image/jpeg');
    const result = await handler()(event<S3Event>('s3-object-created.json'));
    expect(result).toMatchObject({ deletedVariants: 2, invalidated: [KEY], invalidationId: 'I1EXAMPLE' });
    expect(recorded).toHaveLength(1);
    const call = recorded[0] as Recorded;
    expect(call.method).toBe('POST');
    expect(call.url).toBe('/2020-05-31/distribution/E2EXAMPLE123/invalidation');
    expect(call.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/cloudfront\/aws4_request/,
    );
    const paths = [...call.body.matchAll(/<Path>([^<]*)<\/Path>/g)].map((m) => m[1]);
    expect(paths).toEqual(['/photos/new%20shot.jpg*', '/v1/photos/new%20shot.jpg/*']);
    expect(call.body).toContain('<Quantity>2</Quantity>');
    // Re-made from the new original: its ETag is recorded, and the pixels are the parrots'.
    expect(await stack.variantKeys()).toEqual([VARIANT]);
    const fresh = await stack.store.getVariant(VARIANT);
    const original = await stack.store.headOriginal(KEY);
    expect(fresh?.metadata['original-etag']).toBe(original?.etag);
    expect(fresh?.metadata['original-etag']).not.toBe(old?.metadata['original-etag']);
    const [a, b] = await Promise.all(
      [fresh?.bytes, await sharp(parrots).resize(256).webp().toBuffer()].map((x) =>
        sharp(x).resize(8, 8).raw().toBuffer(),
      ),
    );
    const diff =
      (a as Buffer).reduce((sum, v, i) => sum + Math.abs(v - ((b as Buffer)[i] as number)), 0) /
      (a as Buffer).length;
    expect(diff).toBeLessThan(8);
  });

  it('deleting the original deletes its variants and invalidates (ObjectRemoved)', async () => {
    await stack.s3.client.send(new DeleteObjectCommand({ Bucket: ORIGINALS, Key: KEY }));
    const result = await handler()(event<S3Event>('s3-object-removed.json'));
    expect(result).toMatchObject({ deletedVariants: 1, invalidated: [KEY], prewarm: undefined });
    expect(await stack.variantKeys()).toEqual([]);
    expect(recorded).toHaveLength(2);
  });

  it('batches the invalidation of several removed originals into one request, ignoring other buckets', async () => {
    const result = await handler()(event<S3Event>('s3-objects-removed-batch.json'));
    expect(result.invalidated).toEqual(['batch/one.jpg', 'batch/twoé.jpg']);
    expect(recorded).toHaveLength(3);
    const paths = [...(recorded[2] as Recorded).body.matchAll(/<Path>([^<]*)<\/Path>/g)].map((m) => m[1]);
    expect(paths).toEqual([
      '/batch/one.jpg*',
      '/v1/batch/one.jpg/*',
      '/batch/two%C3%A9.jpg*',
      '/v1/batch/two%C3%A9.jpg/*',
    ]);
  });
});

describe('the exported handlers, configured from the environment', () => {
  let stack: PrewarmStack;
  beforeAll(async () => {
    stack = await startPrewarmStack();
    await stack.put('photos/new shot.jpg', photo, 'image/jpeg');
    await stack.put('photos/hats.jpg', photo, 'image/jpeg');
    vi.stubEnv('AWS_ENDPOINT_URL_S3', stack.s3.endpoint);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'S3RVER');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'S3RVER');
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('LITEPIX_PREWARM_PRESETS', 'thumb');
    vi.stubEnv('LITEPIX_PREWARM_FORMATS', 'jpeg');
    vi.stubEnv('LITEPIX_PREWARM_SELECTORS', 'images[*].url');
    vi.stubEnv('LITEPIX_LOG_LEVEL', 'silent');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await stack?.stop();
  });

  it('sqsHandler uses the configured selectors; s3Handler finds its own units whatever they are', async () => {
    const { sqsHandler, s3Handler } = await import('../../prewarm/lambda.ts');
    const sqs = await sqsHandler({
      Records: [
        { messageId: 'm1', body: '{"images":[{"url":"photos/hats.jpg"}],"note":"photos/new shot.jpg"}' },
        { messageId: 'm2', body: '{"cover":"photos/hats.jpg"}' },
      ],
    });
    // m2 has no image where the selector looks: failed (and only it).
    expect(sqs).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(await stack.variantKeys()).toEqual(['v1/photos/hats.jpg/w256.qauto.jpeg']);
    const s3 = await s3Handler(event<S3Event>('s3-object-created.json'));
    expect(s3.prewarm?.variants.produced).toBe(1);
    expect(await stack.variantKeys()).toContain('v1/photos/new shot.jpg/w256.qauto.jpeg');
  });
});
