/**
 * The resize plan: never enlarge, never exceed the maximum dimension, keep the box's aspect
 * ratio when the box must shrink. Table-driven cases, fast-check properties on the pure plan,
 * and a few random cases through real sharp.
 */
import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { Fit } from '../../edge-fn/grammar/types.ts';
import { createTransformer, DEFAULT_LIMITS, planResize } from '../../origin-fn/transform/index.ts';

const SOURCE = { width: 768, height: 512 };

describe('planResize', () => {
  const cases: Array<[string, { width?: number; height?: number; fit: Fit }, ReturnType<typeof planResize>]> =
    [
      ['no box and a source within bounds: no resize', { fit: 'inside' }, undefined],
      ['a width larger than the source: no resize', { width: 4096, fit: 'inside' }, undefined],
      [
        'a width only: inside, height bounded by the maximum',
        { width: 384, fit: 'cover' },
        { width: 384, height: 4096, fit: 'inside' },
      ],
      [
        'inside keeps the box',
        { width: 300, height: 300, fit: 'inside' },
        { width: 300, height: 300, fit: 'inside' },
      ],
      [
        'cover within the source keeps the box',
        { width: 300, height: 300, fit: 'cover' },
        { width: 300, height: 300, fit: 'cover' },
      ],
      [
        'cover larger than the source shrinks the box to fit it',
        { width: 1000, height: 500, fit: 'cover' },
        { width: 768, height: 384, fit: 'cover' },
      ],
      [
        'fill larger than the source shrinks the box to fit it',
        { width: 2000, height: 1000, fit: 'fill' },
        { width: 768, height: 384, fit: 'fill' },
      ],
      [
        'contain larger than the source: the smallest box of that shape holding it',
        { width: 1000, height: 1000, fit: 'contain' },
        { width: 768, height: 768, fit: 'contain' },
      ],
      [
        'outside: the source scaled to cover the box',
        { width: 300, height: 300, fit: 'outside' },
        { width: 450, height: 300, fit: 'inside' },
      ],
      [
        'outside never enlarges',
        { width: 2000, height: 300, fit: 'outside' },
        { width: 768, height: 512, fit: 'inside' },
      ],
    ];
  for (const [name, request, expected] of cases) {
    it(name, () => {
      expect(planResize(SOURCE, request, 4096)).toEqual(expected);
    });
  }

  it('shrinks a box beyond the maximum proportionally', () => {
    expect(
      planResize({ width: 10_000, height: 10_000 }, { width: 8000, height: 2000, fit: 'cover' }, 4096),
    ).toEqual({
      width: 4096,
      height: 1024,
      fit: 'cover',
    });
    expect(planResize({ width: 10_000, height: 5000 }, { fit: 'inside' }, 4096)).toEqual({
      width: 4096,
      height: 4096,
      fit: 'inside',
    });
  });

  const side = fc.integer({ min: 1, max: 12_000 });
  const fit = fc.constantFrom<Fit>('inside', 'cover', 'contain', 'fill', 'outside');
  const maxDimension = fc.integer({ min: 16, max: 4096 });

  it('is bounded: every planned side is from 1 to the maximum dimension', () => {
    fc.assert(
      fc.property(side, side, fc.option(side), fc.option(side), fit, maxDimension, (w, h, bw, bh, f, max) => {
        const plan = planResize(
          { width: w, height: h },
          { width: bw ?? undefined, height: bh ?? undefined, fit: f },
          max,
        );
        if (plan === undefined) return w <= max && h <= max;
        return plan.width >= 1 && plan.height >= 1 && plan.width <= max && plan.height <= max;
      }),
      { numRuns: 2000 },
    );
  });

  it('never asks cover or fill for a box larger than the source, and keeps the box aspect ratio', () => {
    fc.assert(
      fc.property(side, side, side, side, fc.constantFrom<Fit>('cover', 'fill'), (w, h, bw, bh, f) => {
        const plan = planResize({ width: w, height: h }, { width: bw, height: bh, fit: f }, 4096);
        if (plan === undefined) return false;
        const within = plan.width <= Math.max(1, w) && plan.height <= Math.max(1, h);
        // Rounding to whole pixels: aspect ratios agree to within one pixel on each side.
        const aspectKept = Math.abs(plan.width * bh - plan.height * bw) <= Math.max(bw, bh);
        return within && aspectKept;
      }),
      { numRuns: 2000 },
    );
  });
});

describe('resizing through sharp (random cases)', () => {
  const transformer = createTransformer({ ...DEFAULT_LIMITS, maxOutputDimension: 256 });

  it('outputs are never larger than the source nor the maximum dimension, and cover/fill/contain match the plan', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 400 }),
        fc.option(fc.integer({ min: 1, max: 600 })),
        fc.option(fc.integer({ min: 1, max: 600 })),
        fc.constantFrom<Fit>('inside', 'cover', 'contain', 'fill', 'outside'),
        async (w, h, bw, bh, f) => {
          const source = await sharp({ create: { width: w, height: h, channels: 3, background: '#3a7' } })
            .png()
            .toBuffer();
          const request = { width: bw ?? undefined, height: bh ?? undefined, fit: f };
          const result = await transformer.transform(source, {
            source: 'x',
            quality: 'auto',
            format: 'png',
            ...request,
          });
          const meta = await sharp(result.bytes).metadata();
          expect([meta.width, meta.height]).toEqual([result.width, result.height]);
          expect(result.width).toBeLessThanOrEqual(256);
          expect(result.height).toBeLessThanOrEqual(256);
          if (f !== 'contain') {
            expect(result.width).toBeLessThanOrEqual(w);
            expect(result.height).toBeLessThanOrEqual(h);
          }
          const plan = planResize({ width: w, height: h }, request, 256);
          if (plan !== undefined && plan.fit !== 'inside') {
            expect([result.width, result.height]).toEqual([plan.width, plan.height]);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
