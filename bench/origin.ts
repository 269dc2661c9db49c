/**
 * Origin benchmark: cold variant production (original bytes → w828 WebP / JPEG), four
 * contestants interleaved round-robin per image so machine noise hits all of them alike:
 *
 *  - litepix: the real origin handler (`createOriginHandler`) with an in-memory store that never
 *    has the variant, so every call parses the key, probes, decodes, searches the quality
 *    (`q=auto`), hashes and stores;
 *  - fixed: the same handler with one fixed-quality encode (`q=<the q=auto fallback>`): the
 *    ratio litepix/fixed is what the perceptual search costs (target ≤ 2.5);
 *  - bare: the straightforward one-pipeline sharp call with litepix's settings (the floor);
 *  - ipx: unjs/ipx v3 (Nuxt's image server) with an in-memory storage and its default quality.
 *
 * Also times litepix's stages (probe, decode to raw, encode from raw, MD5) separately, in the
 * same interleaved loop, to show where any overhead over the bare pipeline comes from.
 */

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createIPX, type IPXStorage } from 'ipx';
import sharp from 'sharp';
import {
  buildVariantKey,
  DEFAULT_GRAMMAR_CONFIG,
  encodeKeyPath,
  type VariantSpec,
} from '../edge-fn/grammar/index.ts';
import type { ImageStore } from '../origin-fn/image-store.ts';
import { createLog } from '../origin-fn/log.ts';
import { createOriginHandler } from '../origin-fn/origin-handler.ts';
import { decode } from '../origin-fn/transform/decode.ts';
import { encode } from '../origin-fn/transform/encode.ts';
import { createTransformer, DEFAULT_LIMITS, planResize } from '../origin-fn/transform/index.ts';
import { probeSource } from '../origin-fn/transform/probe-source.ts';
import { createMemoryStore } from '../prewarm/memory-store.ts';

const WIDTH = 828;
const FORMATS = ['webp', 'jpeg'] as const;
type BenchFormat = (typeof FORMATS)[number];
const CONTESTANTS = ['litepix', 'fixed', 'bare', 'ipx'] as const;
type Contestant = (typeof CONTESTANTS)[number];
const STAGES = ['probe', 'decode', 'encode', 'md5'] as const;
type Stage = (typeof STAGES)[number];
const OVERHEAD_TARGET = 1.1;
const SEARCH_COST_TARGET = 2.5;

/** The fixed qualities compared with: the q=auto fallbacks (visually lossless on 9 photos in 10). */
const FIXED = DEFAULT_LIMITS.quality.auto.fallback;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The sharp ipx loads: resolved from ipx's own folder (a nested copy when versions differ). */
const ipxSharp = createRequire(resolve(repoRoot, 'node_modules', 'ipx', 'package.json'))(
  'sharp',
) as typeof sharp;
const ipxSharpVersion = () =>
  `sharp ${ipxSharp.versions.sharp}, libvips ${ipxSharp.versions.vips}, concurrency ${ipxSharp.concurrency()}`;

interface SourceImage {
  name: string;
  /** Source key in the litepix store / id in the ipx storage. */
  key: string;
  bytes: Buffer;
  width: number;
  height: number;
}

interface PerContestant<T> {
  litepix: T;
  fixed: T;
  bare: T;
  ipx: T;
}

