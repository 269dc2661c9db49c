/**
 * `npm run eval:documents [-- --dir DIR] [-- --modes auto,lite,…]`: q=auto and q=lite on
 * documents and screenshots (receipts, forms, book pages, labels, UI screenshots, charts,
 * tables, and photograph-like versions of them), judged by butteraugli (3-norm and max-norm)
 * and SSIMULACRA v1 (Debian `libjxl-devtools`), against fixed q85 and the peers' defaults
 * (imgproxy JPEG 80 / WebP 79 / AVIF 63, Next.js 75), at w=828 and w=1440 in AVIF, WebP and
 * JPEG (the formats the default pre-warm produces). The judges see the middle 1024 rows of a
 * taller variant at full width (whole butteraugli runs on 1440×4000 pages take too long here).
 *
 * The set is generated (test/fixtures/documents/generate.ts --all --scale 3) into DIR
 * (default: a temp dir, removed afterwards); `--files a.png,b.jpg` picks some of it. Writes
 * bench/results/eval-documents.json (or `--out`); with `--from-json a.json[,b.json]` the "Documents and screenshots" section of docs/quality.md
 * (bench/docs-section.ts) from one or more runs' results and, with `--worst DIR`, writes
 * the three worst q=auto variants as 1:1 crops beside their reference (PNG) there.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { decode } from '../origin-fn/transform/decode.ts';
import { createComparator, type PixelView } from '../origin-fn/transform/distance.ts';
import { encode, type RawPixels } from '../origin-fn/transform/encode.ts';
import { DEFAULT_LIMITS } from '../origin-fn/transform/limits.ts';
import { probeSource } from '../origin-fn/transform/probe-source.ts';
import { encodeWithQuality } from '../origin-fn/transform/quality.ts';
import { planResize } from '../origin-fn/transform/resize-plan.ts';
import { textMap } from '../origin-fn/transform/text-map.ts';
import { documentsSection, withDocumentsSection } from './docs-section.ts';
import { loadRuns, renderDocuments } from './eval-documents-render.ts';

type Format = 'avif' | 'webp' | 'jpeg';
const FORMATS: readonly Format[] = ['avif', 'webp', 'jpeg'];
const WIDTHS = [828, 1440] as const;
/** Peers' defaults: imgproxy's per-format qualities and Next.js's one. */
const PEERS: Record<string, Record<Format, number>> = {
  q85: { avif: 85, webp: 85, jpeg: 85 },
  imgproxy: { avif: 63, webp: 79, jpeg: 80 },
  next: { avif: 75, webp: 75, jpeg: 75 },
};

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    modes: { type: 'string', default: 'auto,lite,q85,imgproxy,next' },
    worst: { type: 'string' },
    files: { type: 'string' },
    'from-json': { type: 'string' },
    out: { type: 'string', default: resolve(import.meta.dirname, 'results/eval-documents.json') },
  },
});
const modes = (values.modes ?? '').split(',');
/** Rows the judges see: the middle `JUDGED_ROWS` of a taller variant, at full width (1:1). */
const JUDGED_ROWS = 1024;
/** The search's time budget lifted (as bench/variants.ts does): a loaded machine must not cut searches short. */
const QUALITY = { ...DEFAULT_LIMITS.quality, budgetMs: 60_000 };
const log = (m: string) => process.stderr.write(`[eval:documents] ${m}\n`);

export interface DocCase {
  image: string;
  width: number;
  size: string;
  format: Format;
  mode: string;
  quality: number;
  bytes: number;
  butteraugli: number;
  maxNorm: number;
  ssimulacra: number;
  distance: number;
  textShare: number;
  encodes: number;
  /** How q=auto / q=lite chose: search, fallback, or palette (a palette WebP); fixed for the rest. */
  how: string;
}

