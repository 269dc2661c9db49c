/**
 * Signed mode through the BUILT bundle (bare vm, the runtime's `crypto` only): every way of
 * getting a signature wrong is a 403 answered at the edge, and a rotation keeps old URLs valid
 * while both secrets are baked in.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { signUrl } from '../../edge-fn/sign-url.ts';
import type { CfValue } from '../../edge-fn/viewer-handler.ts';
import { buildBundle, type Handler, loadInVm } from './bundle.ts';

const OLD = 'old-secret-0123456789abcdef';
const NEW = 'new-secret-0123456789abcdef';

let rotating: Handler; // both secrets: the middle of a rotation
let current: Handler; // the new secret only: the rotation is finished

beforeAll(async () => {
  rotating = loadInVm(await buildBundle({ secrets: [NEW, OLD] }), true);
  current = loadInVm(await buildBundle({ secrets: [NEW] }), true);
});

/** A URL as the viewer sends it → CloudFront's event (names and values as sent, still encoded). */
function event(url: string): unknown {
  const q = url.indexOf('?');
  const querystring: Record<string, CfValue> = {};
  if (q >= 0) {
    for (const part of url.slice(q + 1).split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      const value = eq < 0 ? '' : part.slice(eq + 1);
      const seen = querystring[name];
      if (!seen) querystring[name] = { value };
      else {
        seen.multiValue ??= [{ value: seen.value }];
        seen.multiValue.push({ value });
      }
    }
  }
  return {
    version: '1.0',
    request: {
      method: 'GET',
      uri: q < 0 ? url : url.slice(0, q),
      querystring,
      headers: { accept: { value: 'image/webp,*/*' } },
    },
  };
}

function answer(handler: Handler, url: string): { status: number; code?: string; uri?: string } {
  const out = handler(event(url)) as {
    statusCode?: number;
    uri?: string;
    headers: Record<string, { value: string }>;
  };
  if (out.statusCode === undefined) return { status: 200, uri: out.uri };
  return { status: out.statusCode, code: out.headers['x-litepix-error']?.value };
}

const sig = (url: string) => url.slice(url.lastIndexOf('s=') + 2);
const withSig = (url: string, s: string) => `${url.slice(0, url.lastIndexOf('s=') + 2)}${s}`;

describe('signed URLs through the built bundle', () => {
  const good = signUrl('/photos/a.jpg', { w: 800, q: 75 }, NEW);

  it('serves a correctly signed URL, whatever the order of its parameters', () => {
    expect(answer(rotating, good)).toEqual({ status: 200, uri: '/v1/photos/a.jpg/w828.q75.webp' });
    // Same parameters, other order and aliases: the signed message is canonical.
    const reordered = `/photos/a.jpg?s=${sig(good)}&quality=75&WIDTH=800`;
    expect(answer(rotating, reordered)).toEqual({ status: 200, uri: '/v1/photos/a.jpg/w828.q75.webp' });
  });

  const refused: Array<[string, string]> = [
    ['unsigned', good.replace(/&s=.*$/, '')],
    ['an empty signature', withSig(good, '')],
    ['a truncated signature (one character short)', good.slice(0, -1)],
    ['a truncated signature (half)', withSig(good, sig(good).slice(0, 21))],
    [
      'a forged signature (first character changed)',
      withSig(good, `${sig(good)[0] === 'A' ? 'B' : 'A'}${sig(good).slice(1)}`),
    ],
    ['a signature with its characters re-ordered', withSig(good, [...sig(good)].reverse().join(''))],
    ['a signature rotated by one character', withSig(good, `${sig(good).slice(1)}${sig(good)[0]}`)],
    ['a signature in the wrong case', withSig(good, sig(good).toUpperCase())],
    ['a signature in standard base64', withSig(good, sig(good).replaceAll('-', '+').replaceAll('_', '/'))],
    ['a signature with trailing garbage', withSig(good, `${sig(good)}AA`)],
    ['a valid signature plus an extra parameter', `${good}&f=avif`],
    ['a valid signature plus an unknown parameter', `${good}&utm_source=x`],
    ['a valid signature plus a repeated parameter', `${good}&w=800`],
    ['a valid signature with a value changed', good.replace('w=800', 'w=0800')],
    ['a valid signature moved to another path', good.replace('/photos/a.jpg', '/photos/b.jpg')],
    ['a valid signature on the path in other case', good.replace('/photos/a.jpg', '/Photos/a.jpg')],
    ['two different signatures', `${good}&s=${sig(signUrl('/photos/a.jpg', {}, NEW))}`],
    [
      'a signature made with an unknown secret',
      signUrl('/photos/a.jpg', { w: 800, q: 75 }, 'attacker-secret-0123456789'),
    ],
  ];

  it.each(refused)('answers 403 to %s', (_name, url) => {
    expect(answer(rotating, url)).toEqual({ status: 403, code: 'IMG_BAD_SIGNATURE' });
  });

  it('answers 403 to any single-character change of a valid signature (500 random edits)', () => {
    const s = sig(good);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    fc.assert(
      fc.property(fc.nat({ max: s.length - 1 }), fc.constantFrom(...alphabet), (at, ch) => {
        fc.pre(s[at] !== ch);
        const forged = `${s.slice(0, at)}${ch}${s.slice(at + 1)}`;
        expect(answer(rotating, withSig(good, forged)).status).toBe(403);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps URLs signed with the old secret valid while both secrets are configured', () => {
    const old = signUrl('/photos/a.jpg', { w: 800, q: 75 }, OLD);
    expect(answer(rotating, old)).toEqual({ status: 200, uri: '/v1/photos/a.jpg/w828.q75.webp' });
    expect(answer(rotating, good).status).toBe(200);
    // Rotation finished (old secret removed): the old URL is refused, the new one still served.
    expect(answer(current, old)).toEqual({ status: 403, code: 'IMG_BAD_SIGNATURE' });
    expect(answer(current, good).status).toBe(200);
  });

  it('checks the signature before anything else: an unsigned bad request learns nothing', () => {
    const unsigned = [
      '/photos/a.jpg?w=abc', // a bad value
      '/photos/../a.jpg?w=1', // a bad path
      '/photos/../a.jpg?w=1&s=x', // a bad path with a made-up signature
      '/photos/%E0%A4%A.jpg', // malformed percent-encoding in the path
      '/photos/a.jpg?w=%E0%A4%A', // malformed percent-encoding in a value
      `/photos/a.jpg?${Array.from({ length: 20 }, (_, i) => `x${i}=1`).join('&')}`, // > 16 parameters
      `/photos/a.jpg?${Array.from({ length: 20 }, (_, i) => `x${i}=1`).join('&')}&s=${sig(good)}`,
    ];
    for (const url of unsigned) {
      expect(answer(rotating, url), url).toEqual({ status: 403, code: 'IMG_BAD_SIGNATURE' });
    }
  });

  it('judges the path and parameters once the signature is valid', () => {
    // A backend may sign what the grammar then refuses: that is a 400 naming the fault.
    const badValue = signUrl('/photos/a.jpg', { w: 'abc' }, NEW);
    expect(answer(rotating, badValue)).toEqual({ status: 400, code: 'IMG_BAD_PARAM' });
  });
});
