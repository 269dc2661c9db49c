/**
 * Text-like regions (origin-fn/transform/text-map.ts) on the generated document fixtures
 * (test/fixtures/documents/, rendered by Chromium) and on photos, and what they do to the
 * distance: a document's text weighs more, a photo's distance is what it was.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createComparator } from '../../origin-fn/transform/distance.ts';
import { DOCUMENT_SHARE, TEXT_WEIGHT } from '../../origin-fn/transform/distance-reference.ts';
import { inText, TEXT_BLOCK, textMap, textMapOfLuma } from '../../origin-fn/transform/text-map.ts';
import { DOCUMENTS, documentFixture, fixture } from '../helpers/images.ts';
import { pixelView } from '../helpers/pixel-view.ts';

const PHOTOS = ['kodim03-q95.jpg', 'kodim23-q95.jpg', 'kodim13-crop-q95.jpg'];

const at828 = (bytes: Buffer) =>
  pixelView(sharp(bytes).resize({ width: 828, withoutEnlargement: true }).removeAlpha());

describe('text-like regions', () => {
  it.each(DOCUMENTS)('cover a document’s share on %s', async (name) => {
    const map = textMap(await at828(documentFixture(name)));
    expect(map.share).toBeGreaterThanOrEqual(DOCUMENT_SHARE + 0.03);
  });

  it.each(PHOTOS)('are few on the photo %s', async (name) => {
    const map = textMap(await at828(fixture(name)));
    expect(map.share).toBeLessThan(DOCUMENT_SHARE - 0.05);
  });

  it('find a line of black text on white and nothing on flat grey or a smooth gradient', () => {
    const width = 96;
    const height = 48;
    const page = new Float32Array(width * height).fill(250);
    // Letter-like strokes: 2-px vertical bars 4 px apart on rows 16–31 (one line of text).
    for (let row = 16; row < 32; row++) {
      for (let col = 0; col < width; col++) if (col % 6 < 2) page[row * width + col] = 20;
    }
    const text = textMapOfLuma(page, width, height);
    expect(text.cols).toBe(width / TEXT_BLOCK);
    expect(inText(text, 40, 20)).toBe(true);
    expect(text.share).toBeCloseTo(6 / 18, 5); // one block row of three is text
    const grey = textMapOfLuma(new Float32Array(width * height).fill(128), width, height);
    expect(grey.share).toBe(0);
    const ramp = new Float32Array(width * height).map((_, i) => ((i % width) * 255) / width);
    expect(textMapOfLuma(ramp, width, height).share).toBe(0);
  });

  it('make a document’s distance stricter and leave a photo’s as it was', async () => {
    const distances = async (bytes: Buffer) => {
      const reference = await at828(bytes);
      const candidate = await pixelView(
        await sharp(Buffer.from(reference.data), {
          raw: { width: reference.width, height: reference.height, channels: 3 },
        })
          .jpeg({ quality: 70, mozjpeg: true })
          .toBuffer(),
      );
      return {
        weighted: createComparator(reference).distance(candidate),
        plain: createComparator(reference, { textWeight: 1 }).distance(candidate),
      };
    };
    const doc = await distances(documentFixture('receipt-screen.png'));
    expect(doc.weighted).toBeGreaterThan(1.08 * doc.plain);
    expect(doc.weighted).toBeLessThan(TEXT_WEIGHT * doc.plain);
    const photo = await distances(fixture('kodim23-q95.jpg'));
    expect(photo.weighted).toBe(photo.plain);
  });
});
