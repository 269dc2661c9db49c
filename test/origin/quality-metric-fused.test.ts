/**
 * The perceptual distance's fused passes (origin-fn/transform/distance.ts) against the plain
 * pass-per-step computation (test/helpers/unfused-distance.ts) on real encodes of every pixel
 * layout the origin hands it, and the reference kept once per pixel buffer (`comparatorFor`).
 */
import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  comparatorFor,
  createComparator,
  type PixelView,
  prepareReference,
} from '../../origin-fn/transform/distance.ts';
import { SAMPLE_TILE, sampleTiles } from '../../origin-fn/transform/quality-search.ts';
import { fixture } from '../helpers/images.ts';
import { pixelView, sharpOf } from '../helpers/pixel-view.ts';
import { unfusedComparator } from '../helpers/unfused-distance.ts';

const raw = (image: Sharp) => pixelView(image);

const view = sharpOf;

/** Lossy round trips of `reference` with its channel layout kept (alpha through WebP). */
async function candidates(reference: PixelView): Promise<PixelView[]> {
  const out: PixelView[] = [];
  const alpha = reference.channels === 2 || reference.channels === 4;
  for (const quality of [30, 75, 92]) {
    const bytes = alpha
      ? await view(reference).webp({ quality }).toBuffer()
      : await view(reference).jpeg({ quality, mozjpeg: true }).toBuffer();
    let decoded = sharp(bytes);
    if (reference.channels === 1) decoded = decoded.toColourspace('b-w');
    if (reference.channels === 2) decoded = decoded.toColourspace('b-w').ensureAlpha();
    out.push(await raw(decoded));
  }
  return out;
}

const layouts: Array<[string, () => Promise<PixelView>]> = [
  ['RGB photo', () => raw(sharp(fixture('kodim03-q95.jpg')))],
  [
    'RGB photo of odd size (383×255)',
    () => raw(sharp(fixture('kodim23-q95.jpg')).resize(383, 255, { fit: 'fill' })),
  ],
  ['grey photo', () => raw(sharp(fixture('kodim13-crop-q95.jpg')).toColourspace('b-w'))],
  ['grey + alpha', () => raw(sharp(fixture('png-alpha-handwriting.png')).toColourspace('b-w').ensureAlpha())],
  ['RGBA with transparency', () => raw(sharp(fixture('png-alpha-handwriting.png')).ensureAlpha())],
  [
    'a 1-pixel-high strip',
    () => raw(sharp(fixture('kodim03-q95.jpg')).extract({ left: 0, top: 200, width: 768, height: 1 })),
  ],
];

describe('the fused distance', () => {
  for (const [name, load] of layouts) {
    it(`equals the pass-per-step computation within 1e-3 (${name})`, async () => {
      const reference = await load();
      const cands = await candidates(reference);
      expect(cands.every((c) => c.channels === reference.channels)).toBe(true);
      const prepared = prepareReference(reference);
      const fused = createComparator(prepared);
      const plain = unfusedComparator(prepared);
      const expected = cands.map(plain);
      expect(expected[0], 'q30 changes something').toBeGreaterThan(0);
      for (const [i, candidate] of cands.entries()) {
        expect(Math.abs(fused.distance(candidate) - (expected[i] ?? 0))).toBeLessThanOrEqual(1e-3);
      }
      expect(fused.distance(reference)).toBe(0);
    });
  }

  it('equals it on a tile sample, seams left out', async () => {
    const big = await raw(sharp(fixture('kodim03-q95.jpg')).resize(1600, 1067));
    const sample = sampleTiles(big);
    if (sample === undefined) throw new Error('expected a tile sample of a 1.7 MP image');
    const [candidate] = await candidates(sample);
    if (candidate === undefined) throw new Error('no candidate');
    const prepared = prepareReference(sample, { tile: SAMPLE_TILE });
    expect(prepared.keepAll).toBe(false);
    const expected = unfusedComparator(prepared)(candidate);
    expect(Math.abs(createComparator(prepared).distance(candidate) - expected)).toBeLessThanOrEqual(1e-3);
    // Leaving the seams out changes the figure (the check above would not see a wrong mask).
    expect(createComparator(sample).distance(candidate)).not.toBe(expected);
  });
});

describe('the reference, prepared once per image and size', () => {
  it('is reused for the same pixel buffer and options, and measures like a fresh one', async () => {
    const reference = await raw(sharp(fixture('kodim23-q95.jpg')).resize(384));
    const [candidate] = await candidates(reference);
    if (candidate === undefined) throw new Error('no candidate');
    const first = comparatorFor(reference);
    expect(comparatorFor({ ...reference })).toBe(first); // the same buffer in another view object
    expect(comparatorFor(reference, { tile: 64 })).not.toBe(first);
    expect(comparatorFor({ ...reference, data: Buffer.from(reference.data) })).not.toBe(first);
    expect(first.distance(candidate)).toBe(createComparator(reference).distance(candidate));
  });

  it('is shared by every format of one size: the tile sample of the same pixels is the same buffer', async () => {
    const big = await raw(sharp(fixture('kodim03-q95.jpg')).resize(1600, 1067));
    expect(sampleTiles(big)).toBe(sampleTiles(big));
  });
});