function judge(ref: string, cand: string): { butteraugli: number; maxNorm: number; ssimulacra: number } {
  const ba = execFileSync('butteraugli_main', [ref, cand, '--pnorm', '3'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .toString()
    .trim()
    .split('\n');
  const maxNorm = Number(ba[0]);
  const pnorm = Number((ba.find((l) => l.startsWith('3-norm')) ?? '').split(':')[1]);
  const ssimulacra = Number(
    execFileSync('ssimulacra_main', [ref, cand], { stdio: ['ignore', 'pipe', 'ignore'] }).toString(),
  );
  if (![maxNorm, pnorm, ssimulacra].every(Number.isFinite))
    throw new Error(`judge output unreadable: ${ba.join(' ')}`);
  return { butteraugli: pnorm, maxNorm, ssimulacra };
}

function png(p: PixelView): Promise<Buffer> {
  const image = sharp(p.data, {
    raw: { width: p.width, height: p.height, channels: p.channels as 1 | 2 | 3 | 4 },
  });
  if (p.height > JUDGED_ROWS) {
    image.extract({
      left: 0,
      top: Math.floor((p.height - JUDGED_ROWS) / 2),
      width: p.width,
      height: JUDGED_ROWS,
    });
  }
  return image.png({ compressionLevel: 1 }).toBuffer();
}

async function decodeRaw(bytes: Buffer): Promise<PixelView> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

const started = performance.now();

/** Writes the results so far (after every image, so an interrupted run keeps what it judged). */
function save(cases: DocCase[], complete: boolean): void {
  mkdirSync(resolve(values.out, '..'), { recursive: true });
  const run = {
    generated: new Date().toISOString(),
    seconds: (performance.now() - started) / 1000,
    command: `npm run eval:documents -- ${process.argv.slice(2).join(' ')}`,
    complete,
    cases,
  };
  writeFileSync(values.out, `${JSON.stringify(run, null, 1)}\n`);
}

async function run(dir: string, tmp: string, progress: typeof save): Promise<DocCase[]> {
  const only = values.files?.split(',');
  const files = readdirSync(dir)
    .filter((f) => /\.(png|jpg)$/.test(f) && (only === undefined || only.includes(f)))
    .sort();
  const cases: DocCase[] = [];
  for (const file of files) {
    const input = readFileSync(join(dir, file));
    const source = await probeSource(input, DEFAULT_LIMITS);
    for (const width of WIDTHS) {
      const decoded = await decode(input, {
        plan: planResize(source, { width, fit: 'inside' }, DEFAULT_LIMITS.maxOutputDimension),
        animated: false,
        maxInputPixels: DEFAULT_LIMITS.maxInputPixels,
        format: 'jpeg',
      });
      const pixels: RawPixels = decoded.pixels;
      const ref = join(tmp, 'ref.png');
      writeFileSync(ref, await png(pixels));
      const comparator = createComparator(pixels);
      const textShare = textMap(pixels).share;
      for (const format of FORMATS) {
        const base = { format, dropAlpha: pixels.channels === 4, greyscale: source.greyscale };
        for (const mode of modes) {
          let bytes: Buffer;
          let quality: number;
          let encodes = 1;
          let how = 'fixed';
          if (mode === 'auto' || mode === 'lite') {
            const r = await encodeWithQuality(pixels, base, mode, QUALITY, undefined, {
              sourceWidth: source.width,
            });
            bytes = r.encoded.bytes;
            quality = r.encoded.quality;
            encodes = r.report.encodes;
            how = r.report.palette ? 'palette' : r.report.mode;
          } else {
            const q = PEERS[mode]?.[format];
            if (q === undefined)
              throw new Error(`Unknown mode "${mode}": expected auto, lite, ${Object.keys(PEERS)}`);
            bytes = (await encode(pixels, { ...base, quality: q })).bytes;
            quality = q;
          }
          const candidate = await decodeRaw(bytes);
          const cand = join(tmp, 'cand.png');
          writeFileSync(cand, await png(candidate));
          const c: DocCase = {
            image: file,
            width,
            size: `${pixels.width}×${pixels.height}`,
            format,
            mode,
            quality,
            bytes: bytes.length,
            ...judge(ref, cand),
            distance: comparator.distance(candidate),
            textShare,
            encodes,
            how,
          };
          cases.push(c);
          log(
            `${file} w${width} ${format} ${mode}: q${quality} ${(c.bytes / 1024).toFixed(1)} KB ba ${c.butteraugli.toFixed(2)} max ${c.maxNorm.toFixed(2)} ss ${c.ssimulacra.toFixed(3)} d ${c.distance.toFixed(2)} text ${textShare.toFixed(2)} ${how}`,
          );
        }
      }
    }
    progress(cases, false);
  }
  return cases;
}

/** The three worst q=auto variants (butteraugli 3-norm) as 1:1 crops: reference | variant. */
async function writeWorst(dir: string, cases: DocCase[], out: string): Promise<void> {
  mkdirSync(out, { recursive: true });
  const worst = cases
    .filter((c) => c.mode === 'auto')
    .sort((a, b) => b.butteraugli - a.butteraugli)
    .slice(0, 3);
  for (const [i, c] of worst.entries()) {
    const input = readFileSync(join(dir, c.image));
    const ref = await sharp(input)
      .resize({ width: c.width, withoutEnlargement: true })
      .removeAlpha()
      .png()
      .toBuffer();
    const r = await encodeWithQuality(
      await decodeRaw(ref).then((v) => ({ ...v, data: Buffer.from(v.data), channels: v.channels as 3 })),
      { format: c.format, dropAlpha: false, greyscale: false },
      'auto',
      QUALITY,
    );
    const meta = await sharp(ref).metadata();
    const side = Math.min(512, meta.width ?? 512, meta.height ?? 512);
    const crop = {
      left: 0,
      top: Math.max(0, Math.floor(((meta.height ?? side) - side) / 3)),
      width: side,
      height: side,
    };
    const a = await sharp(ref).extract(crop).png().toBuffer();
    const b = await sharp(r.encoded.bytes).extract(crop).png().toBuffer();
    const path = join(out, `${i + 1}-${c.image.replace(/\.\w+$/, '')}-w${c.width}-${c.format}.png`);
    await sharp({ create: { width: 2 * side + 8, height: side, channels: 3, background: '#ff00ff' } })
      .composite([
        { input: a, left: 0, top: 0 },
        { input: b, left: side + 8, top: 0 },
      ])
      .png()
      .toFile(path);
    log(
      `worst ${i + 1}: ${path} (butteraugli ${c.butteraugli.toFixed(2)}, max ${c.maxNorm.toFixed(2)}, ssimulacra ${c.ssimulacra.toFixed(3)})`,
    );
  }
}

const PAGE = resolve(import.meta.dirname, '../docs/quality.md');

/** Writes the "Documents and screenshots" section of docs/quality.md from result files. */
function writeSection(paths: string[]): void {
  const page = readFileSync(PAGE, 'utf8');
  const section = renderDocuments(loadRuns(paths));
  writeFileSync(PAGE, withDocumentsSection(page, section));
  log(`wrote the documents section of ${PAGE} (had one: ${documentsSection(PAGE) !== ''})`);
}

async function main(): Promise<void> {
  const fromJson = values['from-json']?.split(',');
  if (fromJson !== undefined) {
    writeSection(fromJson);
    // The worst crops again from stored results (needs the set: --dir).
    if (values.worst !== undefined && values.dir !== undefined) {
      await writeWorst(
        values.dir,
        loadRuns(fromJson).flatMap((r) => r.cases),
        values.worst,
      );
    }
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'litepix-docs-'));
  try {
    let dir = values.dir;
    if (dir === undefined || !existsSync(dir)) {
      dir = dir ?? join(tmp, 'set');
      log(`generating the document set into ${dir}`);
      execFileSync(
        'npx',
        [
          'tsx',
          resolve(import.meta.dirname, '../test/fixtures/documents/generate.ts'),
          '--out',
          dir,
          '--scale',
          '3',
          '--all',
        ],
        { stdio: 'inherit' },
      );
    }
    const cases = await run(dir, tmp, save);
    save(cases, true);
    log(`wrote ${values.out}`);
    if (values.worst !== undefined) await writeWorst(dir, cases, values.worst);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
