/**
 * The Lambda assets as deployed (scripts/build-lambda.ts): the esbuild bundle plus sharp with
 * the prebuilt linux binaries for the Lambda's CPU, installed from the npm registry (or the npm
 * cache) at the versions package-lock.json records. The x86_64 asset runs here, as Lambda
 * would run it, against s3rver; the arm64 one cannot run on this machine, so its binaries are
 * checked to be aarch64 ELF files.
 */
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLambdaAsset, type LambdaAsset, lockClosure } from '../../scripts/build-lambda.ts';
import { fixture } from '../helpers/images.ts';
import { ORIGINALS, VARIANTS } from '../helpers/origin-stack.ts';
import { ssim } from '../helpers/perceptual.ts';
import { type S3rverHandle, startS3rver } from '../helpers/s3rver.ts';

const run = promisify(execFile);
const out = mkdtempSync(join(tmpdir(), 'litepix-lambda-'));
const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8'));

/** ELF e_machine (bytes 18–19, little-endian) of a native file. */
function elfMachine(file: string): number {
  const fd = openSync(file, 'r');
  const header = Buffer.alloc(20);
  readSync(fd, header, 0, 20, 0);
  closeSync(fd);
  expect(header.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  return header.readUInt16LE(18);
}
const EM_X86_64 = 62;
const EM_AARCH64 = 183;

describe('lockClosure', () => {
  it('takes sharp and all its platform packages from the root lockfile, with their integrity', () => {
    const closure = lockClosure(lock, 'sharp');
    for (const name of [
      'sharp',
      '@img/sharp-linux-arm64',
      '@img/sharp-libvips-linux-arm64',
      '@img/sharp-linux-x64',
      'detect-libc',
    ]) {
      expect(closure[`node_modules/${name}`]).toMatchObject({
        version: expect.any(String),
        integrity: expect.stringMatching(/^sha512-/),
      });
    }
    expect(closure['node_modules/sharp']?.version).toBe(lock.packages['node_modules/sharp'].version);
    // Nothing that sharp does not need.
    expect(Object.keys(closure).some((p) => p.includes('aws-sdk') || p.includes('pino'))).toBe(false);
  });

  it('names a package missing from the lockfile', () => {
    expect(() => lockClosure(lock, 'left-pad-not-installed')).toThrow(
      'package-lock.json has no entry for left-pad-not-installed (needed by the root)',
    );
  });
});

describe('the origin Lambda asset', () => {
  let x64: LambdaAsset;
  let arm: LambdaAsset;
  let s3: S3rverHandle;

  beforeAll(async () => {
    x64 = await buildLambdaAsset('origin', 'x86_64', join(out, 'x64'));
    arm = await buildLambdaAsset('origin', 'arm64', join(out, 'arm'));
    s3 = await startS3rver({ buckets: [ORIGINALS, VARIANTS] });
  });

  afterAll(async () => {
    await s3?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  it('arm64: sharp with the linux-arm64 (aarch64, glibc) binaries beside the same bundle', () => {
    const img = join(arm.dir, 'node_modules/@img');
    expect(readdirSync(img).sort()).toEqual(['colour', 'sharp-libvips-linux-arm64', 'sharp-linux-arm64']);
    const addon = readdirSync(join(img, 'sharp-linux-arm64/lib')).find((f) => f.endsWith('.node'));
    expect(elfMachine(join(img, 'sharp-linux-arm64/lib', addon ?? 'missing'))).toBe(EM_AARCH64);
    const libvips = readdirSync(join(img, 'sharp-libvips-linux-arm64/lib')).find((f) =>
      f.startsWith('libvips-cpp'),
    );
    expect(elfMachine(join(img, 'sharp-libvips-linux-arm64/lib', libvips ?? 'missing'))).toBe(EM_AARCH64);
    expect(readFileSync(join(arm.dir, 'index.mjs'))).toEqual(readFileSync(join(x64.dir, 'index.mjs')));
    expect(arm.bundleBytes).toBeLessThan(5_000_000);
  });

  it('x86_64: the bundled handler makes a variant from an original in S3, as Lambda would run it', async () => {
    const img = join(x64.dir, 'node_modules/@img');
    const addon = readdirSync(join(img, 'sharp-linux-x64/lib')).find((f) => f.endsWith('.node'));
    expect(elfMachine(join(img, 'sharp-linux-x64/lib', addon ?? 'missing'))).toBe(EM_X86_64);

    const original = await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#3a7' } })
      .jpeg({ quality: 95 })
      .toBuffer();
    await s3.client.send(
      new PutObjectCommand({ Bucket: ORIGINALS, Key: 'a/b.jpg', Body: original, ContentType: 'image/jpeg' }),
    );

    const { prelude, body } = await invokeOrigin(x64, s3, '/v1/a/b.jpg/w414.qauto.webp');
    expect(prelude).toMatchObject({ statusCode: 200, headers: { 'content-type': 'image/webp' } });
    expect(await sharp(body).metadata()).toMatchObject({ format: 'webp', width: 414, height: 276 });
    expect(body.length).toBeLessThan(original.length);
  });

  it('x86_64: the bundled handler decodes a HEIC original with the wasm decoder in its worker (heic-worker.mjs)', async () => {
    expect(readdirSync(x64.dir).sort()).toEqual(
      expect.arrayContaining(['heic-worker.mjs', 'index.mjs', 'node_modules']),
    );
    const heic = fixture('heic-kodim23.heic');
    await s3.client.send(
      new PutObjectCommand({ Bucket: ORIGINALS, Key: 'a/k.heic', Body: heic, ContentType: 'image/heic' }),
    );
    const { prelude, body } = await invokeOrigin(x64, s3, '/v1/a/k.heic/w256.qauto.jpeg');
    expect(prelude).toMatchObject({ statusCode: 200, headers: { 'content-type': 'image/jpeg' } });
    expect(await sharp(body).metadata()).toMatchObject({ format: 'jpeg', width: 256, height: 171 });
    // The HEIC was made from this PNG (scripts/heic-fixtures.ts): the same picture.
    const reference = readFileSync(new URL('../../examples/images/kodim23.png', import.meta.url));
    expect(await ssim(reference, body)).toBeGreaterThan(0.9);
  });
});

/**
 * A child node process plays the Lambda runtime: the `awslambda` global (streamifyResponse and
 * HttpResponseStream, the JSON prelude + 8 NUL bytes wire format), the environment, then
 * `import` of the asset's index.mjs and one call of its `handler` for `path`.
 */
async function invokeOrigin(asset: LambdaAsset, s3: S3rverHandle, path: string) {
  const script = `
      import { PassThrough } from 'node:stream';
      globalThis.awslambda = {
        streamifyResponse: (fn) => fn,
        HttpResponseStream: { from(stream, prelude) { stream.write(JSON.stringify(prelude)); stream.write(Buffer.alloc(8)); return stream; } },
      };
      const { handler } = await import(${JSON.stringify(join(asset.dir, 'index.mjs'))});
      const sink = new PassThrough();
      const chunks = [];
      sink.on('data', (c) => chunks.push(c));
      await handler({ rawPath: ${JSON.stringify(path)}, requestContext: { requestId: 'r1', http: { method: 'GET' } } }, sink);
      process.stdout.write(Buffer.concat(chunks).toString('base64'));
    `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: out,
    maxBuffer: 16 * 1024 * 1024,
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      LITEPIX_ORIGINALS_BUCKET: ORIGINALS,
      LITEPIX_VARIANTS_BUCKET: VARIANTS,
      LITEPIX_LOG_LEVEL: 'silent',
    },
  });
  const all = Buffer.from(stdout, 'base64');
  const split = all.indexOf(Buffer.alloc(8));
  const prelude = JSON.parse(all.subarray(0, split).toString()) as {
    statusCode: number;
    headers: Record<string, string>;
  };
  return { prelude, body: all.subarray(split + 8) };
}

