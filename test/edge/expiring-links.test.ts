/**
 * Expiring links (`exp=<Unix seconds>`, inside the signed message, never in the key): the grammar
 * with an injected clock, the BUILT bundle in a bare vm with a fixed `Date.now()` and a literal
 * CloudFront event, and inside workerd (miniflare), where the clock is the real one, so the exp
 * values there are far in the past or the future of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXP_SKEW_SECONDS } from '../../edge-fn/grammar/config.ts';
import { resolveGrammarConfig } from '../../edge-fn/grammar/index.ts';
import { expiresIn, parseDuration, signUrl } from '../../edge-fn/sign-url.ts';
import {
  buildBundle,
  fixture,
  type Handler,
  loadInVm,
  startInWorkerd,
  type WorkerdBundle,
} from './bundle.ts';
import { errorOf, keyOf, req } from './helpers.ts';

/** 2026-01-01T00:00:00Z, the fixed clock of these tests. */
const NOW = 1767225600;
const SECRET = 'edge-secret-0123456789';
/** The literal event's exp: NOW + 1 h (test/fixtures/events/viewer-request-signed-expiring.json). */
const FIXTURE_EXP = NOW + 3600;

describe('exp in the grammar (clock injected)', () => {
  it(`serves a link until ${EXP_SKEW_SECONDS} s after exp, and the key never holds exp`, () => {
    expect(keyOf(req(`/a.jpg?w=800&exp=${NOW + 3600}`, { now: NOW }))).toBe('v1/a.jpg/w828.qauto.jpeg');
    expect(keyOf(req(`/a.jpg?w=800&exp=${NOW}`, { now: NOW }))).toBe('v1/a.jpg/w828.qauto.jpeg');
    expect(keyOf(req(`/a.jpg?w=800&exp=${NOW - EXP_SKEW_SECONDS}`, { now: NOW }))).toBe(
      'v1/a.jpg/w828.qauto.jpeg',
    );
  });

  it('refuses an expired link with 403 IMG_EXPIRED saying until when it was valid', () => {
    const error = errorOf(req(`/a.jpg?w=800&exp=${NOW - 31}`, { now: NOW }));
    expect(error).toMatchObject({ status: 403, code: 'IMG_EXPIRED' });
    expect(error.message).toBe(
      `Expired link: it was valid until exp=${NOW - 31} (2025-12-31T23:59:29.000Z); ask for a new one`,
    );
  });

  it('uses the real clock when none is given', () => {
    const now = Math.floor(Date.now() / 1000);
    expect(req(`/a.jpg?exp=${now + 3600}`).ok).toBe(true);
    expect(errorOf(req(`/a.jpg?exp=${now - 3600}`)).code).toBe('IMG_EXPIRED');
  });

  it.each(['soon', '-5', '1.5', '', '1e9', '9999999999999'])('refuses exp=%j with 400', (value) => {
    const error = errorOf(req(`/a.jpg?exp=${encodeURIComponent(value)}`, { now: NOW }));
    expect(error).toMatchObject({ status: 400, code: 'IMG_BAD_PARAM' });
    expect(error.message).toBe(
      `Invalid exp ${JSON.stringify(value)}: expected a time in Unix seconds, e.g. 1767225600`,
    );
  });

  it('cannot be set by a preset', () => {
    expect(() => resolveGrammarConfig({ presets: { x: { exp: '1' } } })).toThrow(
      'Invalid preset "x": parameter "exp" cannot be used in a preset',
    );
  });
});

describe('signUrl / expiresIn / parseDuration', () => {
  it('signs exp with the other parameters, so changing it breaks the signature', () => {
    const url = signUrl('/photos/a.jpg', { w: 800, exp: expiresIn(3600, NOW * 1000) }, SECRET);
    expect(url).toBe(fixtureUrl());
    expect(expiresIn(0.5, NOW * 1000 + 200)).toBe(NOW + 1);
    expect(() => expiresIn(0)).toThrow('Invalid expiry 0: expected a positive number of seconds');
  });

  it.each([
    ['30s', 30],
    ['15m', 900],
    ['1h', 3600],
    ['7d', 604800],
  ])('parses %s as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['1', '0s', '-1h', '1.5h', '1w', 'h', ''])('refuses the duration %j', (text) => {
    expect(() => parseDuration(text)).toThrow(
      `Invalid duration ${JSON.stringify(text)}: expected a positive whole number and a unit, s, m, h or d (e.g. 30s, 15m, 1h, 7d)`,
    );
  });
});

function fixtureUrl(): string {
  const q = (
    fixture('viewer-request-signed-expiring') as {
      request: { querystring: Record<string, { value: string }> };
    }
  ).request.querystring;
  return `/photos/a.jpg?exp=${q.exp?.value}&w=${q.w?.value}&s=${q.s?.value}`;
}

type Answer = { statusCode?: number; uri?: string; headers?: Record<string, { value: string }> };

