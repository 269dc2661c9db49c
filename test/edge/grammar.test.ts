import { describe, expect, it } from 'vitest';
import {
  buildVariantKey,
  DEFAULT_GRAMMAR_CONFIG,
  DEFAULT_LADDER,
  parseVariantKey,
  resolveGrammarConfig,
  snapUp,
} from '../../edge-fn/grammar/index.ts';
import { CHROME_ACCEPT, errorOf, keyOf, req } from './helpers.ts';

describe('parameters and defaults', () => {
  it.each([
    ['/photos/a.jpg?w=800', 'v1/photos/a.jpg/w828.qauto.jpeg'],
    ['/photos/a.jpg?width=800', 'v1/photos/a.jpg/w828.qauto.jpeg'],
    ['/photos/a.jpg?W=800', 'v1/photos/a.jpg/w828.qauto.jpeg'],
    ['/photos/a.jpg?w=0800', 'v1/photos/a.jpg/w828.qauto.jpeg'],
    ['/photos/a.jpg?w=828', 'v1/photos/a.jpg/w828.qauto.jpeg'],
    ['/photos/a.jpg?w=1', 'v1/photos/a.jpg/w16.qauto.jpeg'],
    ['/photos/a.jpg?w=4096', 'v1/photos/a.jpg/w4096.qauto.jpeg'],
    ['/photos/a.jpg?h=500', 'v1/photos/a.jpg/h540.qauto.jpeg'],
    ['/photos/a.jpg?height=500', 'v1/photos/a.jpg/h540.qauto.jpeg'],
    ['/photos/a.jpg?w=400&dpr=2', 'v1/photos/a.jpg/w828.qauto.jpeg'],
    ['/photos/a.jpg?w=414&dpr=1.1', 'v1/photos/a.jpg/w480.qauto.jpeg'],
    ['/photos/a.jpg?w=375&dpr=3', 'v1/photos/a.jpg/w1170.qauto.jpeg'],
    ['/photos/a.jpg?dpr=2', 'v1/photos/a.jpg/qauto.jpeg'],
    ['/photos/a.jpg?w=800&h=600', 'v1/photos/a.jpg/w828.h600.qauto.jpeg'],
    ['/photos/a.jpg?w=800&h=600&fit=cover', 'v1/photos/a.jpg/w828.h600.fit-cover.qauto.jpeg'],
    ['/photos/a.jpg?w=800&h=600&fit=COVER', 'v1/photos/a.jpg/w828.h600.fit-cover.qauto.jpeg'],
    ['/photos/a.jpg?w=800&h=600&fit=inside', 'v1/photos/a.jpg/w828.h600.qauto.jpeg'],
    ['/photos/a.jpg?w=800&fit=cover', 'v1/photos/a.jpg/w828.qauto.jpeg'],
    ['/photos/a.jpg?fit=fill', 'v1/photos/a.jpg/qauto.jpeg'],
    ['/photos/a.jpg?q=75', 'v1/photos/a.jpg/q75.jpeg'],
    ['/photos/a.jpg?quality=075', 'v1/photos/a.jpg/q75.jpeg'],
    ['/photos/a.jpg?q=1', 'v1/photos/a.jpg/q1.jpeg'],
    ['/photos/a.jpg?q=100', 'v1/photos/a.jpg/q100.jpeg'],
    ['/photos/a.jpg?q=AUTO', 'v1/photos/a.jpg/qauto.jpeg'],
    ['/photos/a.jpg?f=webp', 'v1/photos/a.jpg/qauto.webp'],
    ['/photos/a.jpg?format=avif', 'v1/photos/a.jpg/qauto.avif'],
    ['/photos/a.jpg?f=jpg', 'v1/photos/a.jpg/qauto.jpeg'],
    ['/photos/a.jpg?f=PNG', 'v1/photos/a.jpg/qauto.png'],
    ['/photos/a.jpg?f=auto', 'v1/photos/a.jpg/qauto.jpeg'],
    ['/photos/a.jpg?preset=mobile', 'v1/photos/a.jpg/w828.qauto.jpeg'],
    ['/photos/a.jpg?preset=THUMB&f=webp', 'v1/photos/a.jpg/w256.qauto.webp'],
    ['/photos/a.jpg?preset=mobile&w=828', 'v1/photos/a.jpg/w828.qauto.jpeg'],
    ['/photos/a.jpg?w=800&w=800', 'v1/photos/a.jpg/w828.qauto.jpeg'],
    ['/photos/a.jpg?w=800&width=0800', 'v1/photos/a.jpg/w828.qauto.jpeg'],
    ['/photos/a.jpg', 'v1/photos/a.jpg/qauto.jpeg'],
    ['/photos/my%20pic.jpg?w=800', 'v1/photos/my pic.jpg/w828.qauto.jpeg'],
    ['/fotos/%C3%A9t%C3%A9.jpg', 'v1/fotos/été.jpg/qauto.jpeg'],
  ])('%s → %s', (url, key) => {
    expect(keyOf(req(url))).toBe(key);
  });

  it('resolves the spec with every default filled in', () => {
    const result = req('/a.jpg');
    expect(result.ok && result.spec).toEqual({
      source: 'a.jpg',
      fit: 'inside',
      quality: 'auto',
      format: 'jpeg',
    });
  });
});

