import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CROP_GRID, DEFAULT_BUDGETS, DEFAULT_GRAMMAR_CONFIG } from '../../edge-fn/grammar/config.ts';
import { isError, POSITIONS } from '../../edge-fn/grammar/params.ts';
import type { Crop, VariantSpec } from '../../edge-fn/grammar/types.ts';
import {
  buildPlaceholderKey,
  buildVariantKey,
  isCanonicalCrop,
  isPlaceholderKey,
  parsePlaceholderKey,
  parseVariantKey,
} from '../../edge-fn/grammar/variant-key.ts';

const config = DEFAULT_GRAMMAR_CONFIG;

const crop = fc
  .record({
    x: fc.integer({ min: 0, max: 99 }),
    y: fc.integer({ min: 0, max: 99 }),
    w: fc.integer({ min: 1, max: 100 }),
    h: fc.integer({ min: 1, max: 100 }),
  })
  .map((c) => ({
    x: c.x * CROP_GRID,
    y: c.y * CROP_GRID,
    w: Math.min(c.w, 100 - c.x) * CROP_GRID,
    h: Math.min(c.h, 100 - c.y) * CROP_GRID,
  }))
  .filter((c) => !(c.w === 1000 && c.h === 1000));

describe('variant key options: crop, position, byte budget', () => {
  it('writes them in canonical order and parses them back', () => {
    const spec: VariantSpec = {
      source: 'docs/receipt.jpg',
      crop: { x: 100, y: 250, w: 800, h: 50 },
      width: 828,
      height: 600,
      fit: 'cover',
      position: 'attention',
      quality: 'auto',
      maxKb: 50,
      format: 'webp',
    };
    const key = buildVariantKey(spec, config);
    expect(key).toBe(
      'v1/docs/receipt.jpg/crop-100-250-800-50.w828.h600.fit-cover.pos-attention.qauto.kb50.webp',
    );
    expect(parseVariantKey(key, config)).toEqual(spec);
  });

  it('round-trips every canonical combination (property)', () => {
    fc.assert(
      fc.property(
        fc.option(crop, { nil: undefined }),
        fc.option(fc.constantFrom(...DEFAULT_BUDGETS), { nil: undefined }),
        fc.option(fc.constantFrom(...POSITIONS), { nil: undefined }),
        fc.constantFrom('cover', 'contain'),
        (c, kb, pos, fit) => {
          const spec: VariantSpec = { source: 'a.jpg', fit: 'inside', quality: 'lite', format: 'avif' };
          if (c) spec.crop = c as Crop;
          if (kb !== undefined) spec.maxKb = kb;
          if (pos !== undefined && !(fit === 'contain' && (pos === 'attention' || pos === 'entropy'))) {
            spec.width = 256;
            spec.height = 256;
            spec.fit = fit as VariantSpec['fit'];
            spec.position = pos as VariantSpec['position'];
          }
          expect(parseVariantKey(buildVariantKey(spec, config), config)).toEqual(spec);
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each([
    ['v1/a.jpg/crop-5-0-100-100.qauto.jpeg', 'invalid crop'],
    ['v1/a.jpg/crop-0-0-1000-1000.qauto.jpeg', 'invalid crop'],
    ['v1/a.jpg/crop-900-0-200-100.qauto.jpeg', 'invalid crop'],
    ['v1/a.jpg/crop-00-0-100-100.qauto.jpeg', 'invalid crop'],
    ['v1/a.jpg/qauto.kb51.jpeg', 'not a byte budget'],
    ['v1/a.jpg/kb50.qauto.jpeg', 'canonical form'],
    ['v1/a.jpg/w256.pos-top.qauto.jpeg', 'needs both sizes'],
    ['v1/a.jpg/w256.h256.pos-top.qauto.jpeg', 'needs both sizes'],
    ['v1/a.jpg/w256.h256.fit-contain.pos-entropy.qauto.jpeg', 'needs both sizes'],
    ['v1/a.jpg/w256.h256.fit-cover.pos-middle.qauto.jpeg', 'unknown option'],
    ['v1/a.jpg/qauto.crop-0-0-100-100.jpeg', 'canonical form'],
  ])('refuses %s', (key, why) => {
    const parsed = parseVariantKey(key, config);
    expect(isError(parsed) && parsed.message).toContain(why);
  });

  it('isCanonicalCrop refuses a region that starts outside the image (a spec that bypassed the key)', () => {
    expect(isCanonicalCrop({ x: -10, y: 0, w: 100, h: 100 })).toBe(false);
    expect(isCanonicalCrop({ x: 0, y: -10, w: 100, h: 100 })).toBe(false);
    expect(isCanonicalCrop({ x: 0, y: 0, w: 100, h: 100 })).toBe(true);
  });
});

describe('placeholder keys', () => {
  it('round-trips with and without a crop', () => {
    for (const spec of [
      { source: 'photos/a.jpg' },
      { source: 'a b/c.png', crop: { x: 0, y: 0, w: 500, h: 10 } },
    ]) {
      const key = buildPlaceholderKey(spec, config);
      expect(isPlaceholderKey(key)).toBe(true);
      expect(parsePlaceholderKey(key, config)).toEqual(spec);
      expect(isError(parseVariantKey(key, config))).toBe(true);
    }
    expect(buildPlaceholderKey({ source: 'photos/a.jpg' }, config)).toBe('v1/photos/a.jpg/placeholder.json');
  });

  it.each([
    'v1/a.jpg/w256.placeholder.json',
    'v1/a.jpg/xplaceholder.json',
    'v2/a.jpg/placeholder.json',
    'v1/v1/a.jpg/qauto.webp/placeholder.json',
  ])('refuses %s', (key) => {
    expect(isError(parsePlaceholderKey(key, config))).toBe(true);
  });
});