describe('the built bundle in a bare vm with a fixed clock', () => {
  let signedCode: string;
  let unsignedCode: string;
  beforeAll(async () => {
    signedCode = await buildBundle({ secrets: [SECRET] });
    unsignedCode = await buildBundle({ secrets: [] });
  });
  const at = (code: string, seconds: number, signed = true): Handler =>
    loadInVm(code, signed, seconds * 1000);

  it('serves the literal signed event before its exp (+ skew) and refuses it after, with no-store', () => {
    const event = () => fixture('viewer-request-signed-expiring');
    expect(at(signedCode, NOW)(event())).toMatchObject({
      uri: '/v1/photos/a.jpg/w828.qauto.avif',
      querystring: {},
    });
    expect(at(signedCode, FIXTURE_EXP + EXP_SKEW_SECONDS)(event())).toMatchObject({
      uri: '/v1/photos/a.jpg/w828.qauto.avif',
    });
    const late = at(signedCode, FIXTURE_EXP + EXP_SKEW_SECONDS + 1)(event()) as Answer;
    expect(late).toMatchObject({
      statusCode: 403,
      statusDescription: 'Forbidden',
      headers: { 'cache-control': { value: 'no-store' }, 'x-litepix-error': { value: 'IMG_EXPIRED' } },
      body: {
        encoding: 'text',
        data: `Expired link: it was valid until exp=${FIXTURE_EXP} (2026-01-01T01:00:00.000Z); ask for a new one\n`,
      },
    });
  });

  it('refuses a lengthened exp as a bad signature, and a malformed one as 403 before the signature holds', () => {
    const longer = fixture('viewer-request-signed-expiring') as {
      request: { querystring: Record<string, { value: string }> };
    };
    (longer.request.querystring.exp as { value: string }).value = String(FIXTURE_EXP + 86400);
    expect((at(signedCode, NOW)(longer) as Answer).headers?.['x-litepix-error']?.value).toBe(
      'IMG_BAD_SIGNATURE',
    );
    const malformed = fixture('viewer-request-signed-expiring') as typeof longer;
    (malformed.request.querystring.exp as { value: string }).value = 'tomorrow';
    expect(at(signedCode, NOW)(malformed)).toMatchObject({
      statusCode: 403,
      headers: { 'x-litepix-error': { value: 'IMG_BAD_SIGNATURE' } },
    });
    // Signed as malformed: the signature holds, so the 400 says what is wrong.
    const url = signUrl('/photos/a.jpg', { w: 800, exp: 'tomorrow' }, SECRET);
    const s = url.slice(url.indexOf('s=') + 2);
    const event = {
      request: {
        method: 'GET',
        uri: '/photos/a.jpg',
        headers: {},
        querystring: { w: { value: '800' }, exp: { value: 'tomorrow' }, s: { value: s } },
      },
    };
    expect(at(signedCode, NOW)(event)).toMatchObject({
      statusCode: 400,
      headers: { 'x-litepix-error': { value: 'IMG_BAD_PARAM' } },
    });
  });

  it('judges exp in an unsigned build too', () => {
    const event = (exp: number) => ({
      request: { method: 'GET', uri: '/a.jpg', headers: {}, querystring: { exp: { value: String(exp) } } },
    });
    expect(at(unsignedCode, NOW, false)(event(NOW + 60))).toMatchObject({ uri: '/v1/a.jpg/qauto.jpeg' });
    expect(at(unsignedCode, NOW, false)(event(NOW - 60))).toMatchObject({ statusCode: 403 });
  });
});

describe('the built bundle inside workerd (miniflare), real clock', () => {
  let worker: WorkerdBundle;
  beforeAll(async () => {
    worker = await startInWorkerd(await buildBundle({ secrets: [SECRET] }), true);
  });
  afterAll(async () => {
    await worker?.dispose();
  });

  const run = async (event: unknown) => (await worker.run(event)) as Answer;

  it('refuses the literal event (exp in 2026-01-01, long past for this clock) and serves one a year ahead', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(now).toBeGreaterThan(FIXTURE_EXP + 3600);
    expect(await run(fixture('viewer-request-signed-expiring'))).toMatchObject({
      statusCode: 403,
      headers: { 'cache-control': { value: 'no-store' }, 'x-litepix-error': { value: 'IMG_EXPIRED' } },
    });
    const exp = now + 365 * 86400;
    const url = signUrl('/photos/a.jpg', { w: 800, exp }, SECRET);
    const s = url.slice(url.indexOf('s=') + 2);
    const event = fixture('viewer-request-signed-expiring') as {
      request: { querystring: Record<string, { value: string }> };
    };
    event.request.querystring.exp = { value: String(exp) };
    event.request.querystring.s = { value: s };
    expect(await run(event)).toMatchObject({ uri: '/v1/photos/a.jpg/w828.qauto.avif' });
  });
});

describe('litepix url --expires', () => {
  it('turns a duration into exp and refuses a malformed one as a usage error', async () => {
    const { expiresAfter } = await import('../../cli/url.ts');
    expect(expiresAfter('1h', NOW * 1000)).toBe(NOW + 3600);
    expect(() => expiresAfter('soon', NOW * 1000)).toThrow(/^url: --expires: Invalid duration "soon"/);
  });
});
