/**
 * The in-process perceptual metric (origin-fn/transform/similarity.ts) on in-repo fixtures.
 * Its agreement with butteraugli is checked in the corpus suite (test/corpus/quality-judge.test.ts),
 * which needs `butteraugli_main`; this file needs nothing beyond the repository.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createComparator, type PixelView, similarity } from '../../origin-fn/transform/similarity.ts';
import { fixture } from '../helpers/images.ts';

async function raw(image: Buffer): Promise<PixelView> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

async function encodeAt(reference: PixelView, format: 'jpeg' | 'webp' | 'avif', quality: number) {
  const image = sharp(reference.data, {
    raw: { width: reference.width, height: reference.height, channels: reference.channels as 3 },
  });
  const bytes = await (format === 'jpeg'
    ? image.jpeg({ quality, mozjpeg: true })
    : format === 'webp'
      ? image.webp({ quality, smartSubsample: true })
      : image.avif({ quality, effort: 2, chromaSubsampling: '4:2:0' })
  ).toBuffer();
  return raw(bytes);
}

const photos = ['kodim03-q95.jpg', 'kodim23-q95.jpg', 'kodim13-crop-q95.jpg'];

describe('the similarity metric', () => {
  it('is 1 for identical pixels and refuses candidates of another size', async () => {
    const reference = await raw(fixture('kodim23-q95.jpg'));
    expect(similarity(reference, reference)).toBe(1);
    const smaller = await raw(await sharp(fixture('kodim23-q95.jpg')).resize(384).toBuffer());
    expect(() => similarity(reference, smaller)).toThrow(
      'Cannot compare a 384×256 candidate with a 768×512 reference',
    );
  });

  for (const name of photos) {
    for (const format of ['jpeg', 'webp'] as const) {
      it(`rises strictly along a ${format} quality ladder (${name}, 384 px wide)`, async () => {
        const reference = await raw(await sharp(fixture(name)).resize(384).toBuffer());
        const ladder = [20, 40, 60, 75, 85, 95];
        const scores: number[] = [];
        for (const q of ladder) scores.push(similarity(reference, await encodeAt(reference, format, q)));
        for (let i = 1; i < scores.length; i++) {
          expect(scores[i], `q${ladder[i]} vs q${ladder[i - 1]}: ${scores.join(', ')}`).toBeGreaterThan(
            scores[i - 1] ?? 1,
          );
        }
        expect(scores[0]).toBeLessThan(0.9);
        expect(scores.at(-1)).toBeGreaterThan(0.96);
      });
    }
  }

  it('never falls along an AVIF ladder (libaom maps some neighbouring qualities to one quantiser)', async () => {
    const reference = await raw(await sharp(fixture('kodim03-q95.jpg')).resize(384).toBuffer());
    const scores: number[] = [];
    for (const q of [25, 40, 55, 70, 85])
      scores.push(similarity(reference, await encodeAt(reference, 'avif', q)));
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeGreaterThanOrEqual(scores[i - 1] ?? 1);
    expect(scores.at(-1)).toBeGreaterThan(scores[0] ?? 1);
  });

  it('sees a colour loss that luma alone would miss (chroma check)', async () => {
    const reference = await raw(fixture('kodim23-q95.jpg'));
    // Same luma, no colour: every pixel replaced by the grey of its own BT.601 luma.
    const grey = Buffer.alloc(reference.data.length);
    for (let i = 0; i < grey.length; i += 3) {
      const y = Math.round(
        0.299 * (reference.data[i] ?? 0) +
          0.587 * (reference.data[i + 1] ?? 0) +
          0.114 * (reference.data[i + 2] ?? 0),
      );
      grey.fill(y, i, i + 3);
    }
    const score = similarity(reference, { ...reference, data: grey });
    expect(score).toBeLessThan(0.9);
  });

  it('measures detail: a flat graphic has far less than a textured photo', async () => {
    const flat = await raw(
      await sharp({ create: { width: 256, height: 256, channels: 3, background: '#2a6f97' } })
        .composite([
          {
            input: Buffer.from(
              '<svg width="128" height="128"><circle cx="64" cy="64" r="60" fill="#e07a5f"/></svg>',
            ),
          },
        ])
        .png()
        .toBuffer(),
    );
    const texture = await raw(fixture('kodim13-crop-q95.jpg'));
    expect(createComparator(flat).activity).toBeLessThan(1);
    expect(createComparator(texture).activity).toBeGreaterThan(10);
  });

  it('compares transparent pixels by what they show (composited on grey)', async () => {
    const transparent = await raw(await sharp(fixture('png-alpha-handwriting.png')).ensureAlpha().toBuffer());
    expect(transparent.channels).toBe(4);
    // Changing the colour of fully transparent pixels changes nothing visible.
    const changed = Buffer.from(transparent.data);
    let hidden = 0;
    for (let i = 0; i < changed.length; i += 4) {
      if (changed[i + 3] === 0) {
        changed[i] = 255 - (changed[i] ?? 0);
        hidden++;
      }
    }
    expect(hidden).toBeGreaterThan(1000);
    expect(similarity(transparent, { ...transparent, data: changed })).toBe(1);
  });
});
