/**
 * The local S3 takes only requests signed with its local credentials (its door checks AWS
 * Signature V4 in front of s3rver, which itself would accept anyone). The one unsigned thing
 * allowed is what the CDN does: read a variant. Real s3rver, real SDK clients, raw HTTP.
 */
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, S3_CREDENTIALS, startDevStack } from '../../cli/dev-stack.ts';
import { devOptions } from '../helpers/local-stack.ts';

let stack: DevStack;
let dataDir: string;
let good: S3Client;

function client(credentials: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({
    endpoint: stack.s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}

/** An unsigned request, as any local process or a web page's form could send. */
function raw(
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(stack.s3Endpoint);
  return new Promise((ok, fail) => {
    const r = request({ host: hostname, port, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
      });
      res.on('end', () => ok({ status: res.statusCode ?? 0, text }));
    });
    r.on('error', fail);
    r.end(body);
  });
}

async function exists(bucket: string, key: string): Promise<boolean> {
  return good.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    () => false,
  );
}

beforeAll(async () => {
  const options = devOptions();
  dataDir = options.dataDir;
  stack = await startDevStack(options);
  good = client(S3_CREDENTIALS);
});

afterAll(async () => {
  good?.destroy();
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the local S3 door', () => {
  it.each([
    ['PUT', '/litepix-originals/planted/a.jpg'],
    ['PUT', '/litepix-variants/v1/samples/kodim23.png/w320.qauto.webp'],
    ['DELETE', '/litepix-originals/samples/kodim23.png'],
    ['GET', '/litepix-originals/samples/kodim23.png'],
    ['GET', '/litepix-originals?list-type=2'],
    ['GET', '/'],
    ['POST', '/litepix-originals'],
  ])('refuses an unsigned %s %s with 403 AccessDenied, changing nothing', async (method, path) => {
    const res = await raw(method, path, method === 'PUT' || method === 'POST' ? 'planted' : undefined);
    expect(res.status).toBe(403);
    expect(res.text).toContain('<Code>AccessDenied</Code>');
    expect(await exists('litepix-originals', 'samples/kodim23.png')).toBe(true);
    expect(await exists('litepix-originals', 'planted/a.jpg')).toBe(false);
    expect(await exists('litepix-variants', 'v1/samples/kodim23.png/w320.qauto.webp')).toBe(false);
  });

  it('refuses a wrong secret, an unknown access key and a signature moved to another key', async () => {
    for (const credentials of [
      { accessKeyId: 'S3RVER', secretAccessKey: 'not-the-secret' },
      { accessKeyId: 'SOMEONE', secretAccessKey: 'S3RVER' },
    ]) {
      const bad = client(credentials);
      await expect(
        bad.send(new PutObjectCommand({ Bucket: 'litepix-originals', Key: 'planted/b.jpg', Body: 'x' })),
      ).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      bad.destroy();
    }
    expect(await exists('litepix-originals', 'planted/b.jpg')).toBe(false);

    // A valid signature replayed on another path.
    const spy = client(S3_CREDENTIALS);
    let sent: Record<string, string> = {};
    spy.middlewareStack.add(
      (next) => async (args) => {
        sent = { ...(args.request as { headers: Record<string, string> }).headers };
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low' },
    );
    await spy.send(new PutObjectCommand({ Bucket: 'litepix-originals', Key: 'signed/ok.txt', Body: 'x' }));
    spy.destroy();
    expect(sent.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
    // Every header as signed, on another key.
    const replay = await raw('PUT', '/litepix-originals/planted/c.jpg', 'x', sent);
    expect(replay.status).toBe(403);
    expect(replay.text).toContain('SignatureDoesNotMatch');
    expect(await exists('litepix-originals', 'planted/c.jpg')).toBe(false);
  });

  it('serves every operation the stack uses when signed with the local credentials', async () => {
    const key = 'signed/ünï code+plus (1).txt';
    await good.send(new PutObjectCommand({ Bucket: 'litepix-originals', Key: key, Body: 'hello' }));
    const got = await good.send(new GetObjectCommand({ Bucket: 'litepix-originals', Key: key }));
    expect(await got.Body?.transformToString()).toBe('hello');
    const listed = await good.send(
      new ListObjectsV2Command({ Bucket: 'litepix-originals', Prefix: 'signed/ünï code', MaxKeys: 5 }),
    );
    expect(listed.Contents?.map((c) => c.Key)).toEqual([key]);
    const removed = await good.send(
      new DeleteObjectsCommand({ Bucket: 'litepix-originals', Delete: { Objects: [{ Key: key }] } }),
    );
    expect(removed.Deleted?.map((d) => d.Key)).toEqual([key]);
    expect(await exists('litepix-originals', key)).toBe(false);
  });

  it('lets the CDN read a variant without signing (as Origin Access Control does), and nothing else', async () => {
    const made = await fetch(`${stack.url}/samples/kodim23.png?w=256&f=webp`);
    expect(made.status).toBe(200);
    const anonymous = await raw('GET', '/litepix-variants/v1/samples/kodim23.png/w256.qauto.webp');
    expect(anonymous.status).toBe(200);
    expect((await raw('GET', '/litepix-variants?list-type=2')).status).toBe(403);
    expect((await raw('DELETE', '/litepix-variants/v1/samples/kodim23.png/w256.qauto.webp')).status).toBe(
      403,
    );
  });
});
