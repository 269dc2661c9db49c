/**
 * `npm run test:corpus`: litepix's in-process metric and the q=auto search against the external
 * judge, butteraugli (Debian `libjxl-devtools`, installed by .ci/run), on corpus photos. These
 * tests fail (never skip) when `butteraugli_main` is missing; `npm test` keeps its quality tests
 * self-contained (test/origin/quality-*.test.ts) so a clone runs without the CLI.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from '../../origin-fn/transform/decode.ts';
import { createComparator, type PixelView } from '../../origin-fn/transform/distance.ts';
import { encode, type RawPixels } from '../../origin-fn/transform/encode.ts';
import { DEFAULT_LIMITS } from '../../origin-fn/transform/limits.ts';
import { encodeWithQuality } from '../../origin-fn/transform/quality.ts';
import { withDamagedPatch } from '../helpers/damaged-patch.ts';

const CORPUS = resolve(import.meta.dirname, '../../../shared/corpus');
/** Per-variant ceiling of butteraugli's 3-norm for q=auto: around 1.0 is "just visible"; see docs/quality.md. */
const AUTO_WORST = 1.25;
/** Median ceiling for q=auto over the sample. */
const AUTO_MEDIAN = 1.05;

const PHOTOS = [
  'photos/kodak/kodim05.png',
  'photos/kodak/kodim14.png',
  'photos/kodak/kodim20.png',
  'photos/camera/document_book-cover-text_nikon-d90.jpg',
  'photos/camera/lowlight_bar-beer-glasses_galaxy-s4.jpg',
];

let dir: string;

