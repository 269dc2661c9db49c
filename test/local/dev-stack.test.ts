import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../../cli/dev-stack.ts';
import { localS3Client } from '../../cli/local-s3.ts';
import { devOptions, runCli } from '../helpers/local-stack.ts';
import { ssim } from '../helpers/perceptual.ts';

/** The workerd processes started by `parent` (its children named workerd). */
function workerdChildren(parent: number): number[] {
  const out = spawnSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' }).stdout ?? '';
  return out
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'workerd';
      } catch {
        return false;
      }
    });
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const CHROME = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
let stack: DevStack;
let dataDir: string;

beforeAll(async () => {
  const options = devOptions();
  dataDir = options.dataDir;
  stack = await startDevStack(options);
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const get = (path: string, accept?: string) =>
  fetch(`${stack.url}${path}`, accept ? { headers: { accept } } : {});

describe('the local stack end to end (s3rver + origin + the edge bundle in miniflare)', () => {
  it('seeds the Kodak samples', () => {
    expect(stack.seeded).toEqual(['samples/kodim03.png', 'samples/kodim15.png', 'samples/kodim23.png']);
  });

  it.each([
    ['?w=400', CHROME, 'avif', 414],
    ['?w=400', 'image/webp,*/*', 'webp', 414],
    ['?w=400', '*/*', 'png', 414],
    ['?w=300&f=jpeg&q=70', CHROME, 'jpeg', 320],
    ['?preset=thumb', 'image/webp,*/*', 'webp', 256],
    ['', 'image/webp,*/*', 'webp', 768],
  ])(
    'serves samples/kodim15.png%s (Accept %s) as %s, %i px wide: a miss, then a hit',
    async (query, accept, format, width) => {
      const first = await get(`/samples/kodim15.png${query}`, accept);
      expect(first.status).toBe(200);
      expect(first.headers.get('x-cache')).toBe('Miss from litepix-dev');
      expect(first.headers.get('content-type')).toBe(`image/${format}`);
      expect(first.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const body = Buffer.from(await first.arrayBuffer());
      const meta = await sharp(body).metadata();
      expect(meta).toMatchObject({ format: format === 'avif' ? 'heif' : format, width });
      expect(body.length).toBeLessThan(Number(first.headers.get('x-litepix-original-bytes')));

      const second = await get(`/samples/kodim15.png${query}`, accept);
      expect(second.status).toBe(200);
      expect(second.headers.get('x-cache')).toBe('Hit from litepix-dev');
      expect(Buffer.from(await second.arrayBuffer()).equals(body)).toBe(true);
    },
  );

  it('answers a bad parameter with 400 from the edge', async () => {
    const res = await get('/samples/kodim15.png?w=abc');
    expect(res.status).toBe(400);
    expect(res.headers.get('x-cache')).toBe('Error from litepix-dev');
    expect(await res.text()).toBe('Invalid width "abc": expected an integer from 1 to 4096\n');
  });

  it('answers a missing original with 404', async () => {
    const res = await get('/samples/nothing-here.jpg?w=400');
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('Original image "samples/nothing-here.jpg" not found\n');
  });

  it('serves an uploaded image, and a variant already in the bucket straight from it', async () => {
    const client = localS3Client(stack.s3Endpoint);
    const photo = readFileSync(new URL('../fixtures/images/kodim03-q95.jpg', import.meta.url));
    await client.send(
      new PutObjectCommand({ Bucket: 'litepix-originals', Key: 'uploads/k3.jpg', Body: photo }),
    );
    const res = await get('/uploads/k3.jpg?w=640', 'image/webp');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-litepix-from')).toBe('origin');
    expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width).toBe(640);
    // Same variant through another spelling (alias + dpr): same key, now a cache hit.
    const again = await get('/uploads/k3.jpg?width=320&dpr=2', 'image/webp');
    expect(again.headers.get('x-cache')).toBe('Hit from litepix-dev');
    client.destroy();
  });

  it('serves a HEIC original through the local CDN (GET /x.heic?w=256), decoded by the wasm decoder', async () => {
    const client = localS3Client(stack.s3Endpoint);
    const heic = readFileSync(new URL('../fixtures/images/heic-kodim23.heic', import.meta.url));
    await client.send(
      new PutObjectCommand({ Bucket: 'litepix-originals', Key: 'uploads/k23.heic', Body: heic }),
    );
    client.destroy();
    const res = await get('/uploads/k23.heic?w=256', 'image/webp,*/*');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-cache')).toBe('Miss from litepix-dev');
    expect(res.headers.get('content-type')).toBe('image/webp');
    const body = Buffer.from(await res.arrayBuffer());
    expect(await sharp(body).metadata()).toMatchObject({ format: 'webp', width: 256, height: 171 });
    const kodim23 = readFileSync(new URL('../../examples/images/kodim23.png', import.meta.url));
    expect(await ssim(kodim23, body)).toBeGreaterThan(0.9);
    expect((await get('/uploads/k23.heic?w=256', 'image/webp,*/*')).headers.get('x-cache')).toBe(
      'Hit from litepix-dev',
    );
  });

  it("a variant served by the bucket carries the origin's quality header (from its S3 metadata)", async () => {
    // Made by the origin directly: stored in the bucket, not in the local CDN's cache.
    const key = '/v1/samples/kodim23.png/w320.qauto.webp';
    const made = await fetch(`${stack.originUrl}${key}`);
    expect(made.status).toBe(200);
    const quality = made.headers.get('x-litepix-quality');
    expect(quality).toMatch(/^q=\d+; distance=[01]\.\d{3}; encodes=\d$/);
    const res = await get('/samples/kodim23.png?w=320', 'image/webp');
    expect(res.headers.get('x-litepix-from')).toBe('variants');
    expect(res.headers.get('x-litepix-quality')).toBe(quality);
    expect(res.headers.get('x-litepix-original-bytes')).toBe(made.headers.get('x-litepix-original-bytes'));
  });

  it('serves the playground at / and passes its uploads through the CDN to the originals bucket', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<title>litepix playground</title>');

    const photo = readFileSync(new URL('../fixtures/images/kodim23-q95.jpg', import.meta.url));
    const res = await fetch(`${stack.url}/__litepix/api/upload?name=parrots.jpg`, {
      method: 'POST',
      body: new Uint8Array(photo),
    });
    expect(res.status).toBe(201);
    const { key } = (await res.json()) as { key: string };
    const variant = await get(`/${key}?w=200`, CHROME);
    expect(variant.status).toBe(200);
    expect(variant.headers.get('content-type')).toBe('image/avif');
    expect(variant.headers.get('x-litepix-original-bytes')).toBe(String(photo.length));
  });
});

const run = runCli; // asynchronously: the stack under test lives in this process and must keep serving

describe('litepix upload and litepix url (against the running stack)', () => {
  it('uploads an image and prints a URL the CDN serves', async () => {
    const s3Port = new URL(stack.s3Endpoint).port;
    const cdnPort = new URL(stack.url).port;
    const res = await run(['upload', 'test/fixtures/images/kodim23-q95.jpg', '--prefix', 'cli/'], {
      LITEPIX_S3_PORT: s3Port,
      PORT: cdnPort,
    });
    expect(res.err).not.toContain('litepix:');
    expect(res.err).not.toContain('NodeVersionSupportWarning'); // the SDK's notice is not every command's
    expect(res.code).toBe(0);
    expect(res.out).toContain(
      'uploaded test/fixtures/images/kodim23-q95.jpg → litepix-originals/cli/kodim23-q95.jpg',
    );
    const url = await run(['url', 'cli/kodim23-q95.jpg', '--w', '300', '--f', 'webp'], { PORT: cdnPort });
    expect(url.code).toBe(0);
    expect(url.out.trim()).toBe(`${stack.url}/cli/kodim23-q95.jpg?f=webp&w=300`);
    const served = await fetch(url.out.trim());
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/webp');
    const crop = await run(
      [
        'url',
        'cli/kodim23-q95.jpg',
        '--crop',
        '0,0,500,500',
        '--w',
        '160',
        '--h',
        '160',
        '--fit',
        'cover',
        '--pos',
        'left',
      ],
      { PORT: cdnPort },
    );
    expect(crop.code).toBe(0);
    expect(crop.out.trim()).toBe(
      `${stack.url}/cli/kodim23-q95.jpg?crop=0%2C0%2C500%2C500&fit=cover&h=160&pos=left&w=160`,
    );
    const region = await fetch(crop.out.trim(), { headers: { accept: 'image/webp' } });
    expect(region.status).toBe(200);
    expect(await sharp(Buffer.from(await region.arrayBuffer())).metadata()).toMatchObject({
      width: 160,
      height: 160,
    });
  });

  it('refuses a file that is not an image (exit 1) and uploads the rest', async () => {
    const s3Port = new URL(stack.s3Endpoint).port;
    const res = await run(['upload', 'README.md', 'test/fixtures/images/jpeg-grayscale.jpg'], {
      LITEPIX_S3_PORT: s3Port,
    });
    expect(res.code).toBe(1);
    expect(res.err).toContain('litepix: README.md: not an image sharp can read');
    expect(res.out).toContain('uploaded test/fixtures/images/jpeg-grayscale.jpg');
  });

  it.each([
    [['upload'], 'upload: expected at least one file'],
    [['upload', 'a.jpg', 'b.jpg', '--key', 'x.jpg'], 'upload: --key names one object'],
    [['url', 'a.jpg', '--w', 'abc'], 'url: Invalid width "abc": expected an integer from 1 to 4096'],
    [['url', 'a/../b.jpg'], 'url: Invalid path'],
    [['url', 'a.jpg', '--pos', 'top'], 'url: Invalid position "top": it needs w, h and fit=cover'],
    [['nope'], 'Unknown command "nope"'],
  ])('litepix %j → exit 2: %s', async (args, message) => {
    const res = await run(args);
    expect(res.code).toBe(2);
    expect(res.err).toContain(message);
  });

  it('litepix upload refuses a bad bucket or endpoint variable (exit 2), as the origin does', async () => {
    const bucket = await run(['upload', 'a.jpg'], { LITEPIX_ORIGINALS_BUCKET: 'My_Photos' });
    expect(bucket.code).toBe(2);
    expect(bucket.err).toContain(
      'upload: Invalid LITEPIX_ORIGINALS_BUCKET "My_Photos": expected an S3 bucket name',
    );
    const endpoint = await run(['upload', 'a.jpg', '--bucket', 'photos'], {
      AWS_ENDPOINT_URL_S3: 'localhost:4569',
    });
    expect(endpoint.code).toBe(2);
    expect(endpoint.err).toContain(
      'upload: Invalid AWS_ENDPOINT_URL_S3 "localhost:4569": expected an http(s) URL',
    );
  });
});

describe('litepix dev (the command)', () => {
  it('prints the URL when ready, is found by the other commands, and shuts down cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'litepix-cli-'));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'cli/litepix.ts',
        'dev',
        '--port',
        '0',
        '--s3-port',
        '0',
        '--sqs-port',
        '0',
        '--data-dir',
        dir,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let errors = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      errors += d.toString();
    });
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`no ready line: ${out}\n${errors}`)), 30_000);
      child.stdout.on('data', () => {
        if (/http:\/\/127\.0\.0\.1:\d+/.test(out)) {
          clearTimeout(timer);
          ok();
        }
      });
    });
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(out)?.[0];
    expect((await fetch(`${url}/samples/kodim23.png?w=256`)).status).toBe(200);
    // Another command finds this stack on its random ports from the data dir alone.
    const found = await run(['url', 'samples/kodim23.png', '--w', '300'], {
      LITEPIX_DATA_DIR: dir,
      PORT: '',
      LITEPIX_S3_PORT: '',
    });
    expect(found.out.trim()).toBe(`${url}/samples/kodim23.png?w=300`);
    const uploaded = await run(['upload', 'test/fixtures/images/jpeg-grayscale.jpg'], {
      LITEPIX_DATA_DIR: dir,
      PORT: '',
      LITEPIX_S3_PORT: '',
    });
    expect(uploaded.code).toBe(0);
    expect(uploaded.out).toContain(`${url}/jpeg-grayscale.jpg`);
    const workerd = workerdChildren(child.pid as number);
    expect(workerd.length).toBeGreaterThan(0);
    const exit = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    await expect(fetch(`${url}/`)).rejects.toThrow();
    // Its own workerd processes are gone (other stacks' on this machine are not counted).
    await expect.poll(() => workerd.filter(running), { timeout: 5000 }).toEqual([]);
    expect(existsSync(join(dir, 'stack.json'))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    [['--version'], /^litepix \d+\.\d+\.\d+\n$/],
    [['upload', '--help'], /^Usage: litepix upload <file…>/],
    [['url', '-h'], /^Usage: litepix url <key>/],
    [['dev', '--help'], /npm start -- \[options\]/],
  ])('litepix %j → exit 0 and its help or version', async (args, text) => {
    const res = await run(args);
    expect(res.code).toBe(0);
    expect(res.out).toMatch(text);
    expect(res.err).toBe('');
  });

  it('refuses a bad port with exit code 2 and a clear message', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/litepix.ts', 'dev', '--port', 'eighty'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((ok) => child.on('exit', (c) => ok(c)));
    expect(code).toBe(2);
    expect(err).toContain('Invalid --port / PORT "eighty": expected a port from 0 to 65535');
  });
});