describe('errors name the parameter, the value and what is allowed', () => {
  it.each([
    ['/a.jpg?w=abc', 'Invalid width "abc": expected an integer from 1 to 4096'],
    ['/a.jpg?w=', 'Invalid width "": expected an integer from 1 to 4096'],
    ['/a.jpg?w=0', 'Invalid width "0": expected an integer from 1 to 4096'],
    ['/a.jpg?w=-5', 'Invalid width "-5": expected an integer from 1 to 4096'],
    ['/a.jpg?w=4097', 'Invalid width "4097": expected an integer from 1 to 4096'],
    ['/a.jpg?w=8.5', 'Invalid width "8.5": expected an integer from 1 to 4096'],
    ['/a.jpg?w=1e3', 'Invalid width "1e3": expected an integer from 1 to 4096'],
    ['/a.jpg?w=%20800', 'Invalid width " 800": expected an integer from 1 to 4096'],
    [
      '/a.jpg?h=99999999999999999999',
      'Invalid height "99999999999999999999": expected an integer from 1 to 4096',
    ],
    ['/a.jpg?w=3000&dpr=2', 'Invalid width "3000" at dpr 2: 6000 is larger than the largest size 4096'],
    ['/a.jpg?h=2049&dpr=2', 'Invalid height "2049" at dpr 2: 4098 is larger than the largest size 4096'],
    ['/a.jpg?dpr=5', 'Invalid dpr "5": expected a number from 1 to 4'],
    ['/a.jpg?dpr=0.5', 'Invalid dpr "0.5": expected a number from 1 to 4'],
    ['/a.jpg?dpr=NaN', 'Invalid dpr "NaN": expected a number from 1 to 4'],
    ['/a.jpg?dpr=.5', 'Invalid dpr ".5": expected a number from 1 to 4'],
    ['/a.jpg?fit=stretch', 'Invalid fit "stretch": expected one of inside, cover, contain, fill, outside'],
    ['/a.jpg?q=0', 'Invalid quality "0": expected an integer from 1 to 100 or "auto"'],
    ['/a.jpg?q=101', 'Invalid quality "101": expected an integer from 1 to 100 or "auto"'],
    ['/a.jpg?quality=high', 'Invalid quality "high": expected an integer from 1 to 100 or "auto"'],
    ['/a.jpg?f=gif', 'Invalid format "gif": expected one of auto, jpeg, webp, avif, png (jpg = jpeg)'],
    ['/a.jpg?preset=huge', 'Invalid preset "huge": expected one of thumb, mobile, full'],
    [
      '/a.jpg?foo=1',
      'Unknown parameter "foo": expected one of w (width), h (height), dpr, fit, pos (position), crop, q (quality), f (format), maxkb, preset, exp',
    ],
    [
      '/a.jpg?s=abc',
      'Unknown parameter "s": expected one of w (width), h (height), dpr, fit, pos (position), crop, q (quality), f (format), maxkb, preset, exp',
    ],
    ['/a.jpg?w=800&w=900', 'Conflicting values for width: "800" and "900"'],
    ['/a.jpg?w=800&width=900', 'Conflicting values for width: "800" and "900"'],
    ['/a.jpg?f=webp&format=avif', 'Conflicting values for format: "webp" and "avif"'],
    [
      '/a.jpg?preset=mobile&w=800',
      'Conflicting values for width: "800" and "828" (the second from preset "mobile")',
    ],
    [
      '/a.jpg?crop=0,0,1000',
      'Invalid crop "0,0,1000": expected x,y,w,h in per-mille of the image (integers, w and h > 0, x + w and y + h <= 1000), e.g. 0,250,1000,500',
    ],
    [
      '/a.jpg?crop=500,0,501,100',
      'Invalid crop "500,0,501,100": expected x,y,w,h in per-mille of the image (integers, w and h > 0, x + w and y + h <= 1000), e.g. 0,250,1000,500',
    ],
    [
      '/a.jpg?crop=0,0,0,100',
      'Invalid crop "0,0,0,100": expected x,y,w,h in per-mille of the image (integers, w and h > 0, x + w and y + h <= 1000), e.g. 0,250,1000,500',
    ],
    [
      '/a.jpg?crop=0.5,0,100,100',
      'Invalid crop "0.5,0,100,100": expected x,y,w,h in per-mille of the image (integers, w and h > 0, x + w and y + h <= 1000), e.g. 0,250,1000,500',
    ],
    [
      '/a.jpg?crop=0,0,100,100&crop=0,0,200,200',
      'Conflicting values for crop: "0,0,100,100" and "0,0,200,200"',
    ],
    [
      '/a.jpg?pos=middle',
      'Invalid position "middle": expected one of top, right, bottom, left, top-left, top-right, bottom-left, bottom-right, attention, entropy, center',
    ],
    [
      '/a.jpg?w=400&h=400&pos=top',
      'Invalid position "top": it needs w, h and fit=cover (or fit=contain for a gravity)',
    ],
    [
      '/a.jpg?w=400&pos=top&fit=cover',
      'Invalid position "top": it needs w, h and fit=cover (or fit=contain for a gravity)',
    ],
    [
      '/a.jpg?w=400&h=400&fit=contain&position=attention',
      'Invalid position "attention": it needs w, h and fit=cover (or fit=contain for a gravity)',
    ],
    [`/a.jpg?w=${'9'.repeat(200)}`, `Invalid width "${'9'.repeat(64)}…": expected an integer from 1 to 4096`],
    ['/a.jpg?w=%0a1', 'Invalid width "\\n1": expected an integer from 1 to 4096'],
  ])('%s → 400 %s', (url, message) => {
    const error = errorOf(req(url));
    expect(error.status).toBe(400);
    expect(error.code).toBe('IMG_BAD_PARAM');
    expect(error.message).toBe(message);
  });

  it('refuses more than 16 parameters', () => {
    const url = `/a.jpg?${Array.from({ length: 17 }, () => 'w=800').join('&')}`;
    expect(errorOf(req(url)).message).toBe('Too many parameters (17): expected at most 16');
  });
});