beforeAll(() => {
  try {
    execFileSync('butteraugli_main', [], { stdio: 'ignore' });
  } catch (err) {
    // butteraugli_main exits 1 with its usage when called without files; ENOENT means it is missing.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('butteraugli_main not found: apt-get install -y libjxl-devtools (.ci/run does)');
    }
  }
  if (!existsSync(CORPUS)) throw new Error(`No corpus at ${CORPUS}`);
  dir = mkdtempSync(join(tmpdir(), 'litepix-judge-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function pixelsAt828(file: string): Promise<RawPixels> {
  const input = readFileSync(resolve(CORPUS, file));
  const decoded = await decode(input, {
    plan: { width: 828, height: 4096, fit: 'inside' },
    animated: false,
    maxInputPixels: DEFAULT_LIMITS.maxInputPixels,
    format: 'jpeg',
  });
  return decoded.pixels;
}

async function decodeRaw(bytes: Buffer): Promise<PixelView> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

async function butteraugli(reference: PixelView, candidate: Buffer): Promise<number> {
  const png = (view: PixelView) =>
    sharp(Buffer.from(view.data), {
      raw: { width: view.width, height: view.height, channels: view.channels as 3 },
    })
      .png({ compressionLevel: 1 })
      .toBuffer();
  writeFileSync(join(dir, 'ref.png'), await png(reference));
  writeFileSync(join(dir, 'cand.png'), await png(await decodeRaw(candidate)));
  const out = execFileSync(
    'butteraugli_main',
    [join(dir, 'ref.png'), join(dir, 'cand.png'), '--pnorm', '3'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  ).toString();
  const value = Number(/3-norm:\s*([0-9.]+)/.exec(out)?.[1]);
  if (!Number.isFinite(value)) throw new Error(`unreadable butteraugli output: ${out}`);
  return value;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[s.length >> 1] ?? 0) : ((s[s.length / 2 - 1] ?? 0) + (s[s.length / 2] ?? 0)) / 2;
};

function spearman(a: number[], b: number[]): number {
  const rank = (xs: number[]) => {
    const r = new Array<number>(xs.length);
    xs.map((x, i) => [x, i] as const)
      .sort((p, q) => p[0] - q[0])
      .forEach(([, i], k) => {
        r[i] = k;
      });
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const m = (a.length - 1) / 2;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < a.length; i++) {
    cov += ((ra[i] ?? 0) - m) * ((rb[i] ?? 0) - m);
    va += ((ra[i] ?? 0) - m) ** 2;
    vb += ((rb[i] ?? 0) - m) ** 2;
  }
  return cov / Math.sqrt(va * vb);
}

describe('the in-process metric agrees with butteraugli', () => {
  it('ranks a JPEG and WebP quality ladder of corpus photos like butteraugli does, in its units', async () => {
    const distances: number[] = [];
    const judged: number[] = [];
    for (const file of PHOTOS.slice(0, 4)) {
      const pixels = await pixelsAt828(file);
      const comparator = createComparator(pixels);
      for (const format of ['jpeg', 'webp'] as const) {
        const own: number[] = [];
        const ba: number[] = [];
        for (const quality of [30, 50, 70, 85, 95]) {
          const { bytes } = await encode(pixels, { format, quality, dropAlpha: false, greyscale: false });
          own.push(comparator.distance(await decodeRaw(bytes)));
          ba.push(await butteraugli(pixels, bytes));
        }
        // Monotonic along the ladder, like the judge (lower = closer).
        for (let i = 1; i < own.length; i++)
          expect(own[i], `${file} ${format}: ${own.join(', ')}`).toBeLessThan(own[i - 1] ?? 0);
        expect(spearman(own, ba), `${file} ${format}`).toBeGreaterThanOrEqual(0.9);
        distances.push(...own);
        judged.push(...ba);
      }
    }
    // Across photos too: the same distance must mean about the same judgement on any photo.
    expect(spearman(distances, judged)).toBeGreaterThanOrEqual(0.9);
    // And in butteraugli's units: where the judge says 0.6–2 (the range the targets live in),
    // the distance is within a third of its figure on nine candidates in ten.
    const band = judged.flatMap((ba, i) => (ba >= 0.6 && ba <= 2 ? [ba / (distances[i] ?? 1)] : []));
    expect(band.length).toBeGreaterThanOrEqual(10);
    const close = band.filter((r) => r >= 0.67 && r <= 1.5).length;
    expect(close / band.length, band.map((r) => r.toFixed(2)).join(', ')).toBeGreaterThanOrEqual(0.9);
  });
});

describe('the in-process metric sees small damage at the level butteraugli does', () => {
  it('reads one 24–96 px JPEG patch in a clean Kodak photo within a third of butteraugli', async () => {
    const ratios: string[] = [];
    let within = 0;
    let total = 0;
    for (const file of ['photos/kodak/kodim03.png', 'photos/kodak/kodim14.png', 'photos/kodak/kodim23.png']) {
      const { data, info } = await sharp(readFileSync(resolve(CORPUS, file)))
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const reference = { data, width: info.width, height: info.height, channels: info.channels };
      const comparator = createComparator(reference);
      for (const [size, quality] of [
        [24, 10],
        [48, 15],
        [96, 30],
      ] as const) {
        const damaged = await withDamagedPatch(reference, size, quality);
        const lossless = await sharp(Buffer.from(damaged.data), {
          raw: { width: damaged.width, height: damaged.height, channels: 3 },
        })
          .png({ compressionLevel: 1 })
          .toBuffer();
        const ba = await butteraugli(reference, lossless);
        const own = comparator.distance(damaged);
        ratios.push(
          `${file} ${size} px q${quality}: butteraugli ${ba.toFixed(2)}, distance ${own.toFixed(2)}`,
        );
        total++;
        if (ba / own >= 0.67 && ba / own <= 1.5) within++;
        // Whatever butteraugli calls visible (> 1.2 here), the q=auto target must see too.
        if (ba > 1.2) expect(own, ratios.join('\n')).toBeGreaterThan(DEFAULT_LIMITS.quality.auto.distance);
      }
    }
    expect(within, ratios.join('\n')).toBe(total);
  });
});

describe('q=auto meets the judge on a sample of corpus photos (w=828)', () => {
  it(`keeps butteraugli 3-norm ≤ ${AUTO_WORST} on every variant, ≤ ${AUTO_MEDIAN} in the median`, async () => {
    const values: string[] = [];
    const all: number[] = [];
    for (const file of PHOTOS) {
      const pixels = await pixelsAt828(file);
      for (const format of ['jpeg', 'webp', 'avif'] as const) {
        const { encoded, report } = await encodeWithQuality(
          pixels,
          { format, dropAlpha: false, greyscale: false },
          'auto',
          DEFAULT_LIMITS.quality,
        );
        const ba = await butteraugli(pixels, encoded.bytes);
        values.push(`${file} ${format} q${report.quality}: ${ba.toFixed(2)}`);
        all.push(ba);
        expect(report.encodes).toBeLessThanOrEqual(DEFAULT_LIMITS.quality.maxEncodes);
      }
    }
    expect(Math.max(...all), values.join('\n')).toBeLessThanOrEqual(AUTO_WORST);
    expect(median(all), values.join('\n')).toBeLessThanOrEqual(AUTO_MEDIAN);
  });
});

/** Ceiling of butteraugli's 3-norm for q=auto at a camera photo's original size (seen 1:1). */
const LARGE_WORST = 1.05;

describe('q=auto meets the judge at original size (one distance at every size)', () => {
  it(`keeps butteraugli 3-norm ≤ ${LARGE_WORST} on a 1:1 crop of an 11 MP photo, JPEG and WebP`, async () => {
    const input = readFileSync(resolve(CORPUS, 'photos/camera/document_book-cover-text_nikon-d90.jpg'));
    const { pixels } = await decode(input, {
      plan: { width: 4096, height: 4096, fit: 'inside' },
      animated: false,
      maxInputPixels: DEFAULT_LIMITS.maxInputPixels,
      format: 'jpeg',
    });
    expect(pixels.width * pixels.height).toBeGreaterThan(10_000_000);
    // butteraugli on the full 11 MP takes too long: a centred 1024×1024 crop, pixels 1:1.
    const crop = async (data: Buffer, raw: boolean) => {
      const image = raw
        ? sharp(data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels } })
        : sharp(data);
      const { data: out, info } = await image
        .extract({
          left: (pixels.width - 1024) >> 1,
          top: (pixels.height - 1024) >> 1,
          width: 1024,
          height: 1024,
        })
        .raw()
        .toBuffer({ resolveWithObject: true });
      return { data: out, width: info.width, height: info.height, channels: info.channels };
    };
    const reference = await crop(pixels.data, true);
    const values: string[] = [];
    for (const format of ['jpeg', 'webp'] as const) {
      const { encoded, report } = await encodeWithQuality(
        pixels,
        { format, dropAlpha: false, greyscale: false },
        'auto',
        DEFAULT_LIMITS.quality,
      );
      expect(report).toMatchObject({ mode: 'search', sampled: true });
      const candidate = await crop(encoded.bytes, false);
      const lossless = await sharp(candidate.data, {
        raw: { width: 1024, height: 1024, channels: candidate.channels as 3 },
      })
        .png({ compressionLevel: 1 })
        .toBuffer();
      const ba = await butteraugli(reference, lossless);
      values.push(`${format} q${report.quality}: ${ba.toFixed(2)}`);
      expect(ba, values.join('\n')).toBeLessThanOrEqual(LARGE_WORST);
    }
  });
});
