/**
 * `npx tsx bench/heic.ts [file.heic] [runs]`: what one HEIC decode costs (default: the 12 MP
 * iPhone HEIC of ../shared/corpus, 5 runs). In this thread: libheif + libde265 (wasm) to the
 * TIFF sharp reads (heic-libheif.ts), CPU and wall time per run, the wasm heap it grew and the
 * process's peak RSS. Then the whole path of the origin (heic.ts: a worker per decode, the
 * wasm compiled in it), from the bundled worker when `npm run build:lambda` has made it
 * (dist/lambda/origin/heic-worker.mjs), as Lambda runs it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { decodeHeicToTiff, libheif } from '../origin-fn/transform/heic-libheif.ts';

const file =
  process.argv[2] ?? resolve(import.meta.dirname, '../../shared/corpus/edge/heic-iphone11pro-12mp.heic');
const runs = Number(process.argv[3] ?? 5);
const input = readFileSync(file);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const initStart = performance.now();
libheif();
const initMs = performance.now() - initStart;
const wall: number[] = [];
const cpu: number[] = [];
let size = '';
for (let i = 0; i < runs; i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = decodeHeicToTiff(input, { maxPixels: 100_000_000 });
  wall.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
  size = `${out.width}×${out.height}, ${out.channels} channels, profile ${out.profile}`;
}
const megapixels =
  Number(
    /^(\d+)×(\d+)/
      .exec(size)
      ?.slice(1)
      .reduce((a, b) => String(Number(a) * Number(b))),
  ) / 1e6;
const result: Record<string, unknown> = {
  file,
  bytes: input.length,
  image: size,
  wasmInitMs: Math.round(initMs),
  decodeWallMs: { median: Math.round(median(wall)), all: wall.map(Math.round) },
  decodeCpuMs: { median: Math.round(median(cpu)), all: cpu.map(Math.round) },
  cpuMsPerMegapixel: Math.round(median(cpu) / megapixels),
  wasmHeapMB: Math.round(libheif().HEAPU8.length / 2 ** 20),
  peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
};

const bundled = resolve(import.meta.dirname, '../dist/lambda/origin/heic-worker.mjs');
if (existsSync(bundled)) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const worker = new Worker(bundled, {
      workerData: { input: new Uint8Array(input), maxPixels: 100_000_000 },
      execArgv: [],
    });
    await new Promise((done, fail) => {
      worker.once('message', done);
      worker.once('error', fail);
    });
    times.push(performance.now() - t0);
    await worker.terminate();
  }
  result.bundledWorkerWallMs = { median: Math.round(median(times)), all: times.map(Math.round) };
}
console.log(JSON.stringify(result, null, 2));