describe('paths and keys are safe', () => {
  it.each([
    ['/', 'Invalid path "/": expected /<key of the original image>, e.g. /photos/a.jpg'],
    ['a.jpg', 'Invalid path "a.jpg": it must start with "/"'],
    ['/a/../b.jpg', 'Invalid path "/a/../b.jpg": "." and ".." segments are not allowed'],
    ['/a/./b.jpg', 'Invalid path "/a/./b.jpg": "." and ".." segments are not allowed'],
    ['/%2e%2e/b.jpg', 'Invalid path "/%2e%2e/b.jpg": "." and ".." segments are not allowed'],
    ['/a//b.jpg', 'Invalid path "/a//b.jpg": empty path segments are not allowed'],
    ['/a/', 'Invalid path "/a/": empty path segments are not allowed'],
    ['/a%2Fb.jpg', 'Invalid path "/a%2Fb.jpg": encoded slashes and backslashes are not allowed'],
    ['/a%5cb.jpg', 'Invalid path "/a%5cb.jpg": encoded slashes and backslashes are not allowed'],
    ['/a\\b.jpg', 'Invalid path "/a\\\\b.jpg": backslashes are not allowed'],
    ['/a%00.jpg', 'Invalid path "/a%00.jpg": control characters are not allowed'],
    ['/a%0d%0a.jpg', 'Invalid path "/a%0d%0a.jpg": control characters are not allowed'],
    ['/a%7f.jpg', 'Invalid path "/a%7f.jpg": control characters are not allowed'],
    ['/a%c2%80.jpg', 'Invalid path "/a%c2%80.jpg": control characters are not allowed'],
    ['/a%c2%85.jpg', 'Invalid path "/a%c2%85.jpg": control characters are not allowed'],
    ['/a%c2%9f.jpg', 'Invalid path "/a%c2%9f.jpg": control characters are not allowed'],
    ['/a%e2%80%a8.jpg', 'Invalid path "/a%e2%80%a8.jpg": control characters are not allowed'],
    ['/a%e2%80%a9.jpg', 'Invalid path "/a%e2%80%a9.jpg": control characters are not allowed'],
    ['/%252e%252e/b.jpg', 'Invalid path "/%252e%252e/b.jpg": percent-encoding is allowed once, not twice'],
    ['/a%zz.jpg', 'Invalid path "/a%zz.jpg": malformed percent-encoding'],
    ['/a%ed%a0%80.jpg', 'Invalid path "/a%ed%a0%80.jpg": malformed percent-encoding'],
  ])('%s → 400', (path, message) => {
    const error = errorOf(req(path));
    expect(error.status).toBe(400);
    expect(error.code).toBe('IMG_BAD_PATH');
    expect(error.message).toBe(message);
  });

  it('refuses an unpaired surrogate in a raw path', () => {
    expect(errorOf(req('/a\ud800.jpg')).message).toBe(
      'Invalid path "/a\\ud800.jpg": it is not valid Unicode',
    );
  });

  it('refuses a path whose variant key would exceed 1024 bytes (counted in UTF-8)', () => {
    expect(errorOf(req(`/${'a'.repeat(1010)}.jpg`)).message).toMatch(
      /: the variant key would be 1028 bytes, more than 1024$/,
    );
    // 505 × "é" is 505 characters but 1010 bytes.
    expect(errorOf(req(`/${'é'.repeat(505)}.jpg`)).message).toMatch(
      /: the variant key would be 1028 bytes, more than 1024$/,
    );
    expect(keyOf(req(`/${'a'.repeat(1006)}.jpg`))).toHaveLength(1024);
  });
});

