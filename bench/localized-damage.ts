/**
 * Level agreement on localized damage: a clean Kodak photo with one square patch (24, 48 or
 * 96 px) replaced by its JPEG q10/q15/q30 version, scored by litepix's distance and by
 * butteraugli's 3-norm (`butteraugli_main --pnorm 3`). A global encode spreads its errors
 * over the whole image; a small damaged area is where a plain 3-norm and butteraugli's pooling
 * (the mean of its 3-, 6- and 12-norms) part ways, so both poolings of litepix's map are shown.
 *
 * Part of `npm run eval:quality` (docs/quality.md); alone: `npx tsx bench/localized-damage.ts`
 * prints the table.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type Sharp } from 'sharp';
import { createComparator, DISTANCE_SCALE, type PixelView } from '../origin-fn/transform/distance.ts';
import { withDamagedPatch } from '../test/helpers/damaged-patch.ts';
import { pixelView, sharpOf } from '../test/helpers/pixel-view.ts';

export const PATCH_SIZES = [24, 48, 96] as const;
export const PATCH_QUALITIES = [10, 15, 30] as const;
export const PATCH_IMAGES = ['kodim03.png', 'kodim05.png', 'kodim14.png', 'kodim23.png'] as const;
/**
 * The scale of the distance when it was pooled with a plain 3-norm (before the mean of the
 * 3-, 6- and 12-norms): the "plain 3-norm" column is the map's 3-norm at that scale, the
 * distance as it read then.
 */
export const PLAIN_3_NORM_SCALE = 0.71;

export interface PatchCase {
  image: string;
  size: number;
  quality: number;
  butteraugli: number;
  distance: number;
  /** The same map pooled with a plain 3-norm at its own former scale (the distance before). */
  plain3: number;
}

const raw = (input: Sharp) => pixelView(input);

const png = (view: PixelView) => sharpOf(view).png({ compressionLevel: 1 }).toBuffer();

function butteraugli(ref: string, cand: string): number {
  const out = execFileSync('butteraugli_main', [ref, cand, '--pnorm', '3'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString();
  const value = Number(/3-norm:\s*([0-9.]+)/.exec(out)?.[1]);
  if (!Number.isFinite(value)) throw new Error(`unreadable butteraugli output: ${out}`);
  return value;
}

/** Every image × patch size × quality, judged; `corpus` holds photos/kodak/. */
export async function measureLocalizedDamage(corpus: string, dir: string): Promise<PatchCase[]> {
  const cases: PatchCase[] = [];
  for (const image of PATCH_IMAGES) {
    const reference = await raw(sharp(readFileSync(resolve(corpus, 'photos/kodak', image))).removeAlpha());
    const refPath = join(dir, 'patch-ref.png');
    writeFileSync(refPath, await png(reference));
    const comparator = createComparator(reference);
    for (const size of PATCH_SIZES) {
      for (const quality of PATCH_QUALITIES) {
        const damaged = await withDamagedPatch(reference, size, quality);
        const candPath = join(dir, 'patch-cand.png');
        writeFileSync(candPath, await png(damaged));
        const norms = comparator.norms(damaged);
        cases.push({
          image,
          size,
          quality,
          butteraugli: butteraugli(refPath, candPath),
          distance: comparator.distance(damaged),
          plain3: (norms.p3 / DISTANCE_SCALE) * PLAIN_3_NORM_SCALE,
        });
      }
    }
  }
  return cases;
}

const f2 = (x: number) => x.toFixed(2);
const range = (xs: number[]) => `${f2(Math.min(...xs))}–${f2(Math.max(...xs))}`;

/** Markdown: one row per patch size and quality, ranges over the images. */
export function renderLocalizedDamage(cases: PatchCase[]): string[] {
  const lines = [
    '| patch | JPEG q | butteraugli 3-norm | litepix distance | butteraugli ÷ distance | plain 3-norm (before) | butteraugli ÷ it |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const size of PATCH_SIZES) {
    for (const quality of PATCH_QUALITIES) {
      const cs = cases.filter((c) => c.size === size && c.quality === quality);
      if (cs.length === 0) continue;
      lines.push(
        `| ${size} px | ${quality} | ${range(cs.map((c) => c.butteraugli))} | ${range(cs.map((c) => c.distance))} | ` +
          `${range(cs.map((c) => c.butteraugli / c.distance))} | ${range(cs.map((c) => c.plain3))} | ` +
          `${range(cs.map((c) => c.butteraugli / c.plain3))} |`,
      );
    }
  }
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const corpus = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'corpus');
  const dir = mkdtempSync(join(tmpdir(), 'litepix-patch-'));
  try {
    const cases = await measureLocalizedDamage(corpus, dir);
    for (const c of cases) {
      process.stderr.write(
        `${c.image} ${c.size}px q${c.quality}: butteraugli ${f2(c.butteraugli)} distance ${f2(c.distance)} 3-norm alone ${f2(c.plain3)}\n`,
      );
    }
    process.stdout.write(`${renderLocalizedDamage(cases).join('\n')}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
