/**
 * Hostile source files: 1,000 seeded mutations of small photos through the transform core,
 * crafted files (decompression bombs, thousand-frame animations, hostile SVG, polyglots,
 * non-images) through the core and through the whole origin over s3rver. Every answer is an
 * image or a documented 4xx (never a 5xx, never a crash); errors store nothing; the process
 * keeps serving; memory stays bounded.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeKeyPath } from '../../edge-fn/grammar/index.ts';
import { ImageError } from '../../origin-fn/errors.ts';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import type { TransformResult } from '../../origin-fn/transform/types.ts';
import {
  type Crafted,
  craftedFiles,
  mutate,
  prng,
  type Sample,
  smallPhotos,
} from '../helpers/hostile-files.ts';
import { spec } from '../helpers/images.ts';
import { type OriginStack, startOriginStack } from '../helpers/origin-stack.ts';

const MUTATIONS = 1000;
const SEED = 20261123;
/** Documented answers to a bad source (the error table in docs/origin.md): never a 5xx. */
const SOURCE_ERRORS = [413, 415];
/**
 * Memory ceiling of this suite's process: growth of the resident set over the whole barrage.
 * A leak of one decoded 64 px image per request would cost about 12 MB over 1,000 requests;
 * one decoded bomb (60000² RGB) would be 10 GB.
 */
const RSS_GROWTH_CEILING_MB = 256;

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const transformer = createTransformer(DEFAULT_LIMITS);
const OUTPUTS = ['jpeg', 'webp', 'png', 'avif'] as const;

/** What the core answers: the result, or the status of its ImageError (anything else fails the test). */
async function attempt(bytes: Buffer, format: (typeof OUTPUTS)[number], width?: number) {
  try {
    const result = await transformer.transform(bytes, spec({ format, ...(width ? { width } : {}) }));
    return { status: 200, result };
  } catch (err) {
    if (!(err instanceof ImageError)) throw err;
    return { status: err.status, code: err.code, message: err.message };
  }
}

/** A 200 is a real image of the format it claims, within the requested width. */
async function checkImage(result: TransformResult, width: number | undefined) {
  const meta = await sharp(result.bytes, { animated: true }).metadata();
  expect(result.contentType).toBe(`image/${meta.format === 'heif' ? 'avif' : meta.format}`);
  if (width !== undefined) expect(meta.width).toBeLessThanOrEqual(width);
}

let externalHits = 0;
let external: Server;
let externalUrl: string;
let photos: Sample[];
let crafted: Crafted[];

beforeAll(async () => {
  // A real server the hostile SVG points at: nothing may ever fetch from it.
  external = createServer((_req, res) => {
    externalHits++;
    res.end('x');
  });
  await new Promise<void>((ok) => external.listen(0, '127.0.0.1', ok));
  externalUrl = `http://127.0.0.1:${(external.address() as AddressInfo).port}`;
  photos = await smallPhotos();
  crafted = await craftedFiles(externalUrl);
});

afterAll(async () => {
  await new Promise((ok) => external?.close(ok));
});