describe('Save-Data', () => {
  it('selects the lighter profile for q=auto only', () => {
    expect(keyOf(req('/a.jpg?w=800', { saveData: 'on' }))).toBe('v1/a.jpg/w828.qlite.jpeg');
    expect(keyOf(req('/a.jpg?w=800', { saveData: ' On ' }))).toBe('v1/a.jpg/w828.qlite.jpeg');
    expect(keyOf(req('/a.jpg?w=800', { saveData: 'off' }))).toBe('v1/a.jpg/w828.qauto.jpeg');
    expect(keyOf(req('/a.jpg?q=80', { saveData: 'on' }))).toBe('v1/a.jpg/q80.jpeg');
  });
});

describe('the width ladder', () => {
  it('is 16 … 4096, ascending, dense between 320 and 1440', () => {
    expect(DEFAULT_LADDER[0]).toBe(16);
    expect(DEFAULT_LADDER[DEFAULT_LADDER.length - 1]).toBe(4096);
    expect([...DEFAULT_LADDER].sort((a, b) => a - b)).toEqual(DEFAULT_LADDER);
    expect(DEFAULT_LADDER.filter((n) => n >= 320 && n <= 1440).length).toBeGreaterThanOrEqual(20);
  });

  it('snaps up, never down', () => {
    expect(snapUp(1, DEFAULT_LADDER)).toBe(16);
    expect(snapUp(829, DEFAULT_LADDER)).toBe(900);
    expect(snapUp(4097, DEFAULT_LADDER)).toBeUndefined();
  });

  it('is configuration: a custom ladder and presets change the keys', () => {
    const config = resolveGrammarConfig({
      ladder: [100, 200, 400],
      presets: { card: { width: '150', q: '70' } },
    });
    expect(keyOf(req('/a.jpg?w=150', {}, config))).toBe('v1/a.jpg/w200.qauto.jpeg');
    expect(keyOf(req('/a.jpg?preset=card', {}, config))).toBe('v1/a.jpg/w200.q70.jpeg');
    expect(errorOf(req('/a.jpg?w=401', {}, config)).message).toBe(
      'Invalid width "401": expected an integer from 1 to 400',
    );
  });
});

