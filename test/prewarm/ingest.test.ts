/**
 * Ingest against a real HTTP server on 127.0.0.1 (explicitly allowed where a test needs it).
 * DNS names go through a fixed resolver table, so no real DNS is used: a name that resolves to
 * 127.0.0.1 and is fetched proves the connection used the checked address.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAddressAllowList } from '../../prewarm/address-policy.ts';
import { fetchExternal, type IngestPolicy, type Resolver } from '../../prewarm/ingest.ts';
import { compileSelector } from '../../prewarm/selectors.ts';
import { fixture } from '../helpers/images.ts';
import { CDN, items, type PrewarmStack, runAll, startPrewarmStack } from './helpers.ts';

const png = fixture('png-palette-256-colors.png');
const TABLE: Record<string, string[]> = {
  'good.test': ['127.0.0.1'],
  'evil.test': ['10.0.0.5'],
  'meta.test': ['169.254.169.254'],
  'mixed.test': ['127.0.0.1', '192.168.1.1'],
  'mapped.test': ['::ffff:127.0.0.1'],
  'ula.test': ['fd00:ec2::254'],
};
const resolver: Resolver = async (host) => {
  const found = TABLE[host];
  if (!found) throw Object.assign(new Error(`no such host ${host}`), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

describe('ingest of external URLs', () => {
  let server: Server;
  let base: string;
  let port: number;
  const hits: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      const url = req.url ?? '';
      if (url === '/ok.png') return res.writeHead(200, { 'content-type': 'text/plain' }).end(png);
      if (url === '/page')
        return res.writeHead(200, { 'content-type': 'image/png' }).end('<html>hello</html>');
      if (url === '/big') {
        res.writeHead(200, { 'content-type': 'image/png' });
        for (let i = 0; i < 40; i++) res.write(Buffer.alloc(64 * 1024, 1));
        return res.end();
      }
      if (url === '/big-declared') return res.writeHead(200, { 'content-length': String(50_000_000) }).end();
      if (url === '/slow') {
        res.writeHead(200, { 'content-type': 'image/png' });
        res.write(png.subarray(0, 100));
        const t = setTimeout(() => res.end(png.subarray(100)), 3000);
        res.on('close', () => clearTimeout(t));
        return;
      }
      if (url === '/404') return res.writeHead(404).end();
      if (url === '/to-ok') return res.writeHead(302, { location: '/ok.png' }).end();
      if (url === '/to-metadata')
        return res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      if (url === '/to-evil')
        return res.writeHead(301, { location: `http://evil.test:${port}/ok.png` }).end();
      if (url === '/to-elsewhere')
        return res.writeHead(302, { location: 'https://not-allowed.test/x.png' }).end();
      if (url === '/loop') return res.writeHead(302, { location: '/loop' }).end();
      res.writeHead(500).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const policy = (over: Partial<IngestPolicy> = {}): IngestPolicy => ({
    hosts: [
      '127.0.0.1',
      'good.test',
      'evil.test',
      'meta.test',
      'mixed.test',
      'mapped.test',
      'ula.test',
      '169.254.169.254',
      'fd00:ec2::254',
      '[fd00:ec2::254]',
      '[::ffff:7f00:1]',
      '10.0.0.1',
    ],
    allowAddresses: parseAddressAllowList('127.0.0.1', 'test'),
    maxBytes: 1_000_000,
    timeoutMs: 2_000,
    maxRedirects: 3,
    ...over,
  });

  it('downloads from an allowed host and follows an allowed redirect', async () => {
    expect((await fetchExternal(`${base}/ok.png`, policy(), resolver)).bytes.equals(png)).toBe(true);
    const viaRedirect = await fetchExternal(`${base}/to-ok`, policy(), resolver);
    expect(viaRedirect.finalUrl).toBe(`${base}/ok.png`);
  });

  it('connects to the address the resolver gave and checked (good.test → 127.0.0.1)', async () => {
    const got = await fetchExternal(`http://good.test:${port}/ok.png`, policy(), resolver);
    expect(got.bytes.length).toBe(png.length);
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'linkLocal'],
    ['http://[fd00:ec2::254]/latest/meta-data/', 'uniqueLocal'],
    ['http://10.0.0.1/x.png', 'private'],
  ])('refuses the literal address in %s (%s) before connecting', async (url, range) => {
    await expect(fetchExternal(url, policy(), resolver)).rejects.toMatchObject({
      code: 'INGEST_REFUSED',
      message: expect.stringContaining(`a ${range} address`),
    });
  });

  it('refuses IPv4-mapped IPv6 loopback unless 127.0.0.1 is explicitly allowed', async () => {
    const before = hits.length;
    await expect(
      fetchExternal(`http://[::ffff:127.0.0.1]:${port}/ok.png`, policy({ allowAddresses: [] }), resolver),
    ).rejects.toMatchObject({ code: 'INGEST_REFUSED', message: expect.stringContaining('loopback') });
    expect(hits.length).toBe(before);
  });

  it('refuses loopback itself when it is not explicitly allowed', async () => {
    const before = hits.length;
    await expect(
      fetchExternal(`${base}/ok.png`, policy({ allowAddresses: [] }), resolver),
    ).rejects.toMatchObject({
      code: 'INGEST_REFUSED',
    });
    expect(hits.length).toBe(before);
  });

  it.each([
    ['evil.test', '10.0.0.5, a private address'],
    ['meta.test', '169.254.169.254, a linkLocal address'],
    ['mixed.test', '192.168.1.1, a private address'],
    ['ula.test', 'fd00:ec2::254, a uniqueLocal address'],
  ])('refuses %s after DNS resolution (%s)', async (host, why) => {
    await expect(fetchExternal(`http://${host}:${port}/ok.png`, policy(), resolver)).rejects.toMatchObject({
      code: 'INGEST_REFUSED',
      message: expect.stringContaining(why),
    });
  });

  it('refuses a name resolving to IPv4-mapped loopback when loopback is not allowed', async () => {
    await expect(
      fetchExternal(`http://mapped.test:${port}/ok.png`, policy({ allowAddresses: [] }), resolver),
    ).rejects.toMatchObject({ code: 'INGEST_REFUSED', message: expect.stringContaining('loopback') });
  });

  it.each([
    ['/to-metadata', '169.254.169.254 is a linkLocal address'],
    ['/to-evil', '10.0.0.5, a private address'],
    ['/to-elsewhere', 'the host not-allowed.test is not on the ingest allow-list'],
    ['/loop', 'more than 3 redirects'],
  ])('re-checks every redirect hop: %s', async (path, why) => {
    await expect(fetchExternal(`${base}${path}`, policy(), resolver)).rejects.toMatchObject({
      code: 'INGEST_REFUSED',
      message: expect.stringContaining(why),
    });
  });

  it('refuses hosts off the allow-list, other schemes and credentials', async () => {
    await expect(fetchExternal('https://example.test/a.png', policy(), resolver)).rejects.toMatchObject({
      code: 'INGEST_REFUSED',
    });
    await expect(fetchExternal('file:///etc/passwd', policy(), resolver)).rejects.toMatchObject({
      code: 'INGEST_REFUSED',
    });
    await expect(
      fetchExternal(`http://u:p@127.0.0.1:${port}/ok.png`, policy(), resolver),
    ).rejects.toMatchObject({
      code: 'INGEST_REFUSED',
    });
  });

  it('stops at the byte cap, declared or streamed', async () => {
    await expect(fetchExternal(`${base}/big`, policy(), resolver)).rejects.toMatchObject({
      code: 'INGEST_TOO_LARGE',
    });
    await expect(fetchExternal(`${base}/big-declared`, policy(), resolver)).rejects.toMatchObject({
      code: 'INGEST_TOO_LARGE',
    });
  });

  it('gives up on a slow server at the time limit', async () => {
    const started = Date.now();
    await expect(fetchExternal(`${base}/slow`, policy({ timeoutMs: 300 }), resolver)).rejects.toMatchObject({
      code: 'INGEST_TIMEOUT',
      transient: true,
    });
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('reports HTTP errors', async () => {
    await expect(fetchExternal(`${base}/404`, policy(), resolver)).rejects.toMatchObject({
      code: 'INGEST_HTTP',
      message: expect.stringContaining('HTTP 404'),
    });
  });

  describe('through the pre-warmer', () => {
    let stack: PrewarmStack;
    beforeAll(async () => {
      stack = await startPrewarmStack();
    });
    afterAll(() => stack?.stop());

    it('stores an external image under its content hash, once, and rewrites it to the CDN', async () => {
      const p = stack.prewarmer({ ingest: policy({ hosts: ['127.0.0.1'] }) }, { resolver });
      const okHits = hits.filter((h) => h === '/ok.png').length;
      const { results } = await runAll(
        p,
        items(
          { a: `${base}/ok.png` },
          { b: `${base}/ok.png`, c: `${base}/page` },
          { d: 'https://not-listed.test/a.png' },
        ),
      );
      const key = `ingest/${createHash('sha256').update(png).digest('hex')}.png`;
      expect(results[0]?.report).toMatchObject({ status: 'done', images: [{ source: key, status: 'ok' }] });
      expect(results[0]?.unit).toEqual({ a: `${CDN}/${key}?preset=thumb` });
      expect(results[1]?.report.images.map((i) => i.code ?? i.status)).toEqual(['ok', 'INGEST_NOT_IMAGE']);
      // Not an allow-listed host: plain text for auto-detection, so the unit has no images.
      expect(results[2]?.report.code).toBe('PREWARM_NO_IMAGES');
      expect(hits.filter((h) => h === '/ok.png').length - okHits).toBe(1);
      expect((await stack.store.headOriginal(key))?.contentType).toBe('image/png');
    });

    it('reports a selected external URL as refused when ingest is off', async () => {
      const p = stack.prewarmer({ selectors: [compileSelector('/a')] }, { resolver });
      const before = hits.length;
      const { results } = await runAll(p, items({ a: `${base}/ok.png` }));
      expect(results[0]?.report.images[0]).toMatchObject({
        status: 'failed',
        code: 'PREWARM_EXTERNAL_OFF',
        message: expect.stringContaining('set LITEPIX_INGEST_HOSTS'),
      });
      expect(results[0]?.unit).toEqual({ a: `${base}/ok.png` });
      expect(hits.length).toBe(before);
    });
  });
});
