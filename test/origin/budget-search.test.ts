/**
 * The byte search of a budget (budget-search.ts) on real encodes of a real photo: the highest
 * quality that fits, never a candidate over the budget, at most its encoder runs, and the
 * window's floor always tried while nothing fits.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { BUDGET_ENCODES, searchBytes } from '../../origin-fn/transform/budget-search.ts';
import { encode, type RawPixels } from '../../origin-fn/transform/encode.ts';
import { fixture } from '../helpers/images.ts';

async function photo(width: number): Promise<RawPixels> {
  const { data, info } = await sharp(fixture('kodim23-q95.jpg'))
    .resize(width)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 3 };
}

/** Encodes at q (cached), counting the runs the search asks for. */
function encoder(pixels: RawPixels, format: 'jpeg' | 'webp') {
  const cache = new Map<number, Buffer>();
  const state = { runs: 0, asked: [] as number[] };
  const at = async (q: number) => {
    let bytes = cache.get(q);
    if (bytes === undefined) {
      bytes = (await encode(pixels, { format, quality: q, dropAlpha: false, greyscale: false })).bytes;
      cache.set(q, bytes);
    }
    return bytes;
  };
  const encodeAt = async (q: number) => {
    state.runs++;
    state.asked.push(q);
    return at(q);
  };
  return { at, encodeAt, state };
}

describe('searchBytes', () => {
  const budgets = { jpeg: [20, 30, 40], webp: [20, 25, 30] };
  for (const format of ['jpeg', 'webp'] as const) {
    it(`finds the highest ${format} quality that fits ${budgets[format].join(', ')} KB within ${BUDGET_ENCODES} runs`, async () => {
      const pixels = await photo(768);
      const { at, encodeAt, state } = encoder(pixels, format);
      const ceiling = 85;
      const top = { quality: ceiling, bytes: await at(ceiling) };
      for (const kb of budgets[format]) {
        state.runs = 0;
        expect(top.bytes.length).toBeGreaterThan(kb * 1024);
        const result = await searchBytes({
          min: 40,
          ceiling,
          maxBytes: kb * 1024,
          known: [top],
          maxEncodes: BUDGET_ENCODES,
          encodeAt,
        });
        const best = result.best;
        if (best === undefined) throw new Error(`nothing fits ${kb} KB`);
        expect(best.bytes.length).toBeLessThanOrEqual(kb * 1024);
        expect((await at(best.quality + 1)).length, `${kb} KB: q+1 is over`).toBeGreaterThan(kb * 1024);
        expect(result.encodes).toBe(state.runs);
        expect(result.encodes).toBeLessThanOrEqual(BUDGET_ENCODES);
      }
    });
  }

  it('keeps its last run for the floor while nothing fits, and reports the floor when it is over', async () => {
    const pixels = await photo(768);
    const { encodeAt, state } = encoder(pixels, 'jpeg');
    // 2 KB: nothing between 40 and 90 fits a 768 px photo.
    const result = await searchBytes({ min: 40, ceiling: 90, maxBytes: 2048, maxEncodes: 3, encodeAt });
    expect(result.best).toBeUndefined();
    expect(result.encodes).toBeLessThanOrEqual(3);
    expect(state.asked).toContain(40);
    expect(result.atMin?.quality).toBe(40);
    expect(result.atMin?.bytes.length).toBeGreaterThan(2048);
  });

  it('returns a known candidate that fits without encoding again when it is at the ceiling', async () => {
    const pixels = await photo(256);
    const { at, encodeAt, state } = encoder(pixels, 'webp');
    const known = { quality: 70, bytes: await at(70) };
    const result = await searchBytes({
      min: 40,
      ceiling: 70,
      maxBytes: known.bytes.length,
      known: [known],
      maxEncodes: BUDGET_ENCODES,
      encodeAt,
    });
    expect(result.best?.quality).toBe(70);
    expect(state.runs).toBe(0);
  });
});
