/**
 * Decoder bombs: sources whose header is within every size limit but whose decode would cost
 * far more than their size says. A JPEG's scans are counted from its markers before sharp sees
 * it; the count is a linear walk, bounded by the source bytes.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ImageError } from '../../origin-fn/errors.ts';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import { countJpegScans } from '../../origin-fn/transform/jpeg-segments.ts';
import { jpegWithScans, sosOffsets } from '../helpers/hostile-files.ts';
import { fixture, spec } from '../helpers/images.ts';

const transformer = createTransformer(DEFAULT_LIMITS);

async function refusal(promise: Promise<unknown>): Promise<ImageError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ImageError)) throw new Error(`expected an ImageError, got ${String(err)}`);
  return err;
}

describe('JPEG scan limit (decoder bombs)', () => {
  it('refuses a progressive JPEG with 2,000 scans with 413 IMG_TOO_COMPLEX before decoding it', async () => {
    const bomb = await jpegWithScans(2000);
    expect(sosOffsets(bomb)).toHaveLength(2000);
    const start = performance.now();
    const err = await refusal(transformer.transform(bomb, spec({ format: 'webp', width: 256 })));
    expect(performance.now() - start).toBeLessThan(1000);
    expect(err).toMatchObject({ status: 413, code: 'IMG_TOO_COMPLEX' });
    expect(err.message).toBe(
      'The JPEG has more than 64 scans (progressive passes, each costing a full decode pass); the limit is 64 ' +
        '(a standard progressive JPEG has about 10). Re-save it as a standard baseline or progressive JPEG.',
    );
    // Pre-warm refuses it the same way, for every variant.
    const outcomes = await transformer.transformMany?.(bomb, [
      spec({ format: 'jpeg' }),
      spec({ format: 'avif' }),
    ]);
    expect(outcomes).toHaveLength(2);
    for (const outcome of outcomes ?? []) {
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.error).toMatchObject({ code: 'IMG_TOO_COMPLEX' });
    }
  });

  it('serves a standard progressive JPEG (10 scans) and a CMYK one, and honours a lower limit', async () => {
    const progressive = await sharp(fixture('kodim23-q95.jpg'))
      .resize(64)
      .jpeg({ progressive: true })
      .toBuffer();
    expect(sosOffsets(progressive)).toHaveLength(10);
    const result = await transformer.transform(progressive, spec({ format: 'webp' }));
    expect(result).toMatchObject({ format: 'webp', width: 64, height: 43 });
    await transformer.transform(fixture('jpeg-cmyk-no-icc.jpg'), spec({ format: 'jpeg', width: 32 }));
    const strict = createTransformer({ ...DEFAULT_LIMITS, maxJpegScans: 9 });
    const err = await refusal(strict.transform(progressive, spec({ format: 'webp' })));
    expect(err).toMatchObject({ status: 413, code: 'IMG_TOO_COMPLEX' });
    expect(err.message).toContain('more than 9 scans');
    expect(() => createTransformer({ ...DEFAULT_LIMITS, maxJpegScans: 0 })).toThrow(
      'Invalid maxJpegScans 0: expected an integer from 1 to 100000',
    );
  });

  it('counts scans a strict walk would miss: junk before a marker does not hide the scans after it', async () => {
    const bomb = await jpegWithScans(200);
    const sos = sosOffsets(bomb);
    const at = sos[20] as number;
    const junk = Buffer.concat([bomb.subarray(0, at), Buffer.from('junk bytes'), bomb.subarray(at)]);
    expect(countJpegScans(junk, 1000)).toBe(200);
    expect(countJpegScans(junk, 64)).toBe(65); // the walk stops one past the limit
    const err = await refusal(transformer.transform(junk, spec({ format: 'png' })));
    expect(err.code).toBe('IMG_TOO_COMPLEX');
  });

  it('walks 16 MiB of worst-case entropy-coded data (all 0xFF00 stuffing) in linear time', () => {
    const header = Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00]);
    const stuffing = Buffer.alloc(16 * 2 ** 20);
    for (let i = 0; i < stuffing.length; i += 2) stuffing[i] = 0xff;
    const bytes = Buffer.concat([header, stuffing, Buffer.from([0xff, 0xd9])]);
    const start = performance.now();
    expect(countJpegScans(bytes, 64)).toBe(1);
    expect(performance.now() - start).toBeLessThan(2000);
  });
});