export interface OriginFormatResult {
  settings: PerContestant<string>;
  /** Images per second, median of the rounds (one round = every image once). */
  imagesPerSecond: PerContestant<number>;
  /** Images per second of every round, in order. */
  imagesPerSecondByRound: PerContestant<number[]>;
  /** Time per image litepix (q=auto) / fixed (one encode), from the medians (target ≤ 2.5). */
  searchCostRatio: number;
  /** Median over rounds of the same ratio within each round. */
  searchCostRatioPaired: number;
  searchCostWithinTarget: boolean;
  /** Median of per-image output bytes litepix (q=auto) / fixed. */
  bytesRatioVsFixed: number;
  /** Time per image fixed / bare, from the medians: the handler's overhead (target ≤ 1.10). */
  overheadRatio: number;
  /** Median over rounds of the same ratio computed within each round (paired, less noisy). */
  overheadRatioPaired: number;
  overheadWithinTarget: boolean;
  /** Images per second litepix / ipx (> 1: litepix is faster). */
  throughputRatioVsIpx: number;
  /** Median of per-image output bytes litepix / ipx (< 1: litepix is lighter). */
  bytesRatioVsIpx: number;
  /** Median of per-image output bytes litepix / bare (≈ 1 when the settings match). */
  bytesRatioVsBare: number;
  litepixBytesOutVsIn: { medianRatio: number; totalIn: number; totalOut: number; totalRatio: number };
  /** litepix stages timed on their own: median over rounds of the per-image mean, in ms. */
  litepixStagesMs: Record<Stage, number> & { sum: number; bareMs: number };
  perImage: Array<{
    name: string;
    bytesIn: number;
    bytesOut: PerContestant<number>;
    outputSize: PerContestant<string>;
    /** Median over rounds, ms. */
    ms: PerContestant<number>;
  }>;
}

export interface OriginBenchResult {
  corpus: {
    dir: string;
    fallback: boolean;
    note?: string;
    images: Array<{ name: string; bytes: number; size: string }>;
  };
  width: number;
  rounds: number;
  sharp: { litepixAndBare: string; ipx: string; concurrency: number };
  formats: Record<BenchFormat, OriginFormatResult>;
  elapsedSeconds: number;
  notes: string[];
  table: string;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const hi = sorted[mid] ?? Number.NaN;
  const lo = sorted[mid - 1] ?? hi;
  return sorted.length % 2 === 1 ? hi : (lo + hi) / 2;
};
const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
const round = (n: number, digits: number): number => Number(n.toFixed(digits));
const log = (message: string) => process.stderr.write(`[origin] ${message}\n`);

function loadCorpus(max: number): { dir: string; fallback: boolean; note?: string; files: string[] } {
  const dir = resolve(repoRoot, '..', 'shared', 'corpus', 'photos', 'camera');
  if (existsSync(dir)) {
    const files = readdirSync(dir)
      .filter((f) => /\.jpe?g$/i.test(f))
      .sort()
      .slice(0, max)
      .map((f) => resolve(dir, f));
    if (files.length > 0) return { dir, fallback: false, files };
  }
  const fixtures = resolve(repoRoot, 'test', 'fixtures', 'images');
  const files = readdirSync(fixtures)
    .filter((f) => /^kodim.*-q95\.jpg$/.test(f))
    .sort()
    .slice(0, max)
    .map((f) => resolve(fixtures, f));
  return {
    dir: fixtures,
    fallback: true,
    note: `${dir} is missing: fell back to the Kodak-derived JPEGs (768×512, not 12 MP camera photos; narrower than w828, so nothing is resized)`,
    files,
  };
}

/** The in-memory storage port; getVariant never finds anything and putVariant keeps nothing, so every call transforms. */
function memoryStore(originals: Map<string, Buffer>): ImageStore {
  const store = createMemoryStore();
  for (const [key, bytes] of originals) store.setOriginal(key, bytes, 'image/jpeg');
  return { ...store, getVariant: async () => undefined, putVariant: async () => undefined };
}

