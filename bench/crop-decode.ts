/**
 * Decode cost of a region crop of a 20 MP JPEG: a receipt's total line (the full width, 5 % of
 * the height, near the bottom: `crop-0-900-1000-50.w828`) decoded by the origin's two-step path (the whole image
 * shrunk on load to the crop's scale, then the region) against the one-step path (the region
 * extracted from a full decode, then resized: what sharp does when asked for extract + resize),
 * and the whole image at w828 for scale. Upright and EXIF-rotated (orientation 6, as phones
 * save) sources. Each case runs in its own process (peak RSS is per process), 5 decodes each,
 * the median CPU time (user + system, all threads) reported.
 *
 *   nice -n 10 npx tsx bench/crop-decode.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { decode } from '../origin-fn/transform/decode.ts';
import { DEFAULT_LIMITS } from '../origin-fn/transform/limits.ts';
import { planGeometry } from '../origin-fn/transform/resize-plan.ts';

const WIDTH = 5472;
const HEIGHT = 3648;
const CROP = { x: 0, y: 900, w: 1000, h: 50 };
const RUNS = 5;
type Mode = 'two-step' | 'one-step' | 'whole';

async function makeSource(path: string, orientation: number): Promise<void> {
  const kodim = readFileSync(new URL('../test/fixtures/images/kodim23-q95.jpg', import.meta.url));
  // Stored as a phone stores it: rotated pixels and the tag that turns them upright.
  const upright = sharp(kodim).resize({ width: WIDTH, height: HEIGHT, fit: 'fill' });
  const stored = orientation === 6 ? sharp(await upright.png().toBuffer()).rotate(270) : upright;
  writeFileSync(path, await stored.jpeg({ quality: 92 }).withMetadata({ orientation }).toBuffer());
}

async function child(path: string, mode: Mode): Promise<void> {
  sharp.cache(false);
  const input = readFileSync(path);
  await sharp({ create: { width: 8, height: 8, channels: 3, background: 'white' } })
    .png()
    .toBuffer();
  const baseMb = process.resourceUsage().maxRSS / 1024;
  const source = { width: WIDTH, height: HEIGHT, format: 'jpeg' as const };
  const geometry = planGeometry(
    source,
    { width: 828, fit: 'inside', crop: mode === 'whole' ? undefined : CROP },
    DEFAULT_LIMITS.maxOutputDimension,
  );
  const times: number[] = [];
  let size = '';
  for (let i = 0; i < RUNS; i++) {
    const start = process.cpuUsage();
    const decoded = await decode(input, {
      plan: geometry.plan,
      region: geometry.region,
      // Without the source, decode takes the one-step path.
      source: mode === 'two-step' ? source : undefined,
      animated: false,
      maxInputPixels: DEFAULT_LIMITS.maxInputPixels,
      format: 'webp',
    });
    const used = process.cpuUsage(start);
    // CPU time (every libvips thread), steadier than wall time on a loaded machine.
    times.push((used.user + used.system) / 1000);
    size = `${decoded.width}×${decoded.height}`;
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(RUNS / 2)] ?? Number.NaN;
  const peakMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ size, median, peakMb, baseMb }));
}

async function main(): Promise<void> {
  const [, , path, mode] = process.argv;
  if (path !== undefined && mode !== undefined) return child(path, mode as Mode);
  const dir = mkdtempSync(join(tmpdir(), 'litepix-crop-bench-'));
  try {
    console.log(
      `| source (${WIDTH}×${HEIGHT} JPEG q92) | path | output | median decode CPU | peak RSS (+ over the process before decoding) |`,
    );
    console.log('|---|---|---|---|---|');
    for (const orientation of [1, 6]) {
      const file = join(dir, `source-${orientation}.jpg`);
      await makeSource(file, orientation);
      for (const mode of ['two-step', 'one-step', 'whole'] as const) {
        const out = execFileSync('npx', ['tsx', fileURLToPath(import.meta.url), file, mode]).toString();
        const { size, median, peakMb, baseMb } = JSON.parse(out) as {
          size: string;
          median: number;
          peakMb: number;
          baseMb: number;
        };
        const what = mode === 'whole' ? 'whole image w828' : `crop-0-900-1000-50.w828, ${mode}`;
        console.log(
          `| orientation ${orientation} | ${what} | ${size} | ${median.toFixed(0)} ms | ${peakMb.toFixed(0)} MB (+${(peakMb - baseMb).toFixed(0)} MB) |`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
