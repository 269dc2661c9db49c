/**
 * `spec.position` through real sharp: each gravity anchors `fit=cover` (which part is kept) and
 * `fit=contain` (where the image sits in its padding) on the right side; `attention` and
 * `entropy` keep the salient / detailed part of a synthetic image; positions combine with crops
 * and with boxes shrunk to what the source can fill; a position where it means nothing is refused.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { Crop, Position } from '../../edge-fn/grammar/types.ts';
import { createTransformer, DEFAULT_LIMITS } from '../../origin-fn/transform/index.ts';
import { spec } from '../helpers/images.ts';
import { BLUE, colourGap, GREEN, meanRgb, quadrants, RED, type Rgb, YELLOW } from '../helpers/quadrants.ts';

const transformer = createTransformer(DEFAULT_LIMITS);
const WHITE: Rgb = [255, 255, 255];

/** Mean colour of each quadrant of an output (inset by a tenth, away from the seams). */
async function quarterColours(bytes: Buffer): Promise<Array<[number, number, number]>> {
  const { width = 0, height = 0 } = await sharp(bytes).metadata();
  const w = width / 2;
  const h = height / 2;
  const at = (x: number, y: number) =>
    meanRgb(bytes, {
      left: Math.round(x + w / 5),
      top: Math.round(y + h / 5),
      width: Math.round((3 * w) / 5),
      height: Math.round((3 * h) / 5),
    });
  return Promise.all([at(0, 0), at(w, 0), at(0, h), at(w, h)]);
}

function expectQuarters(actual: Array<readonly number[]>, expected: Rgb[], label: string): void {
  for (const [i, colour] of expected.entries()) {
    expect(colourGap(actual[i] ?? [], colour), `${label}, quarter ${i}`).toBeLessThanOrEqual(10);
  }
}

describe('fit=cover keeps the side its gravity names', () => {
  // 800×400 (wide) and 400×800 (tall) quadrants, covered into 200×200: a wide source loses its
  // left or right, a tall one its top or bottom; a corner acts as its side on the axis cropped.
  const wide: Array<[Position | undefined, Rgb[]]> = [
    [undefined, [RED, GREEN, BLUE, YELLOW]],
    ['left', [RED, RED, BLUE, BLUE]],
    ['right', [GREEN, GREEN, YELLOW, YELLOW]],
    ['top-left', [RED, RED, BLUE, BLUE]],
    ['bottom-left', [RED, RED, BLUE, BLUE]],
    ['top-right', [GREEN, GREEN, YELLOW, YELLOW]],
    ['bottom-right', [GREEN, GREEN, YELLOW, YELLOW]],
    ['top', [RED, GREEN, BLUE, YELLOW]],
  ];
  const tall: Array<[Position | undefined, Rgb[]]> = [
    [undefined, [RED, GREEN, BLUE, YELLOW]],
    ['top', [RED, GREEN, RED, GREEN]],
    ['bottom', [BLUE, YELLOW, BLUE, YELLOW]],
    ['top-left', [RED, GREEN, RED, GREEN]],
    ['top-right', [RED, GREEN, RED, GREEN]],
    ['bottom-left', [BLUE, YELLOW, BLUE, YELLOW]],
    ['bottom-right', [BLUE, YELLOW, BLUE, YELLOW]],
    ['left', [RED, GREEN, BLUE, YELLOW]],
  ];
  for (const [shape, size, cases] of [
    ['wide', [800, 400], wide],
    ['tall', [400, 800], tall],
  ] as const) {
    it.each(cases)(`${shape} source, pos=%s`, async (position, expected) => {
      const source = await (await quadrants(size[0], size[1])).png().toBuffer();
      const result = await transformer.transform(
        source,
        spec({ width: 200, height: 200, fit: 'cover', position, format: 'png', quality: 100 }),
      );
      expect([result.width, result.height]).toEqual([200, 200]);
      expectQuarters(await quarterColours(result.bytes), expected, `${shape} ${position}`);
    });
  }

  it('anchors a box shrunk to the source (cover larger than the image) the same way', async () => {
    const source = await (await quadrants(800, 400)).jpeg({ quality: 95 }).toBuffer();
    const result = await transformer.transform(
      source,
      spec({ width: 1080, height: 1080, fit: 'cover', position: 'right', format: 'webp' }),
    );
    expect([result.width, result.height]).toEqual([400, 400]);
    expectQuarters(await quarterColours(result.bytes), [GREEN, GREEN, YELLOW, YELLOW], 'shrunk box');
  });

  it('applies the gravity to the crop, not to the whole image', async () => {
    // The crop is the top half (red | green, 800×200); covered into 100×100 it loses a side.
    const source = await (await quadrants(800, 400)).jpeg({ quality: 95 }).toBuffer();
    const crop: Crop = { x: 0, y: 0, w: 1000, h: 500 };
    for (const [position, colour] of [
      ['left', RED],
      ['right', GREEN],
    ] as const) {
      const result = await transformer.transform(
        source,
        spec({ crop, width: 100, height: 100, fit: 'cover', position, format: 'png' }),
      );
      expect([result.width, result.height]).toEqual([100, 100]);
      expect(colourGap(await meanRgb(result.bytes), colour), position).toBeLessThanOrEqual(8);
    }
  });
});

