import * as nodeCrypto from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import type { EdgeConfig } from '../../edge-fn/viewer-handler.ts';
import { buildViewerBundle, readEdgeConfig, VIEWER_BUNDLE } from '../../scripts/build.ts';

export type Handler = (event: unknown) => unknown;

/** Builds the real bundle (the default one to dist/, any other to a temp file) and returns its code. */
export async function buildBundle(config?: Partial<EdgeConfig>): Promise<string> {
  const base = readEdgeConfig(undefined);
  const merged: EdgeConfig = { ...base, ...config };
  const out = config
    ? join(mkdtempSync(join(tmpdir(), 'litepix-edge-')), 'viewer-request.js')
    : VIEWER_BUNDLE;
  await buildViewerBundle(merged, out);
  return readFileSync(out, 'utf8');
}

/**
 * Runs the bundle in a bare `vm` context: only the language's own built-ins, no Node or
 * browser globals. `require` exists only when asked for, and only for the runtime's `crypto`
 * module, as in CloudFront Functions.
 */
export function loadInVm(code: string, withRequire = false): Handler {
  const sandbox: Record<string, unknown> = {};
  if (withRequire) {
    sandbox.require = (id: string) => {
      if (id !== 'crypto') throw new Error(`module ${id} is not available in CloudFront Functions`);
      return { createHmac: nodeCrypto.createHmac };
    };
  }
  const context = vm.createContext(sandbox);
  return vm.runInContext(`${code}\n;handler`, context, { filename: 'viewer-request.js' }) as Handler;
}

/** Deep copy so that the handler's in-place edits of the event never leak between tests. */
export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/events/${name}.json`, import.meta.url), 'utf8'));
}
