/**
 * The dev stack assembles its origin from the same LITEPIX_* settings as the Lambda
 * (origin-fn/runtime.ts): a transform setting in the environment changes what `npm start`
 * makes, and a bad one stops it with the variable's name.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type DevOptions, startDevStack } from '../../cli/dev-stack.ts';
import { devOptions } from '../helpers/local-stack.ts';

const saved = { ...process.env };
const dirs: string[] = [];

function options(): DevOptions {
  const o = devOptions();
  dirs.push(o.dataDir);
  return o;
}

afterEach(() => {
  process.env = { ...saved };
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the dev stack reads the origin settings', () => {
  it('applies LITEPIX_QUALITY_MAX_ENCODES from the environment (one encode: the safe default)', async () => {
    process.env.LITEPIX_QUALITY_MAX_ENCODES = '1';
    const stack = await startDevStack(options());
    try {
      const res = await fetch(`${stack.url}/samples/kodim23.png?w=256&f=webp`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-litepix-quality')).toMatch(/^q=85; distance=[0-9.]+; encodes=1; fallback$/);
    } finally {
      await stack.stop();
    }
  });

  it('refuses to start on an invalid setting, naming it', async () => {
    process.env.LITEPIX_MAX_FRAMES = 'many';
    await expect(startDevStack(options())).rejects.toThrow(/Invalid LITEPIX_MAX_FRAMES "many"/);
  });
});
