import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { VariantSpec } from '../../edge-fn/grammar/types.ts';
import { ImageError } from '../../origin-fn/errors.ts';
import { createTransformer, DEFAULT_LIMITS, validateLimits } from '../../origin-fn/transform/index.ts';
import { pngChunk } from '../helpers/hostile-files.ts';
import { fixture, spec } from '../helpers/images.ts';

const transformer = createTransformer();
const kodim23 = fixture('kodim23-q95.jpg');

/** A valid PNG header claiming width × height (1-bit grey), followed by almost no pixel data. */
function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(64))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

async function refusal(input: Buffer, over: Partial<VariantSpec> = {}, t = transformer): Promise<ImageError> {
  try {
    await t.transform(input, spec(over));
  } catch (err) {
    if (err instanceof ImageError) return err;
    throw err;
  }
  throw new Error('expected the transform to refuse the input');
}

describe('decompression bombs and size limits (413)', () => {
  it('refuses a PNG header claiming 50000×50000 from the header alone, before decoding', async () => {
    const bomb = pngClaiming(50_000, 50_000);
    expect(bomb.length).toBeLessThan(200);
    const started = performance.now();
    const err = await refusal(bomb);
    expect([err.status, err.code]).toEqual([413, 'IMG_TOO_MANY_PIXELS']);
    expect(err.message).toContain('50000×50000');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('applies its own pixel limit, below sharp default: 12000×9000 (108 MP) is refused', async () => {
    const err = await refusal(pngClaiming(12_000, 9_000));
    expect([err.status, err.code]).toEqual([413, 'IMG_TOO_MANY_PIXELS']);
  });

  it('the same crafted PNG at a small size is decoded and found corrupt (415), proving 413 came first', async () => {
    const err = await refusal(pngClaiming(1000, 1000));
    expect([err.status, err.code]).toEqual([415, 'IMG_CORRUPT']);
  });

  it('refuses a source over maxSourceBytes (413)', async () => {
    const small = createTransformer({ ...DEFAULT_LIMITS, maxSourceBytes: 10_000 });
    const err = await refusal(kodim23, {}, small);
    expect([err.status, err.code]).toEqual([413, 'IMG_TOO_LARGE']);
    expect(err.message).toContain('10000 bytes');
  });
});

describe('not an image, unsupported or damaged (415)', () => {
  const notImages: Array<[string, Buffer]> = [
    ['an empty file', Buffer.alloc(0)],
    ['a text file', Buffer.from('This is not an image, just some text that was named photo.jpg\n')],
    ['an HTML page', Buffer.from('<!doctype html><html><body><img src=x onerror=alert(1)></body></html>')],
    ['a gzip stream', deflateSync(Buffer.from('{"not":"svg"}'))],
  ];
  for (const [name, bytes] of notImages) {
    it(`refuses ${name} with IMG_UNSUPPORTED`, async () => {
      const err = await refusal(bytes);
      expect([err.status, err.code]).toEqual([415, 'IMG_UNSUPPORTED']);
    });
  }

  it('refuses SVG by default, even when it is a valid image', async () => {
    const err = await refusal(fixture('svg-with-script.svg'));
    expect([err.status, err.code]).toEqual([415, 'IMG_UNSUPPORTED']);
    expect(err.message).toContain('SVG');
  });

  it('renders SVG to pixels when allowSvg is on (the script is never run or served)', async () => {
    const withSvg = createTransformer({ ...DEFAULT_LIMITS, allowSvg: true });
    const result = await withSvg.transform(fixture('svg-with-script.svg'), spec({ format: 'png' }));
    expect(result.contentType).toBe('image/png');
    expect((await sharp(result.bytes).metadata()).format).toBe('png');
    expect([result.width, result.height]).toEqual([532, 43]);
  });

  it('refuses the first 8 KB of an iPhone HEIC (a whole header, cut HEVC tiles) with IMG_CORRUPT', async () => {
    const heic = fixture('heic-iphone-header-8kb.heic');
    const meta = await sharp(heic).metadata();
    expect([meta.format, meta.compression]).toEqual(['heif', 'hevc']);
    const err = await refusal(heic);
    expect([err.status, err.code]).toEqual([415, 'IMG_CORRUPT']);
  });

  it('refuses HEIC from its header with IMG_UNSUPPORTED when HEIC input is off (allowHeic: false)', async () => {
    const off = createTransformer({ ...DEFAULT_LIMITS, allowHeic: false });
    const err = await refusal(fixture('heic-kodim23.heic'), {}, off);
    expect([err.status, err.code]).toEqual([415, 'IMG_UNSUPPORTED']);
    expect(err.message).toBe(
      'HEIC images are not served by this CDN (HEIC input is off): expected JPEG, PNG, WebP, AVIF, GIF or TIFF.',
    );
  });

  it('refuses a truncated JPEG with IMG_CORRUPT (never a grey half image)', async () => {
    const truncated = kodim23.subarray(0, Math.floor(kodim23.length / 2));
    const err = await refusal(truncated);
    expect([err.status, err.code]).toEqual([415, 'IMG_CORRUPT']);
  });

  it('refuses a truncated PNG with IMG_CORRUPT', async () => {
    const png = fixture('png-alpha-handwriting.png');
    const err = await refusal(png.subarray(0, Math.floor(png.length / 2)), { format: 'png' });
    expect([err.status, err.code]).toEqual([415, 'IMG_CORRUPT']);
  });

  const damaged = ['jpeg-corrupt-header.jpg', 'gif-truncated.gif', 'polyglot-jpeg-pdf-zip.jpg'];
  for (const name of damaged) {
    it(`refuses ${name} with IMG_CORRUPT`, async () => {
      const err = await refusal(fixture(name), { format: 'webp' });
      expect([err.status, err.code]).toEqual([415, 'IMG_CORRUPT']);
    });
  }
});

describe('invalid specs (400) and invalid limits (start-up error)', () => {
  const badSpecs: Array<[string, Partial<VariantSpec>, string]> = [
    ['width 0', { width: 0 }, 'Invalid width 0: expected an integer from 1 to 16383'],
    ['a fractional height', { height: 10.5 }, 'Invalid height 10.5: expected an integer from 1 to 16383'],
    [
      'quality 150',
      { quality: 150 },
      'Invalid quality 150: expected an integer from 1 to 100, "auto" or "lite"',
    ],
  ];
  for (const [name, over, message] of badSpecs) {
    it(`returns 400 IMG_BAD_PARAM for ${name}`, async () => {
      const err = await refusal(kodim23, over);
      expect([err.status, err.code, err.message]).toEqual([400, 'IMG_BAD_PARAM', message]);
    });
  }

  it('rejects invalid limits at construction, naming the setting and its range', () => {
    expect(() => createTransformer({ ...DEFAULT_LIMITS, maxOutputDimension: 0 })).toThrow(
      'Invalid maxOutputDimension 0: expected an integer from 1 to 16383',
    );
    const lite = {
      ...DEFAULT_LIMITS.quality.lite,
      fallback: { ...DEFAULT_LIMITS.quality.lite.fallback, avif: 101 },
    };
    expect(() => validateLimits({ ...DEFAULT_LIMITS, quality: { ...DEFAULT_LIMITS.quality, lite } })).toThrow(
      'Invalid quality.lite.fallback.avif 101: expected an integer from 1 to 100',
    );
    const auto = { ...DEFAULT_LIMITS.quality.auto, distance: 0.1 };
    expect(() => validateLimits({ ...DEFAULT_LIMITS, quality: { ...DEFAULT_LIMITS.quality, auto } })).toThrow(
      'Invalid quality.auto.distance 0.1: expected a number from 0.2 to 4',
    );
    expect(() =>
      validateLimits({ ...DEFAULT_LIMITS, quality: { ...DEFAULT_LIMITS.quality, maxEncodes: 0 } }),
    ).toThrow('Invalid quality.maxEncodes 0: expected an integer from 1 to 8');
  });

  it('accepts the default limits', () => {
    expect(validateLimits(DEFAULT_LIMITS)).toBe(DEFAULT_LIMITS);
  });
});
