/**
 * Region crops and positions through the whole local stack (s3rver + origin + the edge bundle
 * in miniflare): `crop=` fetches one line of a receipt at readable size, `pos=` anchors
 * `fit=cover`, and spellings that snap to one key share one cached variant.
 */
import { readFileSync, rmSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../../cli/dev-stack.ts';
import { localS3Client } from '../../cli/local-s3.ts';
import { documentFixture } from '../helpers/images.ts';
import { devOptions } from '../helpers/local-stack.ts';
import { ssim } from '../helpers/perceptual.ts';

let stack: DevStack;
let dataDir: string;
const receipt = documentFixture('receipt-photo.jpg'); // 738 × 1064, a phone photo of a receipt
const kodim23 = readFileSync(new URL('../../examples/images/kodim23.png', import.meta.url)); // 768 × 512

beforeAll(async () => {
  const options = devOptions();
  dataDir = options.dataDir;
  stack = await startDevStack(options);
  const client = localS3Client(stack.s3Endpoint);
  await client.send(
    new PutObjectCommand({ Bucket: 'litepix-originals', Key: 'uploads/receipt.jpg', Body: receipt }),
  );
  client.destroy();
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const get = (path: string, accept = 'image/webp,*/*') =>
  fetch(`${stack.url}${path}`, { headers: { accept } });
const body = async (res: Response) => Buffer.from(await res.arrayBuffer());

describe('crops and positions through the local CDN', () => {
  it('serves one receipt line (crop=0,400,1000,100) at full width, and a spelling that snaps alike from the cache', async () => {
    const res = await get('/uploads/receipt.jpg?crop=0,400,1000,100&w=1080');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-cache')).toBe('Miss from litepix-dev');
    expect(res.headers.get('content-type')).toBe('image/webp');
    const line = await body(res);
    // 400–500 ‰ of 1064 rows, rounded outward: rows 425 to 532. Never enlarged past 738.
    expect(await sharp(line).metadata()).toMatchObject({ format: 'webp', width: 738, height: 107 });
    const region = await sharp(receipt)
      .extract({ left: 0, top: 425, width: 738, height: 107 })
      .png()
      .toBuffer();
    expect(await ssim(region, line)).toBeGreaterThan(0.9);
    // A region elsewhere is a different picture: the crop is where it was asked for.
    const elsewhere = await sharp(receipt)
      .extract({ left: 0, top: 100, width: 738, height: 107 })
      .png()
      .toBuffer();
    expect(await ssim(elsewhere, line)).toBeLessThan((await ssim(region, line)) - 0.1);
    const again = await get('/uploads/receipt.jpg?w=1080&CROP=0,%20401,%201000,%2099');
    expect(again.headers.get('x-cache')).toBe('Hit from litepix-dev');
  });

  it("tells the playground which pixels of the original a crop variant is made of (the origin's cropRegion)", async () => {
    const ask = async (size: string) => {
      const res = await fetch(
        `${stack.url}/__litepix/api/url?key=uploads/receipt.jpg&base=${stack.url}&crop=0,400,1000,100&w=1080${size}`,
      );
      expect(res.status).toBe(200);
      return ((await res.json()) as { key: string; region: unknown }).region;
    };
    expect(await ask('&source-width=738&source-height=1064')).toEqual({
      left: 0,
      top: 425,
      width: 738,
      height: 107,
    });
    // No size, or a size that is not one, gives no region (the page then compares nothing wrongly).
    expect(await ask('')).toBeNull();
    expect(await ask('&source-width=0&source-height=1064')).toBeNull();
    expect(await ask('&source-width=7.5&source-height=1064')).toBeNull();
    const whole = await fetch(
      `${stack.url}/__litepix/api/url?key=uploads/receipt.jpg&base=${stack.url}&w=320&source-width=738&source-height=1064`,
    );
    expect(((await whole.json()) as { region: unknown }).region).toBeNull();
  });

  it('answers a crop outside the image with a 400 naming what is allowed, before any origin work', async () => {
    const res = await get('/uploads/receipt.jpg?crop=0,900,1000,200');
    expect(res.status).toBe(400);
    expect(res.headers.get('x-litepix-error')).toBe('IMG_BAD_PARAM');
    expect(await res.text()).toMatch(/^Invalid crop "0,900,1000,200": expected x,y,w,h in per-mille/);
  });

  it('anchors fit=cover at pos=left and pos=attention as sharp does, not at the centre', async () => {
    const box = { width: 256, height: 256, fit: 'cover' as const };
    const centre = await sharp(kodim23).resize(box).png().toBuffer();
    for (const position of ['left', 'attention'] as const) {
      const res = await get(`/samples/kodim23.png?w=256&h=256&fit=cover&pos=${position}`);
      expect(res.status).toBe(200);
      const out = await body(res);
      expect(await sharp(out).metadata()).toMatchObject({ width: 256, height: 256 });
      const reference = await sharp(kodim23)
        .resize({ ...box, position: position === 'left' ? 'left' : sharp.strategy.attention })
        .png()
        .toBuffer();
      const same = await ssim(reference, out);
      expect(same).toBeGreaterThan(0.9);
      expect(await ssim(centre, out)).toBeLessThan(same - 0.1);
    }
  });
});