describe('fit=contain places the image on its gravity', () => {
  // A 400×200 (wide) image contained in 400×400 is padded above and below; a 200×400 (tall) one
  // left and right. JPEG pads with white.
  const cases: Array<
    [string, [number, number], Position | undefined, 'image-first' | 'image-last' | 'centred']
  > = [
    ['wide', [400, 200], 'top', 'image-first'],
    ['wide', [400, 200], 'bottom', 'image-last'],
    ['wide', [400, 200], 'top-right', 'image-first'],
    ['wide', [400, 200], 'bottom-left', 'image-last'],
    ['wide', [400, 200], undefined, 'centred'],
    ['tall', [200, 400], 'left', 'image-first'],
    ['tall', [200, 400], 'right', 'image-last'],
    ['tall', [200, 400], 'top-left', 'image-first'],
    ['tall', [200, 400], 'bottom-right', 'image-last'],
  ];
  it.each(cases)('%s source, pos=%s: the image comes %s', async (shape, [w, h], position, placement) => {
    const source = await (await quadrants(w, h)).png().toBuffer();
    const result = await transformer.transform(
      source,
      spec({ width: 400, height: 400, fit: 'contain', position, format: 'jpeg' }),
    );
    expect([result.width, result.height]).toEqual([400, 400]);
    // The strip at each end of the padded axis: padding (white) or image (not white).
    const strip = (first: boolean) =>
      meanRgb(
        result.bytes,
        shape === 'wide'
          ? { left: 0, top: first ? 10 : 310, width: 400, height: 80 }
          : { left: first ? 10 : 310, top: 0, width: 80, height: 400 },
      );
    const isWhite = async (first: boolean) => colourGap(await strip(first), WHITE) <= 6;
    const expected = { 'image-first': [false, true], 'image-last': [true, false], centred: [true, true] }[
      placement
    ];
    expect([await isWhite(true), await isWhite(false)], `${shape} ${position}`).toEqual(expected);
  });
});

describe('fit=cover strategies', () => {
  const grey = { r: 128, g: 128, b: 128 };

  it('entropy keeps the detailed part (noise on the left of a flat image)', async () => {
    const noise = Buffer.alloc(200 * 200 * 3);
    let seed = 7;
    for (let i = 0; i < noise.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      noise[i] = seed >> 23;
    }
    const source = await sharp({ create: { width: 600, height: 200, channels: 3, background: grey } })
      .composite([{ input: noise, raw: { width: 200, height: 200, channels: 3 }, left: 0, top: 0 }])
      .png()
      .toBuffer();
    const pick = async (position?: Position) => {
      const result = await transformer.transform(
        source,
        spec({ width: 200, height: 200, fit: 'cover', position, format: 'png', quality: 100 }),
      );
      expect([result.width, result.height]).toEqual([200, 200]);
      return (await sharp(result.bytes).stats()).channels[0]?.stdev ?? 0;
    };
    // Flat grey in the centre (the default), mostly noise with entropy.
    expect(await pick()).toBeLessThan(1);
    expect(await pick('entropy')).toBeGreaterThan(50);
  });

  it('attention keeps the salient part (a saturated skin-tone patch on the right of grey)', async () => {
    const patch = await sharp({
      create: { width: 160, height: 160, channels: 3, background: { r: 230, g: 150, b: 110 } },
    })
      .png()
      .toBuffer();
    const source = await sharp({ create: { width: 600, height: 200, channels: 3, background: grey } })
      .composite([{ input: patch, left: 420, top: 20 }])
      .png()
      .toBuffer();
    const pick = async (position?: Position) => {
      const result = await transformer.transform(
        source,
        spec({ width: 200, height: 200, fit: 'cover', position, format: 'png', quality: 100 }),
      );
      return meanRgb(result.bytes);
    };
    expect(colourGap(await pick(), [128, 128, 128])).toBeLessThanOrEqual(2);
    // The patch fills 160×160 of the 200×200 kept: the mean leans to its colour.
    const [r, , b] = await pick('attention');
    expect(r).toBeGreaterThan(190);
    expect(b).toBeLessThan(125);
  });
});

describe('refusals', () => {
  it.each([
    [{ fit: 'contain' as const, width: 200, height: 200, position: 'attention' as const }, /fit "contain"/],
    [{ fit: 'inside' as const, width: 200, height: 200, position: 'left' as const }, /fit "inside"/],
    [{ fit: 'cover' as const, width: 200, position: 'left' as const }, /needs both width and height/],
    [
      { fit: 'cover' as const, width: 200, height: 200, position: 'middle' as Position },
      /expected one of top, right/,
    ],
  ])('refuses a position where it means nothing (%o)', async (over, message) => {
    const source = await (await quadrants(80, 40)).png().toBuffer();
    await expect(transformer.transform(source, spec(over))).rejects.toMatchObject({
      status: 400,
      code: 'IMG_BAD_PARAM',
      message: expect.stringMatching(message),
    });
  });
});
