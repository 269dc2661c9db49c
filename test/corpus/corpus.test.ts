/**
 * `npm run test:corpus`: every file of ../shared/corpus through the origin (real s3rver, real
 * sharp), checked against what its manifest entry expects. Not part of `npm test`: a clone of
 * the repository alone has no ../shared.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeKeyPath } from '../../edge-fn/grammar/index.ts';
import { type OriginStack, startOriginStack } from '../helpers/origin-stack.ts';

const CORPUS = resolve(import.meta.dirname, '../../../shared/corpus');

interface Entry {
  file: string;
  category: string;
  width: number;
  height: number;
  format: string;
  bytes: number;
  expect: string;
}

/**
 * Entries where the manifest allows more than one behaviour, or where litepix's documented
 * default picks the other one. The reason is part of the test.
 */
const EITHER: Record<string, { statuses: number[]; why: string }> = {
  'edge/svg-simple-check.svg': { statuses: [415], why: 'SVG input is off by default (LITEPIX_ALLOW_SVG)' },
  'edge/svg-with-script.svg': { statuses: [415], why: 'SVG input is off by default (LITEPIX_ALLOW_SVG)' },
  'edge/svg-external-ref-and-data-uri.svg': { statuses: [415], why: 'SVG input is off by default' },
  'edge/heic-iphone11pro-12mp.heic': {
    statuses: [200],
    why: 'decoded by libheif + libde265 in WebAssembly (origin-fn/transform/heic.ts), HEIC input is on by default',
  },
  'edge/jpeg-lossless-sof3.jpg': {
    statuses: [200, 415],
    why: 'decodes with libjpeg-turbo >= 3, else a clean 415',
  },
  'edge/png-16383x16383-at-sharp-pixel-limit.png': {
    statuses: [413],
    why: 'above the default 100 MP input limit',
  },
  'bad/png-duplicate-plte.png': { statuses: [200, 415], why: 'ambiguous: re-encoded from pixels or refused' },
  'bad/gif-huge-logical-screen-65535x65535.gif': {
    statuses: [200, 413, 415],
    why: 'refused or first frame only',
  },
  'bad/gif-5000-frames-1000x1000.gif': { statuses: [200, 413], why: 'refused or first frame only' },
};

const manifest: Entry[] = existsSync(CORPUS)
  ? (JSON.parse(readFileSync(resolve(CORPUS, 'manifest.json'), 'utf8')) as Entry[])
  : [];

/** Resident memory ceiling of the corpus run's process (MB). */
const CORPUS_RSS_CEILING_MB = 1536;

let stack: OriginStack;

beforeAll(async () => {
  if (manifest.length === 0)
    throw new Error(`No corpus at ${CORPUS}: test:corpus needs ../shared/corpus beside the repository`);
  stack = await startOriginStack();
  for (const entry of manifest) {
    await stack.putOriginal(`corpus/${entry.file}`, readFileSync(resolve(CORPUS, entry.file)));
  }
}, 300_000);

afterAll(async () => {
  await stack?.stop();
});

function expectedStatuses(entry: Entry): number[] {
  const either = EITHER[entry.file];
  if (either) return either.statuses;
  if (entry.expect.startsWith('reject')) return [400, 413, 415];
  if (entry.expect.startsWith('decode')) return [200];
  throw new Error(`${entry.file}: no rule for expect ${JSON.stringify(entry.expect)}`);
}

const legacyExt = (file: string) => (/\.(png|gif|webp|avif)$/i.test(file) ? 'png' : 'jpeg');

describe('every corpus file behaves as its manifest says', () => {
  it('has the corpus', () => {
    expect(manifest.length).toBeGreaterThanOrEqual(80);
  });

  for (const entry of manifest.length ? manifest : []) {
    const why = EITHER[entry.file]?.why ?? entry.expect.slice(0, 60);
    it(`${entry.file}: ${why}`, async () => {
      const allowed = expectedStatuses(entry);
      const source = `corpus/${entry.file}`;
      for (const ext of ['webp', legacyExt(entry.file)]) {
        const key = `v1/${source}/w828.qauto.${ext}`;
        const before = (await stack.variantKeys()).includes(key);
        const res = await stack.origin.handle(`/${encodeKeyPath(key)}`, `corpus-${ext}`);
        expect(allowed, `${key}: ${res.status} ${res.body.toString().slice(0, 200)}`).toContain(res.status);
        if (res.status !== 200) {
          expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
          expect(before || (await stack.variantKeys()).includes(key), 'an error never writes a variant').toBe(
            false,
          );
          continue;
        }
        const meta = await sharp(res.body, { animated: true }).metadata();
        // A transparent source asked for JPEG is served as PNG (alpha is never dropped).
        const formats = ext === 'jpeg' ? ['jpeg', 'png'] : [ext];
        expect(formats).toContain(meta.format);
        expect(res.headers['content-type']).toBe(`image/${meta.format}`);
        const width = meta.width;
        const height = meta.pageHeight ?? meta.height;
        const [dw, dh] =
          (meta.orientation ?? 1) >= 5 ? [entry.height, entry.width] : [entry.width, entry.height];
        expect(width).toBeLessThanOrEqual(828);
        // Either orientation of the source's aspect ratio (EXIF rotation may swap it).
        const aspect = width / height;
        const ratios = [dw / dh, dh / dw];
        expect(Math.min(...ratios.map((r) => Math.abs(r - aspect) / r))).toBeLessThan(
          0.03 + 2 / Math.min(width, height),
        );
        expect(Math.max(width, height)).toBeLessThanOrEqual(Math.max(dw, dh));
        if (entry.category === 'photo') {
          // Never heavier than the original. Lighter, unless it is a PNG of a photo at its own
          // size: q=auto keeps PNG photos lossless when a 256-colour palette would show
          // (docs/quality.md), and then the original itself is served.
          const samePng = ext === 'png' && Math.max(width, height) === Math.max(dw, dh);
          if (samePng) expect(res.body.length).toBeLessThanOrEqual(entry.bytes);
          else expect(res.body.length).toBeLessThan(entry.bytes);
        }
        expect((await stack.variantKeys()).includes(key)).toBe(true);
      }
    }, 120_000);
  }
});

describe('after the whole corpus (bombs, truncations, polyglots included)', () => {
  it('keeps serving, and the process stayed under its memory ceiling', async () => {
    const photo = manifest.find((e) => e.category === 'photo');
    if (!photo) throw new Error('no photo in the corpus');
    const res = await stack.origin.handle(
      `/${encodeKeyPath(`v1/corpus/${photo.file}`)}/w256.q60.webp`,
      'after',
    );
    expect(res.status).toBe(200);
    expect((await sharp(res.body).metadata()).width).toBeLessThanOrEqual(256);
    // The 16383² PNG at the pixel limit is refused by the default limit; what remains (22 MP
    // camera JPEGs, 20 MP AVIF) fits well under this ceiling.
    expect(process.memoryUsage().rss / 2 ** 20).toBeLessThan(CORPUS_RSS_CEILING_MB);
  });
});
