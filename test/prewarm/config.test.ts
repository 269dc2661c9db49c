import { describe, expect, it } from 'vitest';
import { readPrewarmConfig } from '../../prewarm/config.ts';

describe('pre-warm configuration', () => {
  it('has documented defaults', () => {
    const c = readPrewarmConfig({});
    expect(c).toMatchObject({
      originalsBucket: 'litepix-originals',
      variantsBucket: 'litepix-variants',
      cdnBase: 'http://127.0.0.1:8080',
      distributionId: undefined,
      presets: ['thumb', 'mobile', 'full'],
      formats: [],
      rewrite: 'preset',
      rewritePreset: 'mobile',
      attempts: 4,
      window: 50,
      verifyCdn: false,
      signingSecret: undefined,
      selectors: [],
      maxUnitDepth: 64,
      ingest: {
        hosts: [],
        allowAddresses: [],
        maxBytes: 20 * 1024 * 1024,
        timeoutMs: 10_000,
        maxRedirects: 3,
      },
    });
    expect(c.concurrency).toBeGreaterThanOrEqual(1);
  });

  it('reads the contract variables', () => {
    const c = readPrewarmConfig({
      LITEPIX_CDN_BASE: 'https://d111111abcdef8.cloudfront.net/',
      LITEPIX_DISTRIBUTION_ID: 'E2EXAMPLE123',
      LITEPIX_PREWARM_PRESETS: 'thumb, full',
      LITEPIX_PREWARM_FORMATS: 'webp,jpg',
      LITEPIX_GRAMMAR_JSON: '{"presets":{"thumb":{"w":"256"},"full":{"w":"1920"},"card":{"w":"400"}}}',
      LITEPIX_PREWARM_SELECTORS: 'images[*].url,/cover',
      LITEPIX_INGEST_HOSTS: 'images.partner.test,*.cdn.partner.test',
    });
    expect(c).toMatchObject({
      cdnBase: 'https://d111111abcdef8.cloudfront.net',
      distributionId: 'E2EXAMPLE123',
      presets: ['thumb', 'full'],
      formats: ['webp', 'jpeg'],
      rewritePreset: 'thumb',
    });
    expect(c.selectors.map((s) => s.text)).toEqual(['images[*].url', '/cover']);
    expect(c.ingest.hosts).toEqual(['images.partner.test', '*.cdn.partner.test']);
  });

  it.each([
    [
      { LITEPIX_PREWARM_PRESETS: 'thumb,huge' },
      'Invalid LITEPIX_PREWARM_PRESETS "thumb,huge": unknown preset "huge"; the grammar defines thumb, mobile, full',
    ],
    [
      { LITEPIX_PREWARM_FORMATS: 'webp,gif' },
      'unknown format "gif"; expected auto or a list of avif, webp, jpeg, png',
    ],
    [
      { LITEPIX_CDN_BASE: 'cdn.example.com' },
      'Invalid LITEPIX_CDN_BASE "cdn.example.com": expected an http(s) URL',
    ],
    [
      { LITEPIX_PREWARM_MAX_DEPTH: '5000' },
      'Invalid LITEPIX_PREWARM_MAX_DEPTH "5000": expected an integer from 1 to 1000',
    ],
    [
      { LITEPIX_PREWARM_CONCURRENCY: '0' },
      'Invalid LITEPIX_PREWARM_CONCURRENCY "0": expected an integer from 1 to 64',
    ],
    [
      { LITEPIX_PREWARM_REWRITE: 'inline' },
      'Invalid LITEPIX_PREWARM_REWRITE "inline": expected preset or map',
    ],
    [
      { LITEPIX_PREWARM_REWRITE_PRESET: 'full', LITEPIX_PREWARM_PRESETS: 'thumb' },
      'expected one of the pre-warmed presets thumb',
    ],
    [{ LITEPIX_DISTRIBUTION_ID: 'e2-lower' }, 'Invalid LITEPIX_DISTRIBUTION_ID "e2-lower"'],
    [{ LITEPIX_SIGNING_SECRET: 'short' }, 'Invalid LITEPIX_SIGNING_SECRET: expected at least 16 characters'],
    [{ LITEPIX_PREWARM_SELECTORS: 'a[x]' }, 'Invalid LITEPIX_PREWARM_SELECTORS: Invalid selector "a[x]"'],
    [{ LITEPIX_INGEST_ALLOW_ADDRESSES: 'localhost' }, '"localhost" is not an IP address or CIDR'],
  ])('refuses %j', (env, message) => {
    expect(() => readPrewarmConfig(env)).toThrow(message);
  });
});
