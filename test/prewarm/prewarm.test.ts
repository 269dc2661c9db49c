import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GRAMMAR_CONFIG, normalizeRequest } from '../../edge-fn/grammar/index.ts';
import { hmacSha256Base64Url } from '../../edge-fn/sign-url.ts';
import { perceptualDistance } from '../../origin-fn/transform/distance.ts';
import { compileSelector } from '../../prewarm/selectors.ts';
import { fixture } from '../helpers/images.ts';
import { CDN, items, type PrewarmStack, runAll, startPrewarmStack, VARIANTS } from './helpers.ts';

const photo = fixture('kodim03-q95.jpg');
const parrots = fixture('kodim23-q95.jpg');
const alpha = fixture('png-alpha-handwriting.png');

describe('pre-warm against s3rver', () => {
  let stack: PrewarmStack;
  beforeAll(async () => {
    stack = await startPrewarmStack();
    await stack.put('photos/hats.jpg', photo, 'image/jpeg');
    await stack.put('photos/parrots.jpg', parrots, 'image/jpeg');
    await stack.put('art/hand.png', alpha, 'image/png');
    await stack.put('docs/fake.jpg', 'not an image at all, despite its name', 'image/jpeg');
  });
  afterAll(() => stack?.stop());

  it('reports bad units, keeps going, and rewrites the good ones', async () => {
    const p = stack.prewarmer();
    const { results, totals } = await runAll(p, [
      { seq: 1, unit: { id: 'a', text: 'hats', images: [{ url: `${CDN}/photos/hats.jpg?w=100` }] } },
      { seq: 2, error: { code: 'PREWARM_BAD_JSON', message: 'Data Unit 2 is not valid JSON' } },
      { seq: 3, unit: { id: 'c', text: 'no pictures, only words.' } },
      { seq: 4, unit: { id: 'd', images: ['docs/fake.jpg'] } },
      { seq: 5, unit: { id: 'e', images: ['s3://litepix-originals/photos/missing.jpg'] } },
      { seq: 6, unit: ['not', 'an', 'object'] },
      { seq: 7, unit: { id: 'g', cover: 'photos/parrots.jpg', keep: 'https://elsewhere.example/x.jpg' } },
    ]);
    expect(results.map((r) => r.report.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const by = (seq: number) => results[seq - 1]?.report;
    expect(by(1)).toMatchObject({
      id: 'a',
      status: 'done',
      images: [{ status: 'ok', source: 'photos/hats.jpg' }],
    });
    expect(results[0]?.unit).toEqual({
      id: 'a',
      text: 'hats',
      images: [{ url: `${CDN}/photos/hats.jpg?preset=thumb` }],
    });
    expect(by(2)).toMatchObject({ status: 'failed', code: 'PREWARM_BAD_JSON' });
    expect(by(3)).toMatchObject({ status: 'failed', code: 'PREWARM_NO_IMAGES' });
    expect(by(4)?.images[0]).toMatchObject({ status: 'failed', code: 'IMG_UNSUPPORTED' });
    expect(by(5)?.images[0]).toMatchObject({ status: 'failed', code: 'IMG_NOT_FOUND', transient: false });
    expect(by(6)).toMatchObject({ status: 'failed', code: 'PREWARM_NOT_OBJECT' });
    expect(by(7)).toMatchObject({ status: 'done' });
    // Only the image reference changed; an unrelated URL elsewhere is text and stays.
    expect(results[6]?.unit).toEqual({
      id: 'g',
      cover: `${CDN}/photos/parrots.jpg?preset=thumb`,
      keep: 'https://elsewhere.example/x.jpg',
    });
    expect(totals.units).toEqual({ total: 7, done: 2, failed: 5 });
    expect(totals.variants).toEqual({ produced: 4, existing: 0, failed: 0 });
    expect(totals.bytesAfter).toBeLessThan(totals.bytesBefore / 5);

    // The stored variants are exactly the keys the edge computes for these URLs.
    const keys = await stack.variantKeys();
    for (const [path, f] of [
      ['/photos/hats.jpg', 'webp'],
      ['/photos/parrots.jpg', 'jpeg'],
    ] as const) {
      const n = normalizeRequest(
        { path, params: [{ name: 'preset', value: 'thumb' }], accept: f === 'webp' ? 'image/webp' : '*/*' },
        DEFAULT_GRAMMAR_CONFIG,
      );
      expect(n.ok && keys.includes(n.key)).toBe(true);
    }
    const stored = await stack.store.getVariant('v1/photos/hats.jpg/w256.qauto.webp');
    expect(stored?.metadata['original-etag']).toMatch(/^[0-9a-f]{32}$/);
    const meta = await sharp(stored?.bytes).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 256, height: 171 });
  });

  it('transforms each original once across the batch, and a re-run does no new work', async () => {
    const p = stack.prewarmer({ presets: ['thumb', 'mobile'], formats: ['webp'] });
    const units = Array.from({ length: 12 }, (_, i) => ({
      id: `u${i}`,
      images: [{ url: i % 2 ? 'art/hand.png' : '/art/hand.png' }, { url: 'photos/hats.jpg' }],
    }));
    const first = await runAll(p, items(...units));
    expect(first.totals.units.done).toBe(12);
    // 2 originals × 2 presets × 1 format, once each (hats.jpg thumb webp existed from the test above).
    expect(p.counters.transforms).toBe(3);
    expect(first.totals.variants).toEqual({ produced: 3, existing: 1, failed: 0 });

    const again = stack.prewarmer({ presets: ['thumb', 'mobile'], formats: ['webp'] });
    const second = await runAll(again, items(...units));
    expect(again.counters.transforms).toBe(0);
    expect(again.counters.writes).toBe(0);
    expect(second.totals.variants).toEqual({ produced: 0, existing: 4, failed: 0 });
    expect(second.totals.images.skippedExisting).toBe(24);
    expect(second.results.map((r) => r.unit)).toEqual(first.results.map((r) => r.unit));
  });

  it('pre-warms every format f=auto can give by default, PNG as the legacy format of a PNG', async () => {
    const p = stack.prewarmer({ formats: [] });
    const { results } = await runAll(p, items({ img: 'art/hand.png' }));
    const variants = results[0]?.report.images[0]?.variants ?? [];
    expect(variants.map((v) => v.format)).toEqual(['avif', 'webp', 'png']);
    const avif = await stack.store.getVariant('v1/art/hand.png/w256.qauto.avif');
    const meta = await sharp(avif?.bytes).metadata();
    expect(meta.format).toBe('heif');
    expect(meta.hasAlpha).toBe(true);
    expect(meta.width).toBe(256);
  });

  it('rewrites to a map of signed URLs the edge accepts', async () => {
    const secret = 'a-signing-secret-of-32-characters';
    const p = stack.prewarmer({
      presets: ['thumb', 'mobile'],
      formats: ['webp'],
      rewrite: 'map',
      signingSecret: secret,
      selectors: [compileSelector('gallery[*].src'), compileSelector('/hero')],
    });
    const { results } = await runAll(
      p,
      items({ hero: 'photos/parrots.jpg', gallery: [{ src: 'photos/hats.jpg' }], note: 'photos/hats.jpg' }),
    );
    const unit = results[0]?.unit as {
      hero: Record<string, string>;
      gallery: Array<{ src: Record<string, string> }>;
      note: string;
    };
    expect(Object.keys(unit.hero)).toEqual(['thumb', 'mobile']);
    // Not selected: left alone even though it names an image.
    expect(unit.note).toBe('photos/hats.jpg');
    for (const url of [unit.hero.mobile, unit.gallery[0]?.src.thumb]) {
      const u = new URL(url as string);
      const params = [...u.searchParams].map(([name, value]) => ({ name, value }));
      const signing = { secrets: [secret], hmac: hmacSha256Base64Url };
      expect(normalizeRequest({ path: u.pathname, params }, DEFAULT_GRAMMAR_CONFIG, signing).ok).toBe(true);
      // …and a tampered one is refused.
      const tampered = params.map((p) => (p.name === 'preset' ? { ...p, value: 'full' } : p));
      expect(
        normalizeRequest({ path: u.pathname, params: tampered }, DEFAULT_GRAMMAR_CONFIG, signing),
      ).toMatchObject({
        ok: false,
        status: 403,
      });
    }
  });

  it.each([
    ['garbage', async () => Buffer.from('garbage')],
    // A real JPEG cut short: its header reads fine, only decoding every pixel finds the damage.
    [
      'a truncated JPEG',
      async () => {
        const whole = await sharp(parrots).resize(256).jpeg().toBuffer();
        return whole.subarray(0, Math.floor(whole.length * 0.6));
      },
    ],
    ['a PNG under a JPEG key', async () => sharp(parrots).resize(256).png().toBuffer()],
  ])(
    'makes a stored variant that is %s again from the original, and the batch goes on',
    async (_what, make) => {
      const key = 'v1/photos/parrots.jpg/w256.qauto.jpeg';
      const bytes = await make();
      await stack.s3.client.send(
        new PutObjectCommand({ Bucket: VARIANTS, Key: key, Body: bytes, ContentType: 'image/jpeg' }),
      );
      const p = stack.prewarmer();
      const { results } = await runAll(p, items({ a: 'photos/parrots.jpg' }, { b: 'photos/hats.jpg' }));
      expect(results[0]?.report.status).toBe('done');
      const image = results[0]?.report.images[0];
      expect(image?.status).toBe('ok');
      expect(image?.variants.find((v) => v.format === 'jpeg' && v.preset === 'thumb')?.status).toBe(
        'produced',
      );
      expect(image?.variants.find((v) => v.format === 'webp')?.status).toBe('existing');
      expect(results[1]?.report.status).toBe('done');
      // The stored object is now the variant: a JPEG 256 wide that decodes whole and looks like the photo.
      const stored = await stack.s3.client.send(new GetObjectCommand({ Bucket: VARIANTS, Key: key }));
      const body = Buffer.from((await stored.Body?.transformToByteArray()) ?? []);
      const meta = await sharp(body).metadata();
      expect([meta.format, meta.width]).toEqual(['jpeg', 256]);
      const view = async (b: Buffer) => {
        const { data, info } = await sharp(b).removeAlpha().raw().toBuffer({ resolveWithObject: true });
        return { data, width: info.width, height: info.height, channels: info.channels };
      };
      const reference = await view(await sharp(parrots).resize(256).png().toBuffer());
      expect(perceptualDistance(reference, await view(body))).toBeLessThan(1.5);
      await stack.s3.client.send(new DeleteObjectCommand({ Bucket: VARIANTS, Key: key }));
    },
  );

  it('retries through a storage outage (transient 503s) and finishes', async () => {
    await stack.put('photos/outage.jpg', photo, 'image/jpeg');
    const p = stack.prewarmer({ attempts: 6, retryBaseMs: 150 });
    await stack.s3.down();
    const back = setTimeout(() => void stack.s3.up(), 600);
    const { results } = await runAll(p, items({ a: 'photos/outage.jpg' }));
    clearTimeout(back);
    await stack.s3.up();
    expect(results[0]?.report.status).toBe('done');
    expect(p.counters.retries).toBeGreaterThan(0);
    expect(await stack.variantKeys()).toContain('v1/photos/outage.jpg/w256.qauto.webp');
  });
});