describe('configuration is validated once, with clear messages', () => {
  it.each([
    [{ version: 'one' }, 'Invalid version "one": expected "v" and digits, e.g. "v1"'],
    [{ ladder: [200, 100] }, 'Invalid ladder: sizes must be ascending, but 200 comes before 100'],
    [{ ladder: [0] }, 'Invalid ladder size 0: expected an integer from 1 to 4096'],
    [{ ladder: [] }, 'Invalid ladder: expected 1 to 64 sizes'],
    [
      { presets: { Big: { w: '100' } } },
      'Invalid preset name "Big": expected lower-case letters, digits, "-" or "_"',
    ],
    [
      { presets: { big: { w: '99999' } } },
      'Invalid preset "big": Invalid width "99999": expected an integer from 1 to 4096',
    ],
    [
      { presets: { big: { zoom: '2' } } },
      'Invalid preset "big": parameter "zoom" cannot be used in a preset',
    ],
    [
      { presets: { big: { preset: 'thumb' } } },
      'Invalid preset "big": parameter "preset" cannot be used in a preset',
    ],
  ])('%j → %s', (partial, message) => {
    expect(() => resolveGrammarConfig(partial as never)).toThrow(message);
  });

  it('bumping the version changes every key', () => {
    const config = resolveGrammarConfig({ version: 'v2' });
    expect(keyOf(req('/a.jpg?w=800', { accept: CHROME_ACCEPT }, config))).toBe('v2/a.jpg/w828.qauto.avif');
  });
});

describe('parseVariantKey (the origin never trusts the edge)', () => {
  it.each([
    'v1/photos/a.jpg/w828.qauto.webp',
    'v1/a.png/w640.h640.fit-cover.q75.png',
    'v1/a.jpg/qlite.avif',
    'v1/dir/sub/été.jpg/h16.q100.jpeg',
  ])('round-trips %s', (key) => {
    const spec = parseVariantKey(key, DEFAULT_GRAMMAR_CONFIG);
    if ('ok' in spec) throw new Error(spec.message);
    expect(buildVariantKey(spec, DEFAULT_GRAMMAR_CONFIG)).toBe(key);
  });

  it('parses every option of a key into the spec', () => {
    expect(parseVariantKey('v1/a.png/w640.h640.fit-cover.q75.png', DEFAULT_GRAMMAR_CONFIG)).toEqual({
      source: 'a.png',
      width: 640,
      height: 640,
      fit: 'cover',
      quality: 75,
      format: 'png',
    });
  });

  it.each([
    ['v2/a.jpg/qauto.jpeg', 'expected it to start with "v1/"'],
    ['v1/qauto.jpeg', 'expected <version>/<original key>/<options>.<format>'],
    ['v1/a.jpg/qauto.gif', 'unknown format "gif": expected one of jpeg, webp, avif, png'],
    ['v1/a.jpg/w800.qauto.jpeg', '800 is not a size of the ladder'],
    ['v1/a.jpg/w828.jpeg', 'the quality option (q<n>, qauto or qlite) is missing'],
    ['v1/a.jpg/qauto.w828.jpeg', 'options are not in canonical form'],
    ['v1/a.jpg/w828.fit-cover.qauto.jpeg', 'options are not in canonical form'],
    ['v1/a.jpg/w828.h600.fit-inside.qauto.jpeg', 'options are not in canonical form'],
    ['v1/a.jpg/q075.jpeg', 'unknown option "q075"'],
    ['v1/a.jpg/zoom2.qauto.jpeg', 'unknown option "zoom2"'],
  ])('refuses %s: %s', (key, why) => {
    const result = parseVariantKey(key, DEFAULT_GRAMMAR_CONFIG);
    expect(result).toMatchObject({ ok: false, status: 400, code: 'IMG_BAD_KEY' });
    expect('message' in result && result.message).toBe(`Invalid variant key ${JSON.stringify(key)}: ${why}`);
  });

  it.each([
    'v1/../a.jpg/qauto.jpeg',
    'v1/a//b.jpg/qauto.jpeg',
    'v1/a\\b.jpg/qauto.jpeg',
    'v1/a%2e.jpg/qauto.jpeg',
  ])('refuses the unsafe source in %s', (key) => {
    expect(parseVariantKey(key, DEFAULT_GRAMMAR_CONFIG)).toMatchObject({
      ok: false,
      status: 400,
      code: 'IMG_BAD_PATH',
    });
  });
});
