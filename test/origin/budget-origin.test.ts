/**
 * Byte budgets end to end on the origin (real s3rver, real sharp) and in the pre-warm path
 * (transformMany: one decode per original): a `kb<n>` key is made within its budget, stored
 * with the same `quality` text as the header, and a key that cannot fit answers 413 with
 * nothing stored.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ERROR_CACHE_CONTROL, VARIANT_CACHE_CONTROL } from '../../origin-fn/origin-handler.ts';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import { formatQualityHeader } from '../../origin-fn/transform/quality.ts';
import { fixture, spec } from '../helpers/images.ts';
import { type OriginStack, startOriginStack, VARIANTS } from '../helpers/origin-stack.ts';

const KODIM = fixture('kodim23-q95.jpg');
let stack: OriginStack;

beforeAll(async () => {
  stack = await startOriginStack();
  await stack.putOriginal('photos/kodim23.jpg', KODIM, 'image/jpeg');
});

afterAll(async () => {
  await stack?.stop();
});

describe('byte budgets on the origin (s3rver)', () => {
  it('makes a kb50 variant within 50 KB, says what won, and stores it with the same text', async () => {
    const key = 'v1/photos/kodim23.jpg/w828.qauto.kb50.webp';
    const res = await stack.origin.handle(`/${key}`, 'req-budget-1');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/webp');
    expect(res.headers['cache-control']).toBe(VARIANT_CACHE_CONTROL);
    expect(res.body.length).toBeLessThanOrEqual(50 * 1024);
    const quality = res.headers['x-litepix-quality'] ?? '';
    expect(quality).toMatch(
      /^q=\d{1,3}; distance=\d\.\d{3}; encodes=\d{1,2}; budget=50KB; won=(quality|budget)$/,
    );
    const meta = await sharp(res.body).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 768, height: 512 });
    const head = await stack.s3.client.send(new HeadObjectCommand({ Bucket: VARIANTS, Key: key }));
    expect(head.ContentLength).toBe(res.body.length);
    expect(head.Metadata).toMatchObject({ quality, width: '768', height: '512' });
  });

  it('steps a kb5 variant down the ladder and stores its real size', async () => {
    const key = 'v1/photos/kodim23.jpg/w828.qauto.kb5.jpeg';
    const res = await stack.origin.handle(`/${key}`, 'req-budget-2');
    expect(res.status).toBe(200);
    expect(res.body.length).toBeLessThanOrEqual(5 * 1024);
    const quality = res.headers['x-litepix-quality'] ?? '';
    const stepped = /; won=budget; stepped=768-(\d+)$/.exec(quality);
    expect(stepped, quality).not.toBeNull();
    const meta = await sharp(res.body).metadata();
    expect(String(meta.width)).toBe(stepped?.[1]);
    const head = await stack.s3.client.send(new HeadObjectCommand({ Bucket: VARIANTS, Key: key }));
    expect(head.Metadata).toMatchObject({ quality, width: String(meta.width), height: String(meta.height) });
  });

  it('answers 413 IMG_OVER_BUDGET when nothing fits, and stores nothing', async () => {
    // The transformer's ladder has nothing under 600 px: no 5 KB JPEG of this photo there.
    const narrow = stack.withOptions({
      transformer: createTransformer(DEFAULT_LIMITS, { ladder: [600, 640] }),
    });
    const key = 'v1/photos/kodim23.jpg/w640.qauto.kb5.jpeg';
    const res = await narrow.handle(`/${key}`, 'req-budget-3');
    expect(res.status).toBe(413);
    expect(res.headers['cache-control']).toBe(CLIENT_ERROR_CACHE_CONTROL);
    expect(res.headers['x-litepix-error']).toBe('IMG_OVER_BUDGET');
    expect(res.body.toString()).toMatch(
      /^The image cannot be made within the byte budget of 5 KB: even at 600 px/,
    );
    expect(await stack.variantKeys()).not.toContain(key);
  });
});

describe('byte budgets in the pre-warm path (transformMany)', () => {
  it('honours each spec’s budget from one decode, next to unbudgeted specs', async () => {
    const transformer = createTransformer(DEFAULT_LIMITS);
    const specs = [
      spec({ width: 828, format: 'webp' }),
      spec({ width: 828, format: 'webp', maxKb: 20 }),
      spec({ width: 828, format: 'jpeg', maxKb: 5 }),
      spec({ width: 256, format: 'avif', maxKb: 5 }),
      spec({ width: 256, format: 'jpeg', quality: 90, maxKb: 10 }),
    ];
    const outcomes = (await transformer.transformMany?.(KODIM, specs)) ?? [];
    expect(outcomes).toHaveLength(specs.length);
    for (const [i, s] of specs.entries()) {
      const outcome = outcomes[i];
      if (!outcome?.ok) throw new Error(`spec ${i} failed: ${String(outcome?.error)}`);
      const { result } = outcome;
      const meta = await sharp(result.bytes).metadata();
      expect(meta.width, `spec ${i}`).toBe(result.width);
      if (s.maxKb === undefined) {
        expect(result.qualityReport.budget).toBeUndefined();
        continue;
      }
      expect(result.bytes.length, `spec ${i}`).toBeLessThanOrEqual(s.maxKb * 1024);
      expect(formatQualityHeader(result.qualityReport)).toContain(`budget=${s.maxKb}KB; won=`);
    }
    const free = outcomes[0];
    const budgeted = outcomes[1];
    if (!free?.ok || !budgeted?.ok) throw new Error('unreachable: checked above');
    // The unbudgeted WebP is over 20 KB, so the budget won and lowered the quality.
    expect(free.result.bytes.length).toBeGreaterThan(20 * 1024);
    expect(budgeted.result.qualityReport.budget?.won).toBe('budget');
    expect(budgeted.result.quality).toBeLessThan(free.result.quality);
    const stepped = outcomes[2];
    if (!stepped?.ok) throw new Error('unreachable: checked above');
    expect(stepped.result.qualityReport.budget?.stepped?.from).toBe(768);
    expect(stepped.result.width).toBeLessThan(768);
  });
});
