import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { VariantSpec } from '../../edge-fn/grammar/types.ts';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import { spec as baseSpec, fixture } from '../helpers/images.ts';
import { ssim } from '../helpers/perceptual.ts';

const spec = (over: Partial<VariantSpec> = {}): VariantSpec =>
  baseSpec({ source: 'anim/test.gif', format: 'webp', ...over });
const transformer = createTransformer();
const gif = fixture('gif-animated-rotating-squares.gif');
const sum = (values: number[] | undefined) => (values ?? []).reduce((a, b) => a + b, 0);

/** An animated GIF of `frames` distinct solid 8×8 frames. */
async function gifWithFrames(frames: number): Promise<Buffer> {
  const side = 8;
  const raw = Buffer.alloc(side * side * 3 * frames);
  for (let f = 0; f < frames; f++) {
    const colour = [(f * 37) % 256, (f * 101) % 256, (f * 173) % 256];
    for (let p = 0; p < side * side; p++) raw.set(colour, (f * side * side + p) * 3);
  }
  return sharp(raw, { raw: { width: side, height: side * frames, channels: 3, pageHeight: side } })
    .gif({ keepDuplicateFrames: true })
    .toBuffer();
}

describe('animated sources', () => {
  it('an animated GIF requested as WebP stays animated with the same duration and loop', async () => {
    const before = await sharp(gif).metadata();
    expect(before.pages).toBe(30);
    const result = await transformer.transform(gif, spec());
    expect(result).toMatchObject({
      format: 'webp',
      animated: true,
      width: 80,
      height: 80,
      servedOriginal: false,
    });
    const after = await sharp(result.bytes).metadata();
    // libwebp merges identical consecutive frames (adding up their delays), so compare the
    // total duration rather than the frame count.
    expect(after.pages).toBeGreaterThan(1);
    expect(sum(after.delay)).toBe(sum(before.delay));
    expect(after.loop).toBe(before.loop);
    expect([after.width, after.pageHeight ?? after.height]).toEqual([80, 80]);
  });

  it('keeps every distinct frame of an animated GIF', async () => {
    const source = await gifWithFrames(12);
    expect((await sharp(source).metadata()).pages).toBe(12);
    const result = await transformer.transform(source, spec());
    expect((await sharp(result.bytes).metadata()).pages).toBe(12);
  });

  it('resizes every frame of an animation', async () => {
    const result = await transformer.transform(gif, spec({ width: 40 }));
    expect([result.width, result.height]).toEqual([40, 40]);
    const meta = await sharp(result.bytes).metadata();
    expect(meta.width).toBe(40);
    expect(meta.pageHeight ?? meta.height).toBe(40);
    expect(meta.pages).toBeGreaterThan(1);
  });

  it('an animated WebP requested as WebP keeps its frames', async () => {
    const source = fixture('webp-animated-rotating-squares.webp');
    const result = await transformer.transform(source, spec());
    expect(result.animated).toBe(true);
    expect((await sharp(result.bytes).metadata()).pages).toBe(9);
  });

  for (const format of ['jpeg', 'png', 'avif'] as const) {
    it(`an animated GIF requested as ${format} gives its first frame as a still`, async () => {
      const result = await transformer.transform(gif, spec({ format }));
      expect(result.animated).toBe(false);
      const meta = await sharp(result.bytes).metadata();
      expect(meta.pages ?? 1).toBe(1);
      const firstFrame = await sharp(gif).png().toBuffer();
      expect(await ssim(firstFrame, result.bytes, { background: '#808080' })).toBeGreaterThan(0.9);
    });
  }

  it('refuses an animation with more frames than maxFrames before decoding it (413)', async () => {
    const source = await gifWithFrames(DEFAULT_LIMITS.maxFrames + 1);
    await expect(transformer.transform(source, spec())).rejects.toMatchObject({
      status: 413,
      code: 'IMG_TOO_MANY_FRAMES',
    });
  });

  it('serves the first frame of an over-long animation when a still format is requested', async () => {
    const source = await gifWithFrames(DEFAULT_LIMITS.maxFrames + 1);
    const result = await transformer.transform(source, spec({ format: 'png' }));
    expect([result.width, result.height, result.animated]).toEqual([8, 8, false]);
  });

  it('refuses an animation whose frames together exceed maxInputPixels (413)', async () => {
    // 30 frames of 80×80 = 192 000 pixels; one frame (6 400) is fine.
    const small = createTransformer({ ...DEFAULT_LIMITS, maxInputPixels: 100_000 });
    await expect(small.transform(gif, spec())).rejects.toMatchObject({
      status: 413,
      code: 'IMG_TOO_MANY_PIXELS',
    });
    const still = await small.transform(gif, spec({ format: 'png' }));
    expect(still.animated).toBe(false);
  });
});
