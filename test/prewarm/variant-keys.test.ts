/**
 * A variant is never an original, for pre-warm as for the origin: one check
 * (`checkOriginalKey`, edge-fn/grammar/variant-key.ts) refuses a key that is itself a variant
 * key in the origin, the pre-warm planner (CLI and SQS units) and the S3-event Lambda. The
 * variant-shaped objects below really are in the originals bucket (as an upload or a mistaken
 * copy would put them), so without the check they would be transformed and stored as v1/v1/….
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOriginalKey, DEFAULT_GRAMMAR_CONFIG } from '../../edge-fn/grammar/index.ts';
import { createLog } from '../../origin-fn/log.ts';
import { createSqsHandler } from '../../prewarm/lambda.ts';
import { createS3EventHandler, type S3Event } from '../../prewarm/s3-events.ts';
import { fixture } from '../helpers/images.ts';
import { CDN, items, ORIGINALS, type PrewarmStack, runAll, startPrewarmStack } from './helpers.ts';

const VARIANT_KEY = 'v1/photos/hats.jpg/w256.qauto.webp';
const event = (name: string): S3Event =>
  JSON.parse(readFileSync(new URL(`../fixtures/events/${name}`, import.meta.url), 'utf8')) as S3Event;

describe('checkOriginalKey (shared by the origin and pre-warm)', () => {
  it('refuses a canonical variant key as an original, naming the original it was made from', () => {
    expect(checkOriginalKey(VARIANT_KEY, DEFAULT_GRAMMAR_CONFIG)).toEqual({
      ok: false,
      status: 400,
      code: 'IMG_BAD_KEY',
      message: `Invalid original key "${VARIANT_KEY}": it is itself a variant key; variants are not originals (a variant of "photos/hats.jpg"); use the original's own key`,
    });
  });

  it.each([
    ['an ordinary key', 'photos/hats.jpg'],
    ['a key under v1/ that no edge could produce (800 is off the ladder)', 'v1/photos/a.jpg/w800.qauto.webp'],
    ['another version', 'v2/photos/a.jpg/w256.qauto.webp'],
  ])('lets %s be an original', (_, key) => {
    expect(checkOriginalKey(key, DEFAULT_GRAMMAR_CONFIG)).toBeUndefined();
  });
});

describe('pre-warm never makes variants of variants', () => {
  let stack: PrewarmStack;
  beforeAll(async () => {
    stack = await startPrewarmStack();
    const photo = fixture('kodim03-q95.jpg');
    await stack.put('photos/hats.jpg', photo, 'image/jpeg');
    await stack.put(VARIANT_KEY, await sharp(photo).resize(256).webp().toBuffer(), 'image/webp');
  });
  afterAll(() => stack?.stop());

  it('fails each variant-key reference with PREWARM_VARIANT_KEY, pre-warms the others, stores nothing under v1/v1/', async () => {
    const p = stack.prewarmer({ formats: ['webp'] });
    const { results } = await runAll(
      p,
      items(
        { id: 'bare', images: [VARIANT_KEY, 'photos/hats.jpg'] },
        { id: 's3', cover: `s3://${ORIGINALS}/${VARIANT_KEY}` },
        { id: 'cdn', cover: `${CDN}/${VARIANT_KEY}?w=100` },
      ),
    );
    const failures = results.flatMap((r) => r.report.images.filter((i) => i.status === 'failed'));
    expect(failures).toHaveLength(3);
    for (const f of failures) {
      expect(f).toMatchObject({ code: 'PREWARM_VARIANT_KEY', source: VARIANT_KEY, transient: false });
      expect(f.message).toContain('is itself a variant key; variants are not originals');
    }
    expect(results[0]?.report.images[1]).toMatchObject({ status: 'ok', source: 'photos/hats.jpg' });
    // The failed reference is left as written; the good one is rewritten.
    expect(results[0]?.unit).toEqual({
      id: 'bare',
      images: [VARIANT_KEY, `${CDN}/photos/hats.jpg?preset=thumb`],
    });
    expect(p.counters.transforms).toBe(1);
    expect(await stack.variantKeys()).toEqual(['v1/photos/hats.jpg/w256.qauto.webp']);
  });

  it('fails only the SQS message that names a variant key', async () => {
    const result = await createSqsHandler({
      prewarmer: stack.prewarmer({ formats: ['webp'] }),
      log: createLog({ level: 'silent' }),
    })({
      Records: [
        { messageId: 'good', body: '{"cover":"photos/hats.jpg"}' },
        { messageId: 'variant', body: JSON.stringify({ cover: VARIANT_KEY }) },
      ],
    });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'variant' }] });
    expect((await stack.variantKeys()).filter((k) => k.startsWith('v1/v1/'))).toEqual([]);
  });

  it('ignores an S3 upload whose key is a variant key, logging why', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const result = await createS3EventHandler({
      store: stack.store,
      prewarmer: stack.prewarmer({ formats: ['webp'] }),
      originalsBucket: ORIGINALS,
      grammar: DEFAULT_GRAMMAR_CONFIG,
      log: createLog({ level: 'info', destination }),
    })(event('s3-object-created-variant-key.json'));
    expect(result).toMatchObject({ keys: 0, deletedVariants: 0, invalidated: [], prewarm: undefined });
    expect(result.ignored).toEqual([
      {
        key: VARIANT_KEY,
        code: 'IMG_BAD_KEY',
        message: expect.stringContaining('is itself a variant key; variants are not originals'),
      },
    ]);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 40,
        key: VARIANT_KEY,
        code: 'IMG_BAD_KEY',
        msg: expect.stringContaining('upload ignored: Invalid original key'),
      }),
    );
    expect((await stack.variantKeys()).filter((k) => k.startsWith('v1/v1/'))).toEqual([]);
  });
});
