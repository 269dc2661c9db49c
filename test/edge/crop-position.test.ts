/**
 * `crop=` and `pos=` at the edge: the grammar's table, presets, signing, and the BUILT bundle
 * (plain in a bare vm and inside workerd, and the KeyValueStore build) giving the same keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_GRAMMAR_CONFIG,
  parseVariantKey,
  resolveGrammarConfig,
} from '../../edge-fn/grammar/index.ts';
import { signUrl } from '../../edge-fn/sign-url.ts';
import type { CfValue } from '../../edge-fn/viewer-handler.ts';
import {
  buildBundle,
  inMemoryCloudFront,
  loadInVm,
  loadKvsBundleInVm,
  startInWorkerd,
  type WorkerdBundle,
} from './bundle.ts';
import { errorOf, keyOf, req } from './helpers.ts';

/** URL → the variant key the edge must make (no Accept: JPEG). */
const KEYS: Array<[string, string]> = [
  // Near edges snap down to the 10 ‰ grid, far edges up: 123→120, 456→450, 223→230, 506→510.
  ['/r.jpg?crop=123,456,100,50&w=828', 'v1/r.jpg/crop-120-450-110-60.w828.qauto.jpeg'],
  ['/r.jpg?crop=0,250,1000,500', 'v1/r.jpg/crop-0-250-1000-500.qauto.jpeg'],
  ['/r.jpg?CROP=0,%20250,%201000,%20500', 'v1/r.jpg/crop-0-250-1000-500.qauto.jpeg'],
  ['/r.jpg?crop=0000,0250,1000,0500', 'v1/r.jpg/crop-0-250-1000-500.qauto.jpeg'],
  ['/r.jpg?crop=990,990,10,10', 'v1/r.jpg/crop-990-990-10-10.qauto.jpeg'],
  ['/r.jpg?crop=999,0,1,1', 'v1/r.jpg/crop-990-0-10-10.qauto.jpeg'],
  // The whole image, asked for or snapped to, is no crop at all: one key with the plain URL.
  ['/r.jpg?crop=0,0,1000,1000', 'v1/r.jpg/qauto.jpeg'],
  ['/r.jpg?crop=5,5,990,990', 'v1/r.jpg/qauto.jpeg'],
  // Options keep their fixed order whatever the query's.
  [
    '/r.jpg?q=70&pos=top&fit=cover&h=320&w=320&crop=0,0,500,500',
    'v1/r.jpg/crop-0-0-500-500.w320.h320.fit-cover.pos-top.q70.jpeg',
  ],
  ['/r.jpg?w=640&h=480&fit=cover&pos=attention', 'v1/r.jpg/w640.h480.fit-cover.pos-attention.qauto.jpeg'],
  ['/r.jpg?w=640&h=480&fit=cover&position=ENTROPY', 'v1/r.jpg/w640.h480.fit-cover.pos-entropy.qauto.jpeg'],
  [
    '/r.jpg?w=640&h=480&fit=contain&position=Top-Left',
    'v1/r.jpg/w640.h480.fit-contain.pos-top-left.qauto.jpeg',
  ],
  // center is the default: accepted anywhere, never in the key.
  ['/r.jpg?w=640&h=480&fit=cover&pos=center', 'v1/r.jpg/w640.h480.fit-cover.qauto.jpeg'],
  ['/r.jpg?pos=center', 'v1/r.jpg/qauto.jpeg'],
  // Repeating a crop with values that snap alike is not a conflict.
  ['/r.jpg?crop=121,0,100,100&crop=125,0,96,100', 'v1/r.jpg/crop-120-0-110-100.qauto.jpeg'],
];