describe('the pre-warm Lambda asset', () => {
  let asset: LambdaAsset;
  let s3: S3rverHandle;

  beforeAll(async () => {
    asset = await buildLambdaAsset('prewarm', 'x86_64', join(out, 'prewarm-x64'));
    s3 = await startS3rver({ buckets: [ORIGINALS, VARIANTS] });
  });

  afterAll(async () => {
    await s3?.stop();
  });

  it('x86_64: the bundled sqsHandler pre-warms a Data Unit from an SQS message, as Lambda would run it', async () => {
    const original = await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#a73' } })
      .jpeg({ quality: 95 })
      .toBuffer();
    await s3.client.send(
      new PutObjectCommand({
        Bucket: ORIGINALS,
        Key: 'units/p.jpg',
        Body: original,
        ContentType: 'image/jpeg',
      }),
    );
    const event = {
      Records: [
        {
          messageId: 'm-ok',
          body: JSON.stringify({ id: 'du-1', images: [{ url: 'units/p.jpg' }] }),
          eventSource: 'aws:sqs',
        },
        { messageId: 'm-bad', body: '{"id": "du-2", "images": [', eventSource: 'aws:sqs' },
      ],
    };
    const script = `
      const { sqsHandler } = await import(${JSON.stringify(join(asset.dir, 'index.mjs'))});
      const result = await sqsHandler(${JSON.stringify(event)});
      process.stdout.write(JSON.stringify(result));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: out,
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        LITEPIX_ORIGINALS_BUCKET: ORIGINALS,
        LITEPIX_VARIANTS_BUCKET: VARIANTS,
        LITEPIX_CDN_BASE: 'https://cdn.example',
        LITEPIX_PREWARM_PRESETS: 'thumb',
        LITEPIX_PREWARM_FORMATS: 'webp',
        LITEPIX_LOG_LEVEL: 'silent',
      },
    });
    // The unreadable message goes back to the queue (and on to the DLQ); the good one is done.
    expect(JSON.parse(stdout)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-bad' }] });
    const stored = await s3.client.send(new ListObjectsV2Command({ Bucket: VARIANTS }));
    expect((stored.Contents ?? []).map((o) => o.Key)).toEqual(['v1/units/p.jpg/w256.qauto.webp']);
  });
});
