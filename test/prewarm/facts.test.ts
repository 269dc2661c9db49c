import { PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { thumbHashToApproximateAspectRatio } from 'thumbhash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageUnavailable } from '../../origin-fn/errors.ts';
import { createLog } from '../../origin-fn/log.ts';
import { parsePlaceholder } from '../../origin-fn/placeholder.ts';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import type { Transformer } from '../../origin-fn/transform/types.ts';
import { type ImageFacts, parseFacts } from '../../prewarm/facts.ts';
import { createPrewarmer } from '../../prewarm/prewarmer.ts';
import { reconcile } from '../../prewarm/s3-events.ts';
import { fixture } from '../helpers/images.ts';
import {
  CDN,
  items,
  type PrewarmStack,
  runAll,
  startPrewarmStack,
  testSettings,
  VARIANTS,
} from './helpers.ts';

const PRESETS = { presets: ['thumb', 'mobile'], formats: ['webp', 'jpeg'] as Array<'webp' | 'jpeg'> };
const placeholderKey = (source: string) => `v1/${source}/placeholder.json`;

/** The ratio ThumbHash keeps, shorter over longer side in sevenths (see test/origin/placeholder.test.ts). */
function expectRatio(facts: ImageFacts) {
  const got = thumbHashToApproximateAspectRatio(Buffer.from(facts.placeholder.thumbhash, 'base64'));
  const want = facts.width / facts.height;
  expect(Math.abs(Math.min(got, 1 / got) - Math.min(want, 1 / want))).toBeLessThanOrEqual(1 / 14 + 1 / 32);
  expect(got > 1).toBe(want > 1);
}

describe('pre-warm facts and placeholders (real s3rver, real sharp)', () => {
  let stack: PrewarmStack;
  beforeAll(async () => {
    stack = await startPrewarmStack();
    await stack.put('photos/hats.jpg', fixture('kodim03-q95.jpg'), 'image/jpeg');
    await stack.put('photos/rotated.jpg', fixture('orientation/exif-orientation-6.jpg'), 'image/jpeg');
    await stack.put('art/hand.png', fixture('png-alpha-handwriting.png'), 'image/png');
  });
  afterAll(() => stack?.stop());

  const unit = { id: 'f1', cover: 'photos/hats.jpg', gallery: ['photos/rotated.jpg', 'art/hand.png'] };
  let first: Array<{ cover: unknown; gallery: unknown[] }>;

  it('replaces each reference by its facts: bytes equal the stored variants, the placeholder the stored one', async () => {
    const stills: Array<{ width: number; height: number }> = [];
    const base = createTransformer(DEFAULT_LIMITS);
    // The real transformer, watched: the placeholder is drawn from the decode the variants used.
    const watched: Transformer = {
      transform: base.transform,
      transformMany: (input, specs, options) =>
        base.transformMany?.(input, specs, {
          onStill: (pixels, source) => {
            stills.push({ width: pixels.width, height: pixels.height });
            options?.onStill?.(pixels, source);
          },
        }) ?? Promise.resolve([]),
    };
    const p = stack.prewarmer({ ...PRESETS, facts: true }, { transformer: watched });
    const { results } = await runAll(p, items(unit));
    expect(results[0]?.report.status).toBe('done');
    const out = results[0]?.unit as { id: string; cover: unknown; gallery: unknown[] };
    expect(out.id).toBe('f1');
    first = [out];
    // One decode per original, its smallest level handed over for the placeholder: the 256 px
    // thumb (the 231 × 308 rotated photo is not enlarged: its own size).
    expect(stills).toHaveLength(3);
    expect(stills).toContainEqual({ width: 256, height: 171 });
    expect(stills).toContainEqual({ width: 231, height: 308 });
    expect(stills).toContainEqual({ width: 256, height: 192 });

    const refs: Array<[string, unknown]> = [
      ['photos/hats.jpg', out.cover],
      ['photos/rotated.jpg', out.gallery[0]],
      ['art/hand.png', out.gallery[1]],
    ];
    for (const [source, value] of refs) {
      const facts = parseFacts(value);
      expect(facts.url).toBe(`${CDN}/${source}?preset=thumb`);
      expect(Object.keys(facts.presets)).toEqual(['thumb', 'mobile']);
      expectRatio(facts);
      for (const [preset, f] of Object.entries(facts.presets)) {
        expect(f.url).toBe(`${CDN}/${source}?preset=${preset}`);
        expect(Object.keys(f.bytes).sort()).toEqual(['jpeg', 'webp']);
        for (const format of ['webp', 'jpeg'] as const) {
          const key = `v1/${source}/w${preset === 'thumb' ? 256 : 828}.qauto.${format}`;
          const stored = await stack.store.getVariant(key);
          expect(f.bytes[format]).toBe(stored?.bytes.length);
          const meta = await sharp(stored?.bytes).metadata();
          expect([meta.width, meta.height]).toEqual([f.width, f.height]);
        }
      }
      const stored = await stack.store.getVariant(placeholderKey(source));
      expect(stored?.contentType).toBe('application/json');
      expect(parsePlaceholder(stored?.bytes)).toEqual(facts.placeholder);
      expect(stored?.metadata['original-etag']).toMatch(/^[0-9a-f]{32}$/);
    }
    const [hats, rotated, hand] = refs.map(([, v]) => parseFacts(v));
    expect(hats).toMatchObject({ width: 768, height: 512 });
    expect(rotated?.height).toBeGreaterThan(rotated?.width ?? 0); // EXIF orientation applied
    expect(hand).toMatchObject({ width: 2048, height: 1536 });
    expect(hand?.placeholder.averageColor).toMatch(/^#[0-9a-f]{8}$/); // alpha kept
  });

  it('a re-run reads the stored placeholders back: the same facts, nothing made or written', async () => {
    const p = stack.prewarmer({ ...PRESETS, facts: true });
    const { results, totals } = await runAll(p, items(unit));
    expect(p.counters.transforms).toBe(0);
    expect(p.counters.writes).toBe(0);
    expect(totals.images.skippedExisting).toBe(3);
    expect(results[0]?.unit).toEqual({ id: 'f1', ...first[0] });
  });

  it('makes a missing or damaged placeholder again from the original when every variant is there', async () => {
    await stack.s3.client.send(
      new PutObjectCommand({
        Bucket: VARIANTS,
        Key: placeholderKey('photos/hats.jpg'),
        Body: '{"width":768,"height":512,"thumbhash":"??"}',
        ContentType: 'application/json',
      }),
    );
    const p = stack.prewarmer({ ...PRESETS, facts: true });
    const { results } = await runAll(p, items({ cover: 'photos/hats.jpg' }));
    expect(p.counters.transforms).toBe(0);
    expect(p.counters.writes).toBe(1);
    const facts = parseFacts((results[0]?.unit as { cover: unknown } | undefined)?.cover);
    const stored = await stack.store.getVariant(placeholderKey('photos/hats.jpg'));
    expect(parsePlaceholder(stored?.bytes)).toEqual(facts.placeholder);
    expect(facts.placeholder).toMatchObject({ width: 768, height: 512 });
  });

  it('without --facts: URLs as before and no placeholder read or stored', async () => {
    await stack.put('photos/plain.jpg', fixture('kodim23-q95.jpg'), 'image/jpeg');
    const p = stack.prewarmer({ ...PRESETS });
    const { results } = await runAll(p, items({ cover: 'photos/plain.jpg' }));
    expect((results[0]?.unit as { cover: unknown } | undefined)?.cover).toBe(
      `${CDN}/photos/plain.jpg?preset=thumb`,
    );
    expect(p.counters.reads).toBe(5); // 4 variants and the original
    expect(await stack.variantKeys()).not.toContain(placeholderKey('photos/plain.jpg'));
  });

  it('fails an image whose placeholder cannot be stored, and leaves its reference as it was', async () => {
    await stack.put('photos/nostore.jpg', fixture('kodim23-q95.jpg'), 'image/jpeg');
    // A mock for a fault s3rver cannot be made to give for one key only: its PUTs of placeholders fail.
    const store = {
      ...stack.store,
      putVariant: (put: Parameters<typeof stack.store.putVariant>[0]) =>
        put.key.endsWith('placeholder.json')
          ? Promise.reject(storageUnavailable('The variants bucket is unavailable; retry in a moment'))
          : stack.store.putVariant(put),
    };
    const p = createPrewarmer({
      store,
      transformer: createTransformer(DEFAULT_LIMITS),
      settings: testSettings({ ...PRESETS, facts: true }),
      log: createLog({ level: 'silent' }),
    });
    const { results } = await runAll(p, items({ cover: 'photos/nostore.jpg' }));
    expect(results[0]?.report).toMatchObject({ status: 'failed', code: 'PREWARM_IMAGES_FAILED' });
    expect(results[0]?.report.images[0]).toMatchObject({
      status: 'failed',
      code: 'IMG_STORAGE_UNAVAILABLE',
      transient: true,
    });
    expect(results[0]?.unit).toEqual({ cover: 'photos/nostore.jpg' });
    expect(await stack.variantKeys()).not.toContain(placeholderKey('photos/nostore.jpg'));
  });

  it('a replaced original makes its stored placeholder stale, as its variants (S3-event reconcile)', async () => {
    const before = await reconcile(stack.store, 'photos/rotated.jpg', 'v1');
    expect(before.stale).toEqual([]);
    await stack.put('photos/rotated.jpg', fixture('kodim23-q95.jpg'), 'image/jpeg');
    const after = await reconcile(stack.store, 'photos/rotated.jpg', 'v1');
    expect(after.stale).toContain(placeholderKey('photos/rotated.jpg'));
    expect(after.stale).toContain('v1/photos/rotated.jpg/w256.qauto.webp');
  });

  it('refuses facts that do not have the documented shape, naming the field', () => {
    const good = parseFacts(first[0]?.cover);
    expect(() => parseFacts({ ...good, width: -1 })).toThrow(/^Invalid image facts: width: /);
    expect(() =>
      parseFacts({ ...good, presets: { thumb: { ...good.presets.thumb, bytes: { gif: 1 } } } }),
    ).toThrow(/presets\.thumb\.bytes/);
    expect(() => parseFacts({ ...good, placeholder: { ...good.placeholder, dataUri: 'x' } })).toThrow(
      /placeholder\.dataUri/,
    );
  });
});
