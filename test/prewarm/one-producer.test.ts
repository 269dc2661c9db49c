/**
 * The origin and the pre-warm make variants through one producer (origin-fn/produce-variant.ts):
 * the same key stored by either carries the same metadata, and the same `quality` text as the
 * origin's x-litepix-quality header. Both run on the in-memory storage port.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_GRAMMAR_CONFIG } from '../../edge-fn/grammar/index.ts';
import { createLog } from '../../origin-fn/log.ts';
import { createOriginHandler } from '../../origin-fn/origin-handler.ts';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import { createMemoryStore } from '../../prewarm/memory-store.ts';
import { createPrewarmer } from '../../prewarm/prewarmer.ts';
import { fixture } from '../helpers/images.ts';
import { items, runAll, testSettings } from './helpers.ts';

const log = createLog({ level: 'silent' });
const transformer = createTransformer(DEFAULT_LIMITS);
const SEARCHED = /^q=[0-9]{1,3}; distance=[0-9]+\.[0-9]{3}; encodes=[1-8](; sampled)?$/;

describe('one variant producer', () => {
  it('stores a pre-warmed variant with the same metadata and quality text as an origin-made one', async () => {
    const photo = fixture('kodim03-q95.jpg');
    const prewarmStore = createMemoryStore();
    prewarmStore.setOriginal('photos/a.jpg', photo, 'image/jpeg');
    const prewarmer = createPrewarmer({
      store: prewarmStore,
      transformer,
      settings: testSettings({ presets: ['thumb'], formats: ['webp'] }),
      log,
    });
    const { results } = await runAll(prewarmer, items({ id: 'u1', image: 'photos/a.jpg' }));
    expect(results[0]?.report.status).toBe('done');
    const [key] = [...prewarmStore.variants.keys()];
    expect(key).toBe('v1/photos/a.jpg/w256.qauto.webp');
    const prewarmed = prewarmStore.variants.get(key as string);

    const originStore = createMemoryStore();
    originStore.setOriginal('photos/a.jpg', photo, 'image/jpeg');
    const origin = createOriginHandler({
      store: originStore,
      transformer,
      grammar: DEFAULT_GRAMMAR_CONFIG,
      limits: DEFAULT_LIMITS,
      log,
    });
    const response = await origin.handle(`/${key}`, 'req-1');
    expect(response.status).toBe(200);
    const made = originStore.variants.get(key as string);

    expect(prewarmed?.metadata.quality).toMatch(SEARCHED);
    expect(made?.metadata.quality).toMatch(SEARCHED);
    expect(response.headers['x-litepix-quality']).toBe(made?.metadata.quality);
    expect(Object.keys(prewarmed?.metadata ?? {}).sort()).toEqual(Object.keys(made?.metadata ?? {}).sort());
    for (const name of ['original-bytes', 'served-original', 'width', 'height', 'original-etag'])
      expect(prewarmed?.metadata[name], name).toBe(made?.metadata[name]);
    expect(prewarmed?.contentType).toBe('image/webp');
    expect(made?.contentType).toBe('image/webp');
  });

  it('verifies a just-made variant without decoding it again when the search decoded it; existing ones are decoded', async () => {
    const store = createMemoryStore();
    store.setOriginal('photos/a.jpg', fixture('kodim03-q95.jpg'), 'image/jpeg');
    const prewarmer = createPrewarmer({
      store,
      transformer,
      settings: testSettings({ presets: ['thumb'], formats: ['webp', 'jpeg'] }),
      log,
    });
    const first = await runAll(prewarmer, items({ image: 'photos/a.jpg' }));
    expect(first.totals.variants).toMatchObject({ produced: 2, failed: 0 });
    expect(prewarmer.counters.verifyDecodes).toBe(0);
    const second = await runAll(prewarmer, items({ image: 'photos/a.jpg' }));
    expect(second.totals.variants).toMatchObject({ existing: 2, failed: 0 });
    expect(prewarmer.counters.verifyDecodes).toBe(2);
  });

  it('marks only search-decoded encodes as decoded in process (a fixed quality is not)', async () => {
    const photo = fixture('kodim03-q95.jpg');
    const base = { source: 'a.jpg', width: 256, fit: 'inside' as const, format: 'webp' as const };
    expect((await transformer.transform(photo, { ...base, quality: 'auto' })).decodedInProcess).toBe(true);
    expect((await transformer.transform(photo, { ...base, quality: 80 })).decodedInProcess).toBe(false);
  });

  it('the in-memory store refuses a missing original with 404 and one over the byte cap with 413', async () => {
    const store = createMemoryStore();
    store.setOriginal('a.jpg', Buffer.alloc(100));
    await expect(store.getOriginal('b.jpg', 1000)).rejects.toMatchObject({
      status: 404,
      code: 'IMG_NOT_FOUND',
    });
    await expect(store.getOriginal('a.jpg', 99)).rejects.toMatchObject({
      status: 413,
      code: 'IMG_TOO_LARGE',
    });
    expect((await store.getOriginal('a.jpg', 100)).bytes.length).toBe(100);
  });
});
