/**
 * `npm run test:corpus`: every photo of ../shared/corpus (the camera photos and Kodak) at w828
 * within 50 KB and 20 KB, in JPEG, WebP and AVIF, through the transform core (real sharp): no
 * variant over its budget, the size kept unless the ladder stepped, and the header saying what won.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LADDER } from '../../edge-fn/grammar/config.ts';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import { formatQualityHeader } from '../../origin-fn/transform/quality.ts';
import { spec } from '../helpers/images.ts';

const CORPUS = resolve(import.meta.dirname, '../../../shared/corpus');

interface Entry {
  file: string;
  category: string;
  width: number;
  height: number;
}

const photos: Entry[] = existsSync(CORPUS)
  ? (JSON.parse(readFileSync(resolve(CORPUS, 'manifest.json'), 'utf8')) as Entry[]).filter(
      (e) => e.category === 'photo',
    )
  : [];
const transformer = createTransformer(DEFAULT_LIMITS);

describe('corpus photos at w828 within kb50 and kb20', () => {
  it('has the photos (9 camera photos and 24 Kodak)', () => {
    expect(photos.length).toBeGreaterThanOrEqual(33);
  });
  for (const entry of photos) {
    it(`${entry.file}: every format within 50 KB and 20 KB`, async () => {
      const input = readFileSync(resolve(CORPUS, entry.file));
      for (const format of ['jpeg', 'webp', 'avif'] as const) {
        for (const kb of [50, 20]) {
          const result = await transformer.transform(input, spec({ width: 828, format, maxKb: kb }));
          const label = `${format} ${kb} KB`;
          expect(result.bytes.length, label).toBeLessThanOrEqual(kb * 1024);
          const meta = await sharp(result.bytes).metadata();
          expect(meta.width, label).toBe(result.width);
          const header = formatQualityHeader(result.qualityReport);
          expect(header, label).toMatch(/; budget=\d+KB; won=(quality|budget)(; stepped=\d+-\d+)?$/);
          const stepped = result.qualityReport.budget?.stepped;
          if (stepped === undefined) {
            expect(result.width, label).toBe(Math.min(828, entry.width));
          } else {
            expect(DEFAULT_LADDER, label).toContain(result.width);
            expect(result.width, label).toBeLessThan(stepped.from);
          }
        }
      }
    });
  }
});
