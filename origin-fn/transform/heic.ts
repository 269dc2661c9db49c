/**
 * HEIC input: sharp's prebuilt libvips has no HEVC decoder, so a HEIC source is decoded by
 * libheif + libde265 in WebAssembly (heic-libheif.ts) into an uncompressed TIFF carrying its
 * colour profile, and that TIFF goes through the same sharp pipeline as every other source
 * (resize, sRGB conversion, encode). Decoded once per transform, shared by all its variants.
 *
 * Bounds: the probe has checked the bytes and the header's pixel count (probe-source.ts);
 * libheif gets the same pixel limit as a second guard; the decode runs in a worker thread of
 * its own (the wasm call is synchronous), ended by terminate() past `heicTimeoutMs`, and its
 * wasm memory goes with it. A fresh worker (start, wasm compile, a cold first run) decodes a
 * 12 MP HEIC in ~0.9 s, ~0.5 CPU-s of it the decode (npx tsx bench/heic.ts; docs/origin.md#heic-input).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { ImageError, tooLarge, unsupported } from '../errors.ts';
import type { HeicJob, HeicReply } from './heic-worker.ts';
import type { TransformLimits } from './limits.ts';

/** libheif error codes (heif_error_code / heif_suberror_code) that are not damaged data. */
const UNSUPPORTED_FEATURE = 4;
const SECURITY_LIMIT_EXCEEDED = 1000;

let p3: Promise<Uint8Array> | undefined;

/** Display P3 as an ICC profile: libvips's built-in one, for HEICs that say P3 with an nclx code. */
function p3Icc(): Promise<Uint8Array> {
  p3 ??= sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
    .withIccProfile('p3')
    .png()
    .toBuffer()
    .then(async (png) => {
      const { icc } = await sharp(png).metadata();
      if (icc === undefined) throw new Error('sharp gave no Display P3 profile');
      return new Uint8Array(icc);
    });
  return p3;
}

/**
 * The worker: the bundled heic-worker.mjs beside the Lambda's index.mjs (scripts/build-lambda.ts),
 * or, from the TypeScript sources (dev stack, tests), heic-worker.ts loaded through tsx.
 */
function startWorker(job: HeicJob): Worker {
  const transferList = [job.input.buffer as ArrayBuffer];
  if (!import.meta.url.endsWith('.ts')) {
    // No inherited flags: the worker is a plain module file whatever started this process.
    return new Worker(new URL('./heic-worker.mjs', import.meta.url), {
      workerData: job,
      transferList,
      execArgv: [],
    });
  }
  const tsx = tsxApi();
  const entry = new URL('./heic-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(boot, { eval: true, workerData: job, transferList });
}

/** tsx's ESM API (its CommonJS build cannot register hooks in a worker), from its exports map. */
function tsxApi(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports: { './esm/api': { import: { default: string } } };
  };
  return pathToFileURL(join(dirname(manifest), exports['./esm/api'].import.default)).href;
}

const damaged = (cause: unknown) =>
  unsupported('IMG_CORRUPT', 'The image is damaged (truncated or corrupt data). Re-export the file.', cause);

function refusal(reply: Extract<HeicReply, { ok: false }>): Error {
  const cause = new Error(reply.message);
  if (!reply.heif) return cause; // not libheif's: an internal fault (500)
  if (reply.subcode === SECURITY_LIMIT_EXCEEDED) {
    return new ImageError(
      413,
      'IMG_TOO_MANY_PIXELS',
      `The HEIC image exceeds the decoder's limits (${reply.message}). Resize it before uploading.`,
      { cause },
    );
  }
  if (reply.code === UNSUPPORTED_FEATURE) {
    return unsupported(
      'IMG_UNSUPPORTED',
      `This HEIF image cannot be decoded (${reply.message}): expected a HEIC (HEVC) or AVIF image.`,
      cause,
    );
  }
  return damaged(cause);
}

/**
 * Decodes a probed HEIC source to a TIFF that sharp reads (heic-tiff.ts). Throws ImageError:
 * 415 IMG_CORRUPT (damaged data), 415 IMG_UNSUPPORTED (a HEIF feature libheif lacks),
 * 413 IMG_TOO_MANY_PIXELS (libheif's limits), 413 IMG_TOO_COMPLEX (past `heicTimeoutMs`).
 */
export async function decodeHeic(input: Buffer, limits: TransformLimits): Promise<Buffer> {
  const job: HeicJob = {
    input: new Uint8Array(input),
    maxPixels: limits.maxInputPixels,
    p3Icc: await p3Icc(),
  };
  const worker = startWorker(job);
  try {
    const reply = await new Promise<HeicReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          tooLarge(
            'IMG_TOO_COMPLEX',
            `The HEIC image did not decode within ${limits.heicTimeoutMs} ms, the limit. Re-save it smaller or as JPEG.`,
          ),
        );
      }, limits.heicTimeoutMs);
      worker.once('message', (message: HeicReply) => {
        clearTimeout(timer);
        resolve(message);
      });
      worker.once('error', (err) => {
        clearTimeout(timer);
        // A wasm trap (libde265 or libheif aborting on what it read) is the data's fault.
        reject(err instanceof WebAssembly.RuntimeError ? damaged(err) : err);
      });
      worker.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`The HEIC decode worker exited with code ${code} before answering`));
      });
    });
    if (!reply.ok) throw refusal(reply);
    return Buffer.from(reply.tiff.buffer, reply.tiff.byteOffset, reply.tiff.byteLength);
  } finally {
    await worker.terminate();
  }
}
