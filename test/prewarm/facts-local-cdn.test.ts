/**
 * `litepix prewarm --facts` as a child process against the whole local stack (`npm start`):
 * the facts it writes are what the local CDN then serves (bytes per format, the placeholder).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../../cli/dev-stack.ts';
import { parseFacts } from '../../prewarm/facts.ts';
import { devOptions, runCli } from '../helpers/local-stack.ts';

describe('litepix prewarm --facts', () => {
  it('does not go with --queue: the workers apply it', async () => {
    const res = await runCli(['prewarm', 'a.ndjson', '--queue', '--facts'], { LITEPIX_LOG_LEVEL: 'silent' });
    expect(res.code).toBe(2);
    expect(res.err).toContain('--facts does not go with --queue');
  });
});

describe('litepix prewarm --facts against the local stack', () => {
  let stack: DevStack;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'litepix-prewarm-facts-'));
    stack = await startDevStack(devOptions({ dataDir: join(dir, 'data') }));
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes facts whose bytes are what the CDN serves for each format', async () => {
    const input = join(dir, 'units.ndjson');
    writeFileSync(input, `${JSON.stringify({ id: 'p', images: ['samples/kodim03.png'] })}\n`);
    const out = join(dir, 'out.ndjson');
    const env = { LITEPIX_S3_PORT: new URL(stack.s3Endpoint).port, LITEPIX_LOG_LEVEL: 'silent' };
    const args = [
      'prewarm',
      input,
      '--cdn',
      stack.url,
      '--presets',
      'thumb',
      '--formats',
      'webp,png',
      '--facts',
    ];
    const res = await runCli([...args, '--out', out], env);
    expect(res.code).toBe(0);
    const line = JSON.parse(readFileSync(out, 'utf8').trim()) as { unit: { images: unknown[] } };
    const facts = parseFacts(line.unit.images[0]);
    expect(facts).toMatchObject({ width: 768, height: 512 });
    expect(facts.presets.thumb).toMatchObject({ width: 256, height: 171 });
    for (const [accept, format] of [
      ['image/webp,*/*', 'webp'],
      ['*/*', 'png'],
    ] as const) {
      const got = await fetch(facts.presets.thumb?.url as string, { headers: { accept } });
      const body = Buffer.from(await got.arrayBuffer());
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toBe(`image/${format}`);
      expect(body.length).toBe(facts.presets.thumb?.bytes[format]);
    }
  });
});
