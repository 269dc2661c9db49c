/**
 * Byte budgets through the whole local stack (s3rver + origin + the edge bundle in miniflare):
 * `maxkb=` snaps down to a budget of the ladder at the edge, the origin makes the variant
 * within it and says what won, and the CDN's cached copy carries the same header.
 */
import { rmSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../../cli/dev-stack.ts';
import { devOptions } from '../helpers/local-stack.ts';

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

const get = (path: string, accept: string) => fetch(`${stack.url}${path}`, { headers: { accept } });

describe('byte budgets through the local CDN', () => {
  it('serves maxkb=60 as a 50 KB budget, says what won, and caches it with the same header', async () => {
    const res = await get('/samples/kodim23.png?w=828&maxkb=60', 'image/webp');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBeLessThanOrEqual(50 * 1024);
    const quality = res.headers.get('x-litepix-quality') ?? '';
    expect(quality).toMatch(/; budget=50KB; won=(quality|budget)$/);
    expect((await sharp(body).metadata()).width).toBe(768);
    const again = await get('/samples/kodim23.png?width=828&maxkb=50', 'image/webp');
    expect(again.headers.get('x-cache')).toBe('Hit from litepix-dev');
    expect(again.headers.get('x-litepix-quality')).toBe(quality);
  });

  it('steps a 5 KB JPEG down the ladder and answers a budget below the ladder with 400', async () => {
    const res = await get('/samples/kodim03.png?w=828&maxkb=5', 'image/jpeg');
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBeLessThanOrEqual(5 * 1024);
    const stepped = /; won=budget; stepped=768-(\d+)$/.exec(res.headers.get('x-litepix-quality') ?? '');
    expect(stepped).not.toBeNull();
    expect(String((await sharp(body).metadata()).width)).toBe(stepped?.[1]);
    const bad = await get('/samples/kodim03.png?w=828&maxkb=4', 'image/jpeg');
    expect(bad.status).toBe(400);
  });
});