describe('crop= and pos= in the grammar', () => {
  it.each(KEYS)('%s → %s', (url, key) => {
    const result = req(url);
    expect(keyOf(result)).toBe(key);
    // The origin accepts every key the edge writes, and reads back the same spec.
    if (result.ok) expect(parseVariantKey(result.key, DEFAULT_GRAMMAR_CONFIG)).toEqual(result.spec);
  });

  it('refuses crops outside the image and positions that nothing anchors, naming what is allowed', () => {
    for (const bad of [
      '',
      '1,2,3',
      '1,2,3,4,5',
      '0,0,1001,10',
      '-1,0,10,10',
      '0,0,0,10',
      '10,10,991,10',
      'a,b,c,d',
    ])
      expect(errorOf(req(`/r.jpg?crop=${encodeURIComponent(bad)}`)).message).toMatch(
        /^Invalid crop ".*": expected x,y,w,h in per-mille of the image/,
      );
    expect(errorOf(req('/r.jpg?w=640&h=480&fit=fill&pos=top')).message).toContain(
      'it needs w, h and fit=cover',
    );
    expect(errorOf(req('/r.jpg?w=640&h=480&fit=cover&pos=north')).message).toContain(
      'expected one of top, right',
    );
  });

  it('lets a preset carry a position or a crop (canonicalised when the config is read)', () => {
    const config = resolveGrammarConfig({
      presets: {
        avatar: { w: '256', h: '256', fit: 'cover', pos: 'Attention' },
        header: { crop: '0,0,1000,333', w: '1080' },
      },
    });
    expect(keyOf(req('/p.jpg?preset=avatar', {}, config))).toBe(
      'v1/p.jpg/w256.h256.fit-cover.pos-attention.qauto.jpeg',
    );
    expect(keyOf(req('/p.jpg?preset=header', {}, config))).toBe(
      'v1/p.jpg/crop-0-0-1000-340.w1080.qauto.jpeg',
    );
    expect(errorOf(req('/p.jpg?preset=avatar&pos=top', {}, config)).message).toBe(
      'Conflicting values for position: "top" and "attention" (the second from preset "avatar")',
    );
    expect(() => resolveGrammarConfig({ presets: { bad: { crop: '0,0,2000,10' } } })).toThrow(
      /Invalid preset "bad": Invalid crop "0,0,2000,10"/,
    );
  });
});

/** A URL as the viewer sends it → CloudFront's event (values still percent-encoded). */
function event(url: string): unknown {
  const q = url.indexOf('?');
  const querystring: Record<string, CfValue> = {};
  for (const part of q < 0 ? [] : url.slice(q + 1).split('&')) {
    const eq = part.indexOf('=');
    querystring[part.slice(0, eq)] = { value: part.slice(eq + 1) };
  }
  return {
    version: '1.0',
    request: { method: 'GET', uri: q < 0 ? url : url.slice(0, q), querystring, headers: {} },
  };
}

const BUNDLE_CASES = KEYS.filter(([url]) => !url.includes('&crop='));

describe('crop= and pos= in the built bundle', () => {
  let worker: WorkerdBundle;
  let plain: string;
  beforeAll(async () => {
    plain = await buildBundle({ secrets: [] });
    worker = await startInWorkerd(plain);
  });
  afterAll(async () => {
    await worker?.dispose();
  });

  it.each(BUNDLE_CASES)('bare vm and workerd: %s → %s', async (url, key) => {
    expect(loadInVm(plain)(event(url))).toMatchObject({ uri: `/${key}`, querystring: {} });
    expect(await worker.run(event(url))).toMatchObject({ uri: `/${key}`, querystring: {} });
  });

  it('a bad crop is a 400 from the bundle, with the grammar message', () => {
    const out = loadInVm(plain)(event('/r.jpg?crop=0,0,2000,10')) as {
      statusCode: number;
      body: { data: string };
    };
    expect(out.statusCode).toBe(400);
    expect(out.body.data).toMatch(/^Invalid crop "0,0,2000,10": expected x,y,w,h/);
  });

  it('signed (KeyValueStore build): signUrl signs a crop and a position, and the edge accepts exactly that URL', async () => {
    const secret = 'kvs-secret-0123456789abcdef';
    const code = await buildBundle({ secrets: [] }, 'kvs');
    const handler = loadKvsBundleInVm(
      code,
      inMemoryCloudFront(new Map([['litepix-signing-secrets', JSON.stringify([secret])]])),
    );
    const url = signUrl(
      '/r.jpg',
      { crop: '0,250,1000,500', w: 640, h: 480, fit: 'cover', pos: 'bottom' },
      secret,
    );
    expect(url).toContain('crop=0%2C250%2C1000%2C500');
    expect(await handler(event(url))).toMatchObject({
      uri: '/v1/r.jpg/crop-0-250-1000-500.w640.h480.fit-cover.pos-bottom.qauto.jpeg',
    });
    const tampered = url.replace('crop=0%2C250', 'crop=0%2C260');
    expect(await handler(event(tampered))).toMatchObject({ statusCode: 403 });
  });
});