describe('hostile sources through the transform core', () => {
  it(`answers an image or a documented 4xx to ${MUTATIONS} mutated photos (seed ${SEED})`, async () => {
    const rand = prng(SEED);
    const counts: Record<string, number> = {};
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const others = photos.map((p) => p.bytes);
    for (let i = 0; i < MUTATIONS; i++) {
      const photo = photos[i % photos.length] as Sample;
      const { how, bytes } = mutate(photo.bytes, rand, others);
      // AVIF output is slow to encode: one request in ten asks for it.
      const format = i % 10 === 9 ? 'avif' : (OUTPUTS[i % 3] as (typeof OUTPUTS)[number]);
      const width = i % 2 === 0 ? 32 : undefined;
      const answer = await attempt(bytes, format, width).catch((err: unknown) => {
        throw new Error(`${photo.name} ${how} → ${format}: not an ImageError: ${String(err)}`);
      });
      const label = answer.status === 200 ? '200' : `${answer.status} ${answer.code}`;
      counts[label] = (counts[label] ?? 0) + 1;
      if (answer.result) await checkImage(answer.result, width);
      else expect(SOURCE_ERRORS, `${photo.name} ${how}: ${answer.message}`).toContain(answer.status);
      if (i % 50 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    const growth = mb(Math.max(peak, process.memoryUsage().rss) - rssBefore);
    console.info(`mutations: ${JSON.stringify(counts)}; RSS ${mb(rssBefore)} MB → peak +${growth} MB`);
    // Both outcomes happen: mutations that still decode, and refusals.
    expect(counts['200'] ?? 0).toBeGreaterThan(50);
    expect(MUTATIONS - (counts['200'] ?? 0)).toBeGreaterThan(200);
    expect(growth).toBeLessThan(RSS_GROWTH_CEILING_MB);
  });

  it('answers each crafted file with its documented status, in every output format', async () => {
    for (const file of crafted) {
      for (const format of ['webp', 'jpeg'] as const) {
        const answer = await attempt(file.bytes, format, 256);
        // Animations asked for as a still (JPEG) give their first frame, as documented.
        const allowed = format === 'jpeg' && file.name.includes('frames') ? [200] : file.expect;
        expect(allowed, `${file.name} (${file.why}) as ${format}: ${answer.message}`).toContain(
          answer.status,
        );
        if (answer.result) {
          await checkImage(answer.result, 256);
          // Whatever is appended to an image is never passed through.
          expect(answer.result.bytes.includes('<script>')).toBe(false);
        }
      }
    }
  });

  it('renders SVG with scripts and external references without fetching anything when SVG is on', async () => {
    const on = createTransformer({ ...DEFAULT_LIMITS, allowSvg: true });
    const svg = crafted.find((f) => f.name === 'svg-hostile.svg');
    const xxe = crafted.find((f) => f.name === 'svg-xxe.svg');
    if (!svg || !xxe) throw new Error('no hostile SVG');
    const result = await on.transform(svg.bytes, spec({ format: 'png' }));
    expect(result).toMatchObject({ format: 'png', width: 64, height: 64 });
    // The drawing is rendered (the blue rectangle), nothing else.
    const { dominant } = await sharp(result.bytes).stats();
    expect(dominant.b).toBeGreaterThan(dominant.r + 50);
    // An external entity is not resolved: the SVG is refused as unreadable, no file is read.
    const refused = await on.transform(xxe.bytes, spec({ format: 'png' })).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ImageError);
    expect(refused).toMatchObject({ status: 415 });
    // Give any stray request a moment to arrive before counting.
    await new Promise((ok) => setTimeout(ok, 200));
    expect(externalHits).toBe(0);
  });
});

describe('hostile sources through the whole origin (real s3rver)', () => {
  let stack: OriginStack;
  const keys: Array<{ source: string; allowed: number[] }> = [];

  beforeAll(async () => {
    stack = await startOriginStack();
    await stack.putOriginal('ok/kodim23.jpg', (photos[0] as Sample).bytes);
    for (const file of crafted) {
      const source = `crafted/${file.name}`;
      await stack.putOriginal(source, file.bytes);
      keys.push({ source, allowed: file.expect });
    }
    const rand = prng(SEED + 1);
    const others = photos.map((p) => p.bytes);
    for (let i = 0; i < 40; i++) {
      const photo = photos[i % photos.length] as Sample;
      const { how, bytes } = mutate(photo.bytes, rand, others);
      const source = `mutated/${i}-${how}-${photo.name}`;
      await stack.putOriginal(source, bytes);
      keys.push({ source, allowed: [200, ...SOURCE_ERRORS] });
    }
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('answers image or documented 4xx, stores nothing for an error, and keeps serving', async () => {
    const rssBefore = process.memoryUsage().rss;
    const errors: string[] = [];
    for (const { source, allowed } of keys) {
      for (const options of ['w256.qauto.webp', 'qauto.jpeg']) {
        const key = `v1/${source}/${options}`;
        const res = await stack.origin.handle(`/${encodeKeyPath(key)}`, 'hostile');
        const ok = options.endsWith('jpeg') && source.includes('frames') ? [200] : allowed;
        expect(ok, `${key}: ${res.status} ${res.body.toString().slice(0, 200)}`).toContain(res.status);
        if (res.status !== 200) {
          errors.push(key);
          expect(res.headers['cache-control']).toBe('public, max-age=60');
          expect(res.headers['x-litepix-error']).toMatch(/^IMG_(TOO_|UNSUPPORTED|CORRUPT)/);
        }
      }
    }
    const stored = new Set(await stack.variantKeys());
    expect(errors.length).toBeGreaterThan(30);
    for (const key of errors) expect(stored.has(key), `${key} was stored`).toBe(false);
    // Every stored object is a whole image.
    for (const key of stored) {
      const got = await stack.store.getVariant(key);
      expect(got?.bytes.length ?? 0).toBeGreaterThan(0);
    }
    // Still serving after the barrage.
    const good = await stack.origin.handle('/v1/ok/kodim23.jpg/w48.qauto.webp', 'after');
    expect(good.status).toBe(200);
    expect((await sharp(good.body).metadata()).width).toBe(48);
    expect(mb(process.memoryUsage().rss - rssBefore)).toBeLessThan(RSS_GROWTH_CEILING_MB);
  });
});