function ipxMemoryStorage(originals: Map<string, Buffer>): IPXStorage {
  // ArrayBuffers, copied once here: ipx wraps them with Buffer.from(arrayBuffer), no copy per call.
  const data = new Map<string, ArrayBuffer>();
  for (const [key, bytes] of originals) {
    const ab = new ArrayBuffer(bytes.length);
    new Uint8Array(ab).set(bytes);
    data.set(key, ab);
  }
  const find = (id: string) => data.get(id.replace(/^\//, ''));
  return {
    name: 'bench:memory',
    getMeta: (id) => (find(id) ? { mtime: 0 } : undefined),
    getData: (id) => find(id),
  };
}

function barePipeline(input: Buffer, format: BenchFormat): Promise<Buffer> {
  const image = sharp(input, { failOn: 'warning' })
    .rotate()
    .resize({ width: WIDTH, withoutEnlargement: true })
    .toColourspace('srgb');
  return format === 'webp'
    ? image.webp({ quality: FIXED.webp, smartSubsample: true, effort: 4 }).toBuffer()
    : image.jpeg({ quality: FIXED.jpeg, mozjpeg: true, progressive: true }).toBuffer();
}

async function sizeOf(bytes: Buffer): Promise<string> {
  const meta = await sharp(bytes).metadata();
  return `${meta.width}×${meta.height}`;
}

export async function runOriginBench(
  opts: { images?: number; rounds?: number } = {},
): Promise<OriginBenchResult> {
  const started = performance.now();
  const rounds = opts.rounds ?? 3;
  const corpus = loadCorpus(opts.images ?? 6);
  const images: SourceImage[] = [];
  for (const file of corpus.files) {
    const bytes = readFileSync(file);
    const meta = await sharp(bytes).metadata();
    const name = basename(file);
    images.push({
      name,
      key: `bench/${name}`,
      bytes,
      width: meta.autoOrient.width,
      height: meta.autoOrient.height,
    });
  }
  if (images.length === 0) throw new Error(`No source images in ${corpus.dir}`);
  if (corpus.note) log(corpus.note);
  log(
    `${images.length} images from ${corpus.dir}, w=${WIDTH}, ${rounds} rounds, sharp concurrency ${sharp.concurrency()}`,
  );

  const originals = new Map(images.map((img) => [img.key, img.bytes]));
  const store = memoryStore(originals);
  const limits = DEFAULT_LIMITS;
  const handler = createOriginHandler({
    store,
    transformer: createTransformer(limits),
    grammar: DEFAULT_GRAMMAR_CONFIG,
    limits,
    log: createLog({ level: 'silent' }),
  });
  const ipx = createIPX({ storage: ipxMemoryStorage(originals) });

  const specOf = (img: SourceImage, format: BenchFormat, fixed = false): VariantSpec => ({
    source: img.key,
    width: WIDTH,
    fit: 'inside',
    quality: fixed ? FIXED[format] : 'auto',
    format,
  });
  const paths = new Map<string, string>();
  for (const img of images) {
    for (const format of FORMATS) {
      for (const fixed of [false, true]) {
        paths.set(
          `${img.key}|${format}|${fixed}`,
          `/${encodeKeyPath(buildVariantKey(specOf(img, format, fixed), DEFAULT_GRAMMAR_CONFIG))}`,
        );
      }
    }
  }
  const viaHandler = async (img: SourceImage, format: BenchFormat, fixed: boolean) => {
    const path = paths.get(`${img.key}|${format}|${fixed}`) ?? '';
    const res = await handler.handle(path, 'bench');
    if (res.status !== 200) {
      throw new Error(
        `litepix ${path}: ${res.status} ${res.headers['x-litepix-error']} ${res.body.toString()}`,
      );
    }
    return res.body;
  };

  const runners: Record<Contestant, (img: SourceImage, format: BenchFormat) => Promise<Buffer>> = {
    litepix: (img, format) => viaHandler(img, format, false),
    fixed: (img, format) => viaHandler(img, format, true),
    bare: (img, format) => barePipeline(img.bytes, format),
    async ipx(img, format) {
      const { data } = await ipx(img.key, { w: String(WIDTH), f: format }).process();
      if (typeof data === 'string') throw new Error(`ipx ${img.key}: unexpected string output`);
      return data;
    },
  };

  /**
   * litepix's transform, stage by stage, with the same modules the handler runs. The alpha check
   * (`isTransparent`, a stats() pass) is left out: it only runs for 2- or 4-channel pixels, and
   * camera JPEGs decode to 3.
   */
  async function stages(img: SourceImage, format: BenchFormat): Promise<Record<Stage, number>> {
    const spec = specOf(img, format);
    const t0 = performance.now();
    const source = await probeSource(img.bytes, limits);
    const t1 = performance.now();
    const decoded = await decode(img.bytes, {
      plan: planResize(source, spec, limits.maxOutputDimension),
      animated: false,
      maxInputPixels: limits.maxInputPixels,
      format,
    });
    const t2 = performance.now();
    const encoded = await encode(decoded.pixels, {
      format,
      quality: FIXED[format],
      dropAlpha: decoded.pixels.channels === 2 || decoded.pixels.channels === 4,
      greyscale: source.greyscale,
    });
    const t3 = performance.now();
    createHash('md5').update(encoded.bytes).digest('hex');
    const t4 = performance.now();
    return { probe: t1 - t0, decode: t2 - t1, encode: t3 - t2, md5: t4 - t3 };
  }

  // Outputs of the warm-up (deterministic encoders: the timed runs produce the same bytes).
  const outputs = new Map<string, Buffer>();
  const outKey = (c: Contestant, img: SourceImage, format: BenchFormat) => `${c}|${img.key}|${format}`;
  log('warm-up (each contestant once per image and format)');
  for (const img of images) {
    for (const format of FORMATS) {
      for (const c of CONTESTANTS) outputs.set(outKey(c, img, format), await runners[c](img, format));
      await stages(img, format);
    }
  }

  // times[format][contestant][round][image] in ms; stageTimes[format][stage][round][image].
  const times = Object.fromEntries(
    FORMATS.map((f) => [f, { litepix: [], fixed: [], bare: [], ipx: [] } as PerContestant<number[][]>]),
  ) as Record<BenchFormat, PerContestant<number[][]>>;
  const stageTimes = Object.fromEntries(
    FORMATS.map((f) => [f, Object.fromEntries(STAGES.map((s) => [s, [] as number[][]]))]),
  ) as Record<BenchFormat, Record<Stage, number[][]>>;

  for (let r = 0; r < rounds; r++) {
    const roundStart = performance.now();
    for (const f of FORMATS) {
      for (const c of CONTESTANTS) times[f][c].push([]);
      for (const s of STAGES) stageTimes[f][s].push([]);
    }
    for (let i = 0; i < images.length; i++) {
      const img = images[i] as SourceImage;
      for (const format of FORMATS) {
        // Rotate the order per image and round so no contestant always runs first (or last).
        const order = [...CONTESTANTS, 'stages' as const];
        const shift = (r + i) % order.length;
        for (const who of [...order.slice(shift), ...order.slice(0, shift)]) {
          if (who === 'stages') {
            const st = await stages(img, format);
            for (const s of STAGES) stageTimes[format][s][r]?.push(st[s]);
            continue;
          }
          const t = performance.now();
          await runners[who](img, format);
          times[format][who][r]?.push(performance.now() - t);
        }
      }
    }
    const line = FORMATS.map((f) => {
      const ips = CONTESTANTS.map((c) => {
        const ms = sum(times[f][c][r] ?? []);
        return `${c} ${((images.length * 1000) / ms).toFixed(2)}`;
      });
      return `${f}: ${ips.join(', ')} img/s`;
    }).join(' | ');
    log(`round ${r + 1}/${rounds} (${((performance.now() - roundStart) / 1000).toFixed(1)} s) ${line}`);
  }

  const formats = {} as Record<BenchFormat, OriginFormatResult>;
  for (const f of FORMATS) {
    const perRoundIps = (c: Contestant) => times[f][c].map((ms) => (images.length * 1000) / sum(ms));
    const ipsBy = {
      litepix: perRoundIps('litepix'),
      fixed: perRoundIps('fixed'),
      bare: perRoundIps('bare'),
      ipx: perRoundIps('ipx'),
    };
    const ips = {
      litepix: median(ipsBy.litepix),
      fixed: median(ipsBy.fixed),
      bare: median(ipsBy.bare),
      ipx: median(ipsBy.ipx),
    };
    const paired = ipsBy.fixed.map((fx, r) => (ipsBy.bare[r] ?? Number.NaN) / fx);
    const pairedSearch = ipsBy.litepix.map((lp, r) => (ipsBy.fixed[r] ?? Number.NaN) / lp);
    const bytes = (c: Contestant, img: SourceImage) => outputs.get(outKey(c, img, f))?.length ?? Number.NaN;
    const perImage: OriginFormatResult['perImage'] = [];
    for (let i = 0; i < images.length; i++) {
      const img = images[i] as SourceImage;
      const msOf = (c: Contestant) => round(median(times[f][c].map((row) => row[i] ?? Number.NaN)), 1);
      const out = (c: Contestant) => outputs.get(outKey(c, img, f)) ?? Buffer.alloc(0);
      perImage.push({
        name: img.name,
        bytesIn: img.bytes.length,
        bytesOut: {
          litepix: bytes('litepix', img),
          fixed: bytes('fixed', img),
          bare: bytes('bare', img),
          ipx: bytes('ipx', img),
        },
        outputSize: {
          litepix: await sizeOf(out('litepix')),
          fixed: await sizeOf(out('fixed')),
          bare: await sizeOf(out('bare')),
          ipx: await sizeOf(out('ipx')),
        },
        ms: { litepix: msOf('litepix'), fixed: msOf('fixed'), bare: msOf('bare'), ipx: msOf('ipx') },
      });
    }
    const totalIn = sum(perImage.map((p) => p.bytesIn));
    const totalOut = sum(perImage.map((p) => p.bytesOut.litepix));
    const stageMs = (s: Stage) => median(stageTimes[f][s].map((row) => sum(row) / row.length));
    const stageRecord = Object.fromEntries(STAGES.map((s) => [s, round(stageMs(s), 1)])) as Record<
      Stage,
      number
    >;
    const q = FIXED;
    formats[f] = {
      settings:
        f === 'webp'
          ? {
              litepix: 'q=auto (perceptual search), smartSubsample, effort 4',
              fixed: `q=${q.webp}, smartSubsample, effort 4`,
              bare: `quality ${q.webp}, smartSubsample, effort 4`,
              ipx: 'sharp defaults (quality 80, effort 4)',
            }
          : {
              litepix: 'q=auto (perceptual search), mozjpeg, progressive',
              fixed: `q=${q.jpeg}, mozjpeg, progressive`,
              bare: `quality ${q.jpeg}, mozjpeg, progressive`,
              ipx: 'sharp defaults (quality 80, libjpeg-turbo tables) + progressive',
            },
      imagesPerSecond: {
        litepix: round(ips.litepix, 2),
        fixed: round(ips.fixed, 2),
        bare: round(ips.bare, 2),
        ipx: round(ips.ipx, 2),
      },
      imagesPerSecondByRound: {
        litepix: ipsBy.litepix.map((v) => round(v, 2)),
        fixed: ipsBy.fixed.map((v) => round(v, 2)),
        bare: ipsBy.bare.map((v) => round(v, 2)),
        ipx: ipsBy.ipx.map((v) => round(v, 2)),
      },
      searchCostRatio: round(ips.fixed / ips.litepix, 3),
      searchCostRatioPaired: round(median(pairedSearch), 3),
      searchCostWithinTarget: ips.fixed / ips.litepix <= SEARCH_COST_TARGET,
      bytesRatioVsFixed: round(median(perImage.map((p) => p.bytesOut.litepix / p.bytesOut.fixed)), 3),
      overheadRatio: round(ips.bare / ips.fixed, 3),
      overheadRatioPaired: round(median(paired), 3),
      overheadWithinTarget: ips.bare / ips.fixed <= OVERHEAD_TARGET,
      throughputRatioVsIpx: round(ips.litepix / ips.ipx, 3),
      bytesRatioVsIpx: round(median(perImage.map((p) => p.bytesOut.litepix / p.bytesOut.ipx)), 3),
      bytesRatioVsBare: round(median(perImage.map((p) => p.bytesOut.litepix / p.bytesOut.bare)), 3),
      litepixBytesOutVsIn: {
        medianRatio: round(median(perImage.map((p) => p.bytesOut.litepix / p.bytesIn)), 4),
        totalIn,
        totalOut,
        totalRatio: round(totalOut / totalIn, 4),
      },
      litepixStagesMs: {
        ...stageRecord,
        sum: round(sum(STAGES.map(stageMs)), 1),
        bareMs: round(1000 / ips.bare, 1),
      },
      perImage,
    };
  }

  const notes: string[] = [];
  if (corpus.note) notes.push(corpus.note);
  if (sharp.versions.vips !== ipxSharp.versions.vips) {
    notes.push(
      `ipx runs its own nested sharp (${ipxSharpVersion()}), not the project's sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}.`,
    );
  }
  notes.push('ipx does not auto-orient (no EXIF rotation) unless asked; litepix and bare do.');

  const result: OriginBenchResult = {
    corpus: {
      dir: corpus.dir,
      fallback: corpus.fallback,
      ...(corpus.note ? { note: corpus.note } : {}),
      images: images.map((img) => ({
        name: img.name,
        bytes: img.bytes.length,
        size: `${img.width}×${img.height}`,
      })),
    },
    width: WIDTH,
    rounds,
    sharp: {
      litepixAndBare: `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}`,
      ipx: ipxSharpVersion(),
      concurrency: sharp.concurrency(),
    },
    formats,
    elapsedSeconds: round((performance.now() - started) / 1000, 1),
    notes,
    table: '',
  };
  result.table = markdownTable(result, images.length);
  log(`done in ${result.elapsedSeconds} s`);
  return result;
}

function markdownTable(result: OriginBenchResult, imageCount: number): string {
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
  const lines = [
    `Origin, cold variants: ${imageCount} ${result.corpus.fallback ? 'Kodak-derived JPEGs (fallback)' : 'camera JPEGs'} → w${result.width}, ` +
      `median of ${result.rounds} interleaved rounds, sharp concurrency ${result.sharp.concurrency}`,
    '',
    '| format | litepix q=auto img/s | litepix fixed q img/s | bare sharp img/s | ipx img/s | q=auto cost auto/fixed (≤ 2.5) | bytes auto/fixed | overhead fixed/bare (≤ 1.10) | throughput litepix/ipx | bytes litepix/ipx | litepix out/in (median) | litepix out/in (total) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const f of FORMATS) {
    const r = result.formats[f];
    const io = r.litepixBytesOutVsIn;
    lines.push(
      `| ${f} | ${r.imagesPerSecond.litepix.toFixed(2)} | ${r.imagesPerSecond.fixed.toFixed(2)} | ${r.imagesPerSecond.bare.toFixed(2)} | ${r.imagesPerSecond.ipx.toFixed(2)} | ` +
        `${r.searchCostRatio.toFixed(2)}${r.searchCostWithinTarget ? '' : ' ⚠'} (paired ${r.searchCostRatioPaired.toFixed(2)}) | ${r.bytesRatioVsFixed.toFixed(3)} | ` +
        `${r.overheadRatio.toFixed(3)}${r.overheadWithinTarget ? '' : ' ⚠'} (paired ${r.overheadRatioPaired.toFixed(3)}) | ` +
        `${r.throughputRatioVsIpx.toFixed(2)} | ${r.bytesRatioVsIpx.toFixed(3)} | ${(io.medianRatio * 100).toFixed(2)} % | ` +
        `${(io.totalRatio * 100).toFixed(2)} % (${kb(io.totalOut)} of ${kb(io.totalIn)}) |`,
    );
  }
  lines.push(
    '',
    '| format | litepix stages ms/image: probe + decode→raw + encode←raw + md5 = sum | bare ms/image |',
    '|---|---|---:|',
  );
  for (const f of FORMATS) {
    const s = result.formats[f].litepixStagesMs;
    lines.push(`| ${f} | ${s.probe} + ${s.decode} + ${s.encode} + ${s.md5} = ${s.sum} | ${s.bareMs} |`);
  }
  lines.push(
    '',
    `Settings: litepix/bare ${result.sharp.litepixAndBare}; fixed and bare: webp q${FIXED.webp} smartSubsample effort 4, jpeg q${FIXED.jpeg} mozjpeg progressive. ` +
      `ipx 3.1.1 (${result.sharp.ipx}) with its defaults (quality 80).`,
  );
  return lines.join('\n');
}
