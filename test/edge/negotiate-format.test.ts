import { describe, expect, it } from 'vitest';
import { DEFAULT_GRAMMAR_CONFIG, parseAccept, resolveGrammarConfig } from '../../edge-fn/grammar/index.ts';
import { CHROME_ACCEPT, keyOf, req, SAFARI_OLD_ACCEPT, WEBP_ONLY_ACCEPT } from './helpers.ts';

const format = (accept: string | undefined, path = '/a.jpg', config = DEFAULT_GRAMMAR_CONFIG) => {
  const key = keyOf(req(path, accept === undefined ? {} : { accept }, config));
  return key.slice(key.lastIndexOf('.') + 1);
};

describe('f=auto negotiates from Accept', () => {
  it.each([
    ['Chrome', CHROME_ACCEPT, 'avif'],
    ['Firefox', 'image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5', 'avif'],
    ['a WebP-only browser', WEBP_ONLY_ACCEPT, 'webp'],
    ['old Safari (image/* only)', SAFARI_OLD_ACCEPT, 'jpeg'],
    ['curl (*/*)', '*/*', 'jpeg'],
    ['image/*', 'image/*', 'jpeg'],
    ['AVIF refused with q=0', 'image/avif;q=0,image/webp,*/*', 'webp'],
    ['AVIF refused with q=0.000', 'image/avif; q=0.000, image/webp', 'webp'],
    ['both refused', 'image/avif;q=0,image/webp;q=0,*/*', 'jpeg'],
    ['the client prefers WebP by q', 'image/avif;q=0.5,image/webp;q=0.9', 'webp'],
    ['equal q: the smaller format wins', 'image/webp;q=0.8,image/avif;q=0.8', 'avif'],
    ['case and spaces', '  IMAGE/AVIF ; Q=1 , */*', 'avif'],
    ['an invalid q-value drops the entry', 'image/avif;q=2,image/webp;q=abc,*/*', 'jpeg'],
    ['an empty header', '', 'jpeg'],
    ['garbage', ';;;,,,=;q', 'jpeg'],
  ])('%s → %s', (_name, accept, expected) => {
    expect(format(accept)).toBe(expected);
  });

  it('a missing Accept header gets the legacy format', () => {
    expect(format(undefined)).toBe('jpeg');
  });

  it.each([
    ['/a.png', 'png'],
    ['/a.GIF', 'png'],
    ['/a.webp', 'png'],
    ['/a.avif', 'png'],
    ['/a.jpeg', 'jpeg'],
    ['/a.tif', 'jpeg'],
    ['/noext', 'jpeg'],
    ['/dir.png/noext', 'jpeg'],
    ['/.png', 'jpeg'],
  ])('the legacy format for %s is %s', (path, expected) => {
    expect(format(SAFARI_OLD_ACCEPT, path)).toBe(expected);
  });

  it('an explicit f= wins over Accept', () => {
    expect(keyOf(req('/a.jpg?f=jpeg', { accept: CHROME_ACCEPT }))).toBe('v1/a.jpg/qauto.jpeg');
    expect(keyOf(req('/a.jpg?f=avif', { accept: '*/*' }))).toBe('v1/a.jpg/qauto.avif');
  });

  it('autoFormats can switch AVIF off', () => {
    const config = resolveGrammarConfig({ autoFormats: ['webp'] });
    expect(format(CHROME_ACCEPT, '/a.jpg', config)).toBe('webp');
  });

  it('looks at no more than 4096 characters of an enormous header', () => {
    const huge = `${'text/html;q=0.1,'.repeat(1000)}image/avif`;
    expect(format(huge)).toBe('jpeg');
    expect(format(`image/webp,${huge}`)).toBe('webp');
  });
});

describe('parseAccept', () => {
  it('returns lower-cased media ranges with q-values', () => {
    expect(parseAccept('image/AVIF;q=0.5, image/webp, */*;q=0.1;level=1')).toEqual([
      { type: 'image/avif', q: 0.5 },
      { type: 'image/webp', q: 1 },
      { type: '*/*', q: 0.1 },
    ]);
  });
});
