import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GRAMMAR_CONFIG, type Signing, signingMessage } from '../../edge-fn/grammar/index.ts';
import { hmacSha256Base64Url, signUrl } from '../../edge-fn/sign-url.ts';
import { errorOf, keyOf, req } from './helpers.ts';

const OLD = 'old-secret-0123456789abcdef';
const NEW = 'new-secret-0123456789abcdef';
const signing = (secrets: string[]): Signing => ({ secrets, hmac: hmacSha256Base64Url });
const signed = (url: string, secrets = [NEW]) => req(url, {}, DEFAULT_GRAMMAR_CONFIG, signing(secrets));

describe('signed URLs', () => {
  it('signUrl writes short names in sorted order and a base64url signature without padding', () => {
    const url = signUrl('/photos/a.jpg', { width: 800, q: 'auto' }, NEW);
    expect(url).toMatch(/^\/photos\/a\.jpg\?q=auto&w=800&s=[A-Za-z0-9_-]{43}$/);
    const expected = createHmac('sha256', NEW).update('/photos/a.jpg?q=auto&w=800').digest('base64url');
    expect(url.endsWith(`s=${expected}`)).toBe(true);
  });

  it('signUrl keeps the origin of an absolute URL and encodes the key', () => {
    const url = signUrl('https://cdn.example.com/photos/my%20pic.jpg', { w: 400 }, NEW);
    expect(url).toMatch(/^https:\/\/cdn\.example\.com\/photos\/my%20pic\.jpg\?w=400&s=/);
    expect(keyOf(signed(url.slice('https://cdn.example.com'.length)))).toBe(
      'v1/photos/my pic.jpg/w414.qauto.jpeg',
    );
  });

  it('accepts a valid signature whatever the parameter order and aliases', () => {
    const url = signUrl('/a.jpg', { w: 800, f: 'webp' }, NEW);
    const s = url.slice(url.indexOf('s='));
    expect(keyOf(signed(url))).toBe('v1/a.jpg/w828.qauto.webp');
    expect(keyOf(signed(`/a.jpg?${s}&w=800&f=webp`))).toBe('v1/a.jpg/w828.qauto.webp');
    expect(keyOf(signed(`/a.jpg?format=webp&${s}&WIDTH=800`))).toBe('v1/a.jpg/w828.qauto.webp');
  });

  it('accepts padded signatures too', () => {
    const url = signUrl('/a.jpg', {}, NEW);
    expect(keyOf(signed(`${url}=`))).toBe('v1/a.jpg/qauto.jpeg');
  });

  it.each([
    [
      'missing',
      (u: string) => u.replace(/[?&]s=[^&]*/, ''),
      'Missing signature: this CDN only serves signed URLs (parameter "s")',
    ],
    [
      'forged',
      (u: string) => u.replace(/s=.(.*)$/, 's=A$1'),
      'Invalid signature: it does not match the path and parameters',
    ],
    [
      'truncated',
      (u: string) => u.slice(0, -3),
      'Invalid signature: it does not match the path and parameters',
    ],
    [
      'empty',
      (u: string) => u.replace(/s=.*$/, 's='),
      'Invalid signature: it does not match the path and parameters',
    ],
    [
      'with an extra parameter',
      (u: string) => `${u}&h=100`,
      'Invalid signature: it does not match the path and parameters',
    ],
    [
      'with an unknown extra parameter',
      (u: string) => `${u}&utm=1`,
      'Invalid signature: it does not match the path and parameters',
    ],
    [
      'with a changed value',
      (u: string) => u.replace('w=800', 'w=801'),
      'Invalid signature: it does not match the path and parameters',
    ],
    [
      'for another path',
      (u: string) => u.replace('/a.jpg', '/b.jpg'),
      'Invalid signature: it does not match the path and parameters',
    ],
    ['given twice, differently', (u: string) => `${u}&s=x`, 'Invalid signature: "s" is given twice'],
  ])('refuses a %s signature with 403', (_name, mutate, message) => {
    const url = mutate(signUrl('/a.jpg', { w: 800 }, NEW));
    const error = errorOf(signed(url));
    expect(error).toMatchObject({ status: 403, code: 'IMG_BAD_SIGNATURE', message });
  });

  it('checks the signature before anything else about the parameters', () => {
    expect(errorOf(signed('/a.jpg?w=abc')).status).toBe(403);
  });

  it('keeps old URLs valid while both secrets are configured (rotation)', () => {
    const oldUrl = signUrl('/a.jpg', { w: 800 }, OLD);
    const newUrl = signUrl('/a.jpg', { w: 800 }, NEW);
    expect(keyOf(signed(oldUrl, [NEW, OLD]))).toBe('v1/a.jpg/w828.qauto.jpeg');
    expect(keyOf(signed(newUrl, [NEW, OLD]))).toBe('v1/a.jpg/w828.qauto.jpeg');
    expect(errorOf(signed(oldUrl, [NEW])).status).toBe(403);
  });

  it('still validates parameters after a good signature', () => {
    const url = signUrl('/a.jpg', { w: 'abc' }, NEW);
    expect(errorOf(signed(url))).toMatchObject({
      status: 400,
      message: 'Invalid width "abc": expected an integer from 1 to 4096',
    });
  });

  it('the signed message is the canonical path and sorted parameters', () => {
    expect(
      signingMessage('photos/my pic.jpg', [
        { name: 'WIDTH', value: '800' },
        { name: 'f', value: 'webp' },
      ]),
    ).toBe('/photos/my%20pic.jpg?f=webp&w=800');
    expect(signingMessage('a.jpg', [{ name: 's', value: 'x' }])).toBe('/a.jpg');
  });

  it('signUrl refuses what the edge would refuse', () => {
    expect(() => signUrl('/a/../b.jpg', {}, NEW)).toThrow('"." and ".." segments are not allowed');
    expect(() => signUrl('/a.jpg', { zoom: 2 }, NEW)).toThrow('Unknown parameter "zoom"');
  });
});
