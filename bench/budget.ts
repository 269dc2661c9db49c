/**
 * `npm run bench -- budget` (issue 16 §2): the corpus photos (../shared/corpus manifest: the
 * camera photos and Kodak) at w=828, per format (JPEG, WebP, AVIF): bytes at q=lite, q=auto,
 * maxkb=50 and maxkb=20 (both on q=auto), and for the budgets which constraint won, how often
 * the size stepped down the ladder, the encoder runs per budget variant (the perceptual search's
 * included) and the runs the budget added over q=auto's, and the search's distance of what was
 * served. Single-variant path (`transform`, the origin's cold miss); the search's time budget is
 * lifted so the load cannot change the choices.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OutputFormat, Quality, VariantSpec } from '../edge-fn/grammar/types.ts';
import { createTransformer, DEFAULT_LIMITS } from '../origin-fn/transform/index.ts';
import type { TransformResult } from '../origin-fn/transform/types.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CORPUS = resolve(repoRoot, '..', 'shared', 'corpus');
const WIDTH = 828;
const FORMATS: OutputFormat[] = ['jpeg', 'webp', 'avif'];
const MODES = [
  { name: 'qlite', quality: 'lite' },
  { name: 'qauto', quality: 'auto' },
  { name: 'kb50', quality: 'auto', maxKb: 50 },
  { name: 'kb20', quality: 'auto', maxKb: 20 },
] as const satisfies ReadonlyArray<{ name: string; quality: Quality; maxKb?: number }>;
type ModeName = (typeof MODES)[number]['name'];
const log = (message: string) => process.stderr.write(`[budget] ${message}\n`);
const round = (n: number, digits = 3) => Number(n.toFixed(digits));
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2
    ? (sorted[Math.floor(mid)] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

function corpusPhotos(): string[] {
  const manifest = resolve(CORPUS, 'manifest.json');
  if (!existsSync(manifest)) throw new Error(`The budget bench needs ../shared/corpus (no ${manifest})`);
  const entries = JSON.parse(readFileSync(manifest, 'utf8')) as Array<{ file: string; category: string }>;
  return entries.filter((e) => e.category === 'photo').map((e) => resolve(CORPUS, e.file));
}

interface Cell {
  bytes: number[];
  encodes: number[];
  extraEncodes: number[];
  distances: number[];
  wonBudget: number;
  stepped: number;
  overBudget: number;
}
const newCell = (): Cell => ({
  bytes: [],
  encodes: [],
  extraEncodes: [],
  distances: [],
  wonBudget: 0,
  stepped: 0,
  overBudget: 0,
});

export async function runBudgetBench() {
  const photos = corpusPhotos();
  const limits = { ...DEFAULT_LIMITS, quality: { ...DEFAULT_LIMITS.quality, budgetMs: 60_000 } };
  const transformer = createTransformer(limits);
  const cells = new Map<string, Cell>();
  const cell = (format: OutputFormat, mode: ModeName) => {
    const key = `${format}/${mode}`;
    const c = cells.get(key) ?? newCell();
    cells.set(key, c);
    return c;
  };
  const started = performance.now();
  for (const [n, file] of photos.entries()) {
    const input = readFileSync(file);
    for (const format of FORMATS) {
      let autoEncodes = 0;
      for (const mode of MODES) {
        const spec: VariantSpec = {
          source: 'bench.jpg',
          width: WIDTH,
          fit: 'inside',
          format,
          quality: mode.quality,
          ...('maxKb' in mode ? { maxKb: mode.maxKb } : {}),
        };
        const result: TransformResult = await transformer.transform(input, spec);
        const c = cell(format, mode.name);
        const report = result.qualityReport;
        c.bytes.push(result.bytes.length);
        c.encodes.push(report.encodes);
        if (report.distance !== undefined) c.distances.push(report.distance);
        if (mode.name === 'qauto') autoEncodes = report.encodes;
        if ('maxKb' in mode) {
          c.extraEncodes.push(report.encodes - autoEncodes);
          if (report.budget?.won === 'budget') c.wonBudget++;
          if (report.budget?.stepped !== undefined) c.stepped++;
          if (result.bytes.length > mode.maxKb * 1024) c.overBudget++;
        }
      }
    }
    log(
      `${n + 1}/${photos.length} ${file.split('/').pop()} (${Math.round((performance.now() - started) / 1000)} s)`,
    );
  }
  const table: Record<string, Record<string, unknown>> = {};
  for (const format of FORMATS) {
    for (const mode of MODES) {
      const c = cell(format, mode.name);
      table[`${format} ${mode.name}`] = {
        medianKB: round(median(c.bytes) / 1024, 1),
        meanEncodes: round(mean(c.encodes), 2),
        medianDistance: round(median(c.distances)),
        ...('maxKb' in mode
          ? {
              meanEncodesAddedByBudget: round(mean(c.extraEncodes), 2),
              wonBudget: `${c.wonBudget}/${c.bytes.length}`,
              stepped: `${c.stepped}/${c.bytes.length}`,
              overBudget: c.overBudget,
            }
          : {}),
      };
    }
  }
  return {
    photos: photos.length,
    width: WIDTH,
    seconds: Math.round((performance.now() - started) / 1000),
    table,
  };
}
