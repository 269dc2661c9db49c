import * as nodeCrypto from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import type * as acorn from 'acorn';
import * as walk from 'acorn-walk';
import { Miniflare } from 'miniflare';
import type { EdgeConfig } from '../../edge-fn/viewer-handler.ts';
import { buildViewerBundle, readEdgeConfig, type SecretsSource, VIEWER_BUNDLE } from '../../scripts/build.ts';

export type Handler = (event: unknown) => unknown;

/** Builds the real bundle (the default one to dist/, any other to a temp file) and returns its code. */
export async function buildBundle(
  config?: Partial<EdgeConfig>,
  secrets: SecretsSource = 'bundle',
): Promise<string> {
  const base = readEdgeConfig(undefined);
  const merged: EdgeConfig = { ...base, ...config };
  const out =
    config || secrets !== 'bundle'
      ? join(mkdtempSync(join(tmpdir(), 'litepix-edge-')), 'viewer-request.js')
      : VIEWER_BUNDLE;
  await buildViewerBundle(merged, out, secrets);
  return readFileSync(out, 'utf8');
}

/** The KeyValueStore bundle's first statements (scripts/build.ts writes exactly these). */
export const KVS_IMPORTS = "import _crypto from 'crypto';import cf from 'cloudfront';";

/**
 * An in-memory stand-in for the CloudFront Functions runtime module `cloudfront` (its
 * `cf.kvs()` KeyValueStore handle), which exists only inside CloudFront and cannot run
 * locally. It behaves as documented: `get` rejects for a missing key and parses JSON when
 * asked for `{ format: 'json' }`. Tests change `values` to play a KeyValueStore update.
 */
export function inMemoryCloudFront(values: Map<string, string>) {
  return {
    kvs: () => ({
      get: async (key: string, options?: { format?: string }): Promise<unknown> => {
        const value = values.get(key);
        if (value === undefined) throw new Error(`Key ${key} not found`);
        return options?.format === 'json' ? JSON.parse(value) : value;
      },
    }),
  };
}

/** The same stand-in as source text, for an ES module named `cloudfront` inside workerd. */
export function inMemoryCloudFrontModule(values: Record<string, string>): string {
  return `const values = new Map(Object.entries(${JSON.stringify(values)}));
export default { kvs() { return { async get(key, options) {
  if (!values.has(key)) throw new Error('Key ' + key + ' not found');
  const value = values.get(key);
  return options && options.format === 'json' ? JSON.parse(value) : value;
} }; } };`;
}

/**
 * Runs the KeyValueStore bundle in a bare `vm` context. A vm script has no ES module loader
 * (that needs --experimental-vm-modules), so its two import statements, checked to be exactly
 * the expected ones, become bindings to the runtime modules: Node's HMAC for `crypto` and the
 * in-memory `cloudfront` above. Everything after them runs unchanged.
 */
export function loadKvsBundleInVm(
  code: string,
  cloudfront: ReturnType<typeof inMemoryCloudFront>,
): (event: unknown) => Promise<unknown> {
  if (!code.startsWith(KVS_IMPORTS)) throw new Error('the KeyValueStore bundle must start with its imports');
  const context = vm.createContext({
    __runtime: { crypto: { createHmac: nodeCrypto.createHmac }, cloudfront },
  });
  const script = `var _crypto=__runtime.crypto;var cf=__runtime.cloudfront;${code.slice(KVS_IMPORTS.length)}\n;handler`;
  return vm.runInContext(script, context, { filename: 'viewer-request.js' }) as (
    event: unknown,
  ) => Promise<unknown>;
}

/**
 * Runs the bundle in a bare `vm` context: only the language's own built-ins, no Node or
 * browser globals. `require` exists only when asked for, and only for the runtime's `crypto`
 * module, as in CloudFront Functions. `clockMs` fixes the context's own `Date.now()` (the
 * clock `exp` is judged by), so expiry tests never depend on the real time.
 */
export function loadInVm(code: string, withRequire = false, clockMs?: number): Handler {
  const sandbox: Record<string, unknown> = {};
  if (withRequire) {
    sandbox.require = (id: string) => {
      if (id !== 'crypto') throw new Error(`module ${id} is not available in CloudFront Functions`);
      return { createHmac: nodeCrypto.createHmac };
    };
  }
  const context = vm.createContext(sandbox);
  if (clockMs !== undefined) vm.runInContext(`Date.now = function () { return ${clockMs}; };`, context);
  return vm.runInContext(`${code}\n;handler`, context, { filename: 'viewer-request.js' }) as Handler;
}

/** Deep copy so that the handler's in-place edits of the event never leak between tests. */
export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/events/${name}.json`, import.meta.url), 'utf8'));
}

/**
 * Syntax the cloudfront-js-2.0 runtime lacks, found in a parsed bundle (plus any `require`,
 * which only the baked-secrets bundle may have, in its first line).
 */
export function forbiddenSyntax(ast: acorn.Program): string[] {
  const forbidden: string[] = [];
  walk.full(ast, (node) => {
    const n = node as acorn.AnyNode;
    switch (n.type) {
      case 'ClassDeclaration':
      case 'ClassExpression':
      case 'ForOfStatement':
      case 'ObjectPattern':
      case 'ArrayPattern':
      case 'SpreadElement':
      case 'RestElement':
      case 'ChainExpression':
      case 'YieldExpression':
      case 'ImportExpression':
      case 'MetaProperty':
      case 'TaggedTemplateExpression':
        forbidden.push(n.type);
        break;
      case 'LogicalExpression':
        if (n.operator === '??') forbidden.push('??');
        break;
      case 'AssignmentExpression':
        if (['&&=', '||=', '??='].includes(n.operator)) forbidden.push(n.operator);
        break;
      case 'CatchClause':
        if (!n.param) forbidden.push('optional catch binding');
        break;
      case 'Literal':
        if ('regex' in n && n.regex && (/[suy]/.test(n.regex.flags) || n.regex.pattern.includes('(?<'))) {
          forbidden.push(`regex /${n.regex.pattern}/${n.regex.flags}`);
        }
        break;
      case 'CallExpression':
        if (n.callee.type === 'Identifier' && n.callee.name === 'require') forbidden.push('require');
        break;
    }
  });
  return forbidden;
}

/** A bundle running inside workerd: `run(event)` POSTs a CloudFront event and returns the handler's answer. */
export interface WorkerdBundle {
  run(event: unknown): Promise<unknown>;
  dispose(): Promise<void>;
}

/**
 * Runs the (plain) bundle unchanged inside workerd (miniflare), wrapped in a module worker that
 * turns a POSTed event into a `handler` call. A signed bundle's `require('crypto')` is answered
 * by workerd's node:crypto.
 */
export async function startInWorkerd(code: string, signed = false): Promise<WorkerdBundle> {
  const shim = signed
    ? `import { createHmac } from 'node:crypto';
function require(name) { if (name === 'crypto') return { createHmac }; throw new Error(name); }
`
    : '';
  const mf = new Miniflare({
    modules: true,
    script: `${shim}${code}
export default { async fetch(request) {
  return new Response(JSON.stringify(handler(await request.json())), { headers: { 'content-type': 'application/json' } });
} };`,
    compatibilityDate: '2025-01-01',
    compatibilityFlags: signed ? ['nodejs_compat'] : [],
    host: '127.0.0.1',
    port: 0,
  });
  await mf.ready;
  return {
    run: async (event) =>
      (await mf.dispatchFetch('http://edge.test/', { method: 'POST', body: JSON.stringify(event) })).json(),
    dispose: () => mf.dispose(),
  };
}
