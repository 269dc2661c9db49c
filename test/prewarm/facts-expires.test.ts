/** `--expires`: the rewritten URLs (plain, map and facts) carry `exp=`, signed, and the edge's grammar honours it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GRAMMAR_CONFIG, normalizeRequest } from '../../edge-fn/grammar/index.ts';
import { hmacSha256Base64Url } from '../../edge-fn/sign-url.ts';
import { readPrewarmConfig } from '../../prewarm/config.ts';
import { parseFacts } from '../../prewarm/facts.ts';
import { fixture } from '../helpers/images.ts';
import { items, type PrewarmStack, runAll, startPrewarmStack } from './helpers.ts';

const SECRET = 'a-signing-secret-of-32-characters';
const signing = { secrets: [SECRET], hmac: hmacSha256Base64Url };

/** The edge's answer to a rewritten URL at `now` (Unix seconds). */
function edge(url: string, now: number) {
  const u = new URL(url);
  const params = [...u.searchParams].map(([name, value]) => ({ name, value }));
  return normalizeRequest({ path: u.pathname, params, now }, DEFAULT_GRAMMAR_CONFIG, signing);
}

describe('pre-warm --expires (real s3rver)', () => {
  let stack: PrewarmStack;
  beforeAll(async () => {
    stack = await startPrewarmStack();
    await stack.put('photos/hats.jpg', fixture('kodim03-q95.jpg'), 'image/jpeg');
  });
  afterAll(() => stack?.stop());

  it.each([
    ['preset', false],
    ['map', false],
    ['preset', true],
  ] as const)(
    'rewrite %s (facts: %s): every URL expires an hour after the run, signed',
    async (rewrite, facts) => {
      const p = stack.prewarmer({
        presets: ['thumb', 'mobile'],
        formats: ['webp'],
        rewrite,
        facts,
        signingSecret: SECRET,
        expiresSeconds: 3600,
      });
      const before = Math.floor(Date.now() / 1000);
      const { results } = await runAll(p, items({ cover: 'photos/hats.jpg' }));
      const after = Math.ceil(Date.now() / 1000);
      const cover = (results[0]?.unit as { cover: unknown } | undefined)?.cover;
      const urls =
        typeof cover === 'string'
          ? [cover]
          : facts
            ? (() => {
                const f = parseFacts(cover);
                return [f.url, ...Object.values(f.presets).map((x) => x.url)];
              })()
            : Object.values(cover as Record<string, string>);
      expect(urls.length).toBeGreaterThan(0);
      for (const url of urls) {
        const exp = Number(new URL(url).searchParams.get('exp'));
        expect(exp).toBeGreaterThanOrEqual(before + 3600);
        expect(exp).toBeLessThanOrEqual(after + 3600);
        expect(new URL(url).searchParams.get('s')).toMatch(/^[A-Za-z0-9_-]{43}$/);
        // The edge serves it until exp (plus its skew allowance), refuses it after, and refuses
        // a link whose exp was pushed out (exp is inside the signature).
        expect(edge(url, exp).ok).toBe(true);
        expect(edge(url, exp + 3600)).toMatchObject({ ok: false, status: 403, code: 'IMG_EXPIRED' });
        const pushed = new URL(url);
        pushed.searchParams.set('exp', String(exp + 86_400));
        expect(edge(pushed.href, exp)).toMatchObject({ ok: false, status: 403 });
      }
    },
  );

  it('reads --expires as a duration and refuses anything else, naming what is allowed', () => {
    expect(readPrewarmConfig({ LITEPIX_PREWARM_EXPIRES: '7d' }).expiresSeconds).toBe(7 * 86_400);
    expect(readPrewarmConfig({ LITEPIX_PREWARM_EXPIRES: '90s' }).expiresSeconds).toBe(90);
    expect(readPrewarmConfig({}).expiresSeconds).toBeUndefined();
    for (const bad of ['1 week', '0h', '-1h', '1.5h'])
      expect(() => readPrewarmConfig({ LITEPIX_PREWARM_EXPIRES: bad })).toThrow(
        `Invalid LITEPIX_PREWARM_EXPIRES ${JSON.stringify(bad)}: expected a whole number and s, m, h or d (30s, 15m, 1h, 7d)`,
      );
  });
});
