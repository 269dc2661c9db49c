/**
 * `npx tsx bench/metric.ts [--rounds=N]`: the perceptual distance's time per candidate, fused
 * (origin-fn/transform/distance.ts) against the plain pass-per-step computation it replaced
 * (test/helpers/unfused-distance.ts), side by side in one process and alternated round by round
 * so that a busy machine slows both alike; and the reference's preparation, which the search
 * now does once per image and size instead of once per format.
 *
 * Candidates: a camera photo at w=828 (828×621) and a Kodak photo (768×512), each as mozjpeg
 * q60/75/90 and WebP q70/85 (the qualities a search visits). Prints a Markdown table.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { decode } from '../origin-fn/transform/decode.ts';
import { createComparator, type PixelView, prepareReference } from '../origin-fn/transform/distance.ts';
import { encode, type RawPixels } from '../origin-fn/transform/encode.ts';
import { DEFAULT_LIMITS } from '../origin-fn/transform/limits.ts';
import { unfusedComparator } from '../test/helpers/unfused-distance.ts';

const corpus = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'corpus');
const roundsArg = process.argv.find((a) => a.startsWith('--rounds='));
const ROUNDS = roundsArg ? Number(roundsArg.slice('--rounds='.length)) : 15;
const IMAGES = [
  { file: 'photos/camera/people_two-men-office_iphone5s.jpg', width: 828 },
  { file: 'photos/kodak/kodim05.png', width: undefined },
];
/** Candidates a search measures per format (docs/quality.md: a median of 2–3 encodes at display size). */
const CANDIDATES_PER_FORMAT = 2;
const CANDIDATES = [
  ['jpeg', 60],
  ['jpeg', 75],
  ['jpeg', 90],
  ['webp', 70],
  ['webp', 85],
] as const;

async function load(file: string, width: number | undefined): Promise<RawPixels> {
  const { pixels } = await decode(readFileSync(resolve(corpus, file)), {
    plan: width === undefined ? undefined : { width, height: 4096, fit: 'inside' },
    animated: false,
    maxInputPixels: DEFAULT_LIMITS.maxInputPixels,
    format: 'jpeg',
  });
  return pixels;
}

async function candidates(pixels: RawPixels): Promise<PixelView[]> {
  const out: PixelView[] = [];
  for (const [format, quality] of CANDIDATES) {
    const { bytes } = await encode(pixels, { format, quality, dropAlpha: false, greyscale: false });
    const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    out.push({ data, width: info.width, height: info.height, channels: info.channels });
  }
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[s.length >> 1] ?? 0) : ((s[s.length / 2 - 1] ?? 0) + (s[s.length / 2] ?? 0)) / 2;
};

/**
 * CPU milliseconds per call of `run` over `items`, one round: the process's CPU time, not the
 * wall clock, so that waiting for a core on a shared machine does not count.
 */
function time<T>(items: T[], run: (item: T) => unknown): number {
  const t = process.cpuUsage();
  for (const item of items) run(item);
  const { user, system } = process.cpuUsage(t);
  return (user + system) / 1000 / items.length;
}

const rows: string[] = [];
for (const { file, width } of IMAGES) {
  const pixels = await load(file, width);
  const cands = await candidates(pixels);
  const reference = prepareReference(pixels);
  const fused = createComparator(reference);
  const unfused = unfusedComparator(reference);
  let maxDiff = 0;
  for (const c of cands) maxDiff = Math.max(maxDiff, Math.abs(fused.distance(c) - unfused(c)));
  const before: number[] = [];
  const after: number[] = [];
  const prepare: number[] = [];
  for (let round = 0; round < ROUNDS + 2; round++) {
    // Two warm-up rounds (JIT), then alternate which goes first.
    const a = round % 2 === 0;
    const u = a ? time(cands, unfused) : 0;
    const f = time(cands, (c) => fused.distance(c));
    const u2 = a ? u : time(cands, unfused);
    const p = time([pixels], (px) => prepareReference(px));
    if (round < 2) continue;
    before.push(u2);
    after.push(f);
    prepare.push(p);
  }
  const b = median(before);
  const f = median(after);
  const p = median(prepare);
  // One size searched in 3 formats, CANDIDATES_PER_FORMAT each: before, a reference prepared per
  // format; now once.
  const searchBefore = 3 * p + 3 * CANDIDATES_PER_FORMAT * b;
  const searchAfter = p + 3 * CANDIDATES_PER_FORMAT * f;
  rows.push(
    `| ${file.split('/').pop()} (${pixels.width}×${pixels.height}) | ${b.toFixed(1)} | ${f.toFixed(1)} | ${(f / b).toFixed(2)} | ` +
      `${p.toFixed(1)} | ${searchBefore.toFixed(0)} | ${searchAfter.toFixed(0)} | ${(searchAfter / searchBefore).toFixed(2)} | ${maxDiff.toExponential(1)} |`,
  );
  process.stderr.write(`[metric] ${file}: ${ROUNDS} rounds\n`);
}
process.stdout.write(
  [
    `Median of ${ROUNDS} rounds, CPU ms (${CANDIDATES.length} candidates a round: ${CANDIDATES.map(([f, q]) => `${f} q${q}`).join(', ')}).`,
    '',
    `| image | per candidate, plain | per candidate, fused | ratio | reference preparation | 3 formats × ${CANDIDATES_PER_FORMAT} candidates, before | now | ratio | max \\|Δ distance\\| |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n'),
);
