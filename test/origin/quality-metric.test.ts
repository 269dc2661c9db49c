/**
 * The in-process perceptual metric (origin-fn/transform/distance.ts) on in-repo fixtures.
 * Its agreement with butteraugli is checked in the corpus suite (test/corpus/quality-judge.test.ts),
 * which needs `butteraugli_main`; this file needs nothing beyond the repository.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createComparator, type PixelView, perceptualDistance } from '../../origin-fn/transform/distance.ts';
import { DEFAULT_LIMITS } from '../../origin-fn/transform/limits.ts';
import { withDamagedPatch } from '../helpers/damaged-patch.ts';
import { fixture } from '../helpers/images.ts';
import { pixelView } from '../helpers/pixel-view.ts';

const raw = (image: Buffer) => pixelView(image);

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

describe('the perceptual distance', () => {
  it('is 0 for identical pixels and refuses candidates of another size', async () => {
    const reference = await raw(fixture('kodim23-q95.jpg'));
    expect(perceptualDistance(reference, reference)).toBe(0);
    const smaller = await raw(await sharp(fixture('kodim23-q95.jpg')).resize(384).toBuffer());
    expect(() => perceptualDistance(reference, smaller)).toThrow(
      'Cannot compare a 384×256 candidate with a 768×512 reference',
    );
  });

  for (const name of photos) {
    for (const format of ['jpeg', 'webp'] as const) {
      it(`falls strictly along a ${format} quality ladder (${name}, 384 px wide)`, async () => {
        const reference = await raw(await sharp(fixture(name)).resize(384).toBuffer());
        const ladder = [20, 40, 60, 75, 85, 95];
        const distances: number[] = [];
        for (const q of ladder) {
          distances.push(perceptualDistance(reference, await encodeAt(reference, format, q)));
        }
        for (let i = 1; i < distances.length; i++) {
          expect(distances[i], `q${ladder[i]} vs q${ladder[i - 1]}: ${distances.join(', ')}`).toBeLessThan(
            distances[i - 1] ?? 0,
          );
        }
        // In butteraugli units: q20 is plainly damaged (> 2), q95 well under the edge of visible (1).
        expect(distances[0]).toBeGreaterThan(2);
        expect(distances.at(-1)).toBeLessThan(0.7);
      });
    }
  }

  it('never rises along an AVIF ladder (libaom maps some neighbouring qualities to one quantiser)', async () => {
    const reference = await raw(await sharp(fixture('kodim03-q95.jpg')).resize(384).toBuffer());
    const distances: number[] = [];
    for (const q of [25, 40, 55, 70, 85])
      distances.push(perceptualDistance(reference, await encodeAt(reference, 'avif', q)));
    for (let i = 1; i < distances.length; i++) {
      expect(distances[i]).toBeLessThanOrEqual(distances[i - 1] ?? 0);
    }
    expect(distances.at(-1)).toBeLessThan(distances[0] ?? 0);
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
    // Far beyond any quality target (a photo's worst JPEG q20 is about 3).
    expect(perceptualDistance(reference, { ...reference, data: grey })).toBeGreaterThan(5);
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
    expect(perceptualDistance(transparent, { ...transparent, data: changed })).toBe(0);
  });

  it('masks fine errors in texture: the same noise counts far more on a smooth area', () => {
    // Left half flat grey, right half random texture (seeded); ±6 noise on a 32×32 patch of each.
    const width = 256;
    const height = 128;
    let seed = 1;
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 16;
    };
    const reference = Buffer.alloc(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) reference[y * width + x] = x < 128 ? 128 : 88 + (random() % 81);
    }
    const noisyPatch = (x0: number) => {
      const out = Buffer.from(reference);
      for (let y = 48; y < 80; y++) {
        for (let x = x0; x < x0 + 32; x++) {
          const i = y * width + x;
          out[i] = Math.max(0, Math.min(255, (out[i] ?? 0) + (random() & 1 ? 6 : -6)));
        }
      }
      return out;
    };
    const view = (data: Buffer) => ({ data, width, height, channels: 1 });
    const onFlat = perceptualDistance(view(reference), view(noisyPatch(48)));
    const onTexture = perceptualDistance(view(reference), view(noisyPatch(176)));
    expect(onTexture).toBeGreaterThan(0);
    expect(onFlat).toBeGreaterThan(3 * onTexture);
  });

  for (const name of ['kodim03-q95.jpg', 'kodim23-q95.jpg']) {
    it(`sees one small damaged area: a 48 px patch at JPEG q15 misses the q=auto target (${name}, 768×512)`, async () => {
      // butteraugli reads 1.2–1.8 for this on the Kodak photos (docs/quality.md, "Localized
      // damage"); a plain 3-norm of the map diluted it over the clean pixels to 0.6–0.8.
      const reference = await raw(fixture(name));
      const target = DEFAULT_LIMITS.quality.auto.distance;
      expect(perceptualDistance(reference, await withDamagedPatch(reference, 48, 15))).toBeGreaterThan(
        target,
      );
      // Not by inflating every change: the same patch at q90 stays well within it.
      expect(perceptualDistance(reference, await withDamagedPatch(reference, 48, 90))).toBeLessThan(
        target / 2,
      );
    });
  }
});
