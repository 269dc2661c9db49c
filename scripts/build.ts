/**
 * Builds dist/edge-fn/viewer-request.js, the CloudFront Functions bundle, from the TypeScript
 * grammar. Config comes from LITEPIX_CONFIG (a JSON file: { "grammar": {...}, "secrets": [...] })
 * or the defaults. The bundle must fit CloudFront's 10,240-byte limit and use only what the
 * cloudfront-js-2.0 runtime has; esbuild is told which syntax that runtime lacks.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build } from 'esbuild';
import { minify } from 'terser';
import { resolveGrammarConfig } from '../edge-fn/grammar/resolve-config.ts';
import type { EdgeConfig } from '../edge-fn/viewer-handler.ts';

export const CLOUDFRONT_FUNCTION_MAX_BYTES = 10_240;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const VIEWER_BUNDLE = resolve(root, 'dist/edge-fn/viewer-request.js');

/** Syntax the cloudfront-js-2.0 runtime does not run: esbuild lowers it or fails the build. */
const UNSUPPORTED = {
  class: false,
  'class-field': false,
  'class-static-field': false,
  'for-of': false,
  destructuring: false,
  'object-rest-spread': false,
  'rest-argument': false,
  'optional-chain': false,
  'nullish-coalescing': false,
  'logical-assignment': false,
  generator: false,
  'async-generator': false,
  'for-await': false,
  'regexp-lookbehind-assertions': false,
  'regexp-named-capture-groups': false,
  'regexp-sticky-and-unicode-flags': false,
  'default-argument': false,
  'object-extensions': false,
  'new-target': false,
  'optional-catch-binding': false,
  'exponent-operator': true,
} as const;

/**
 * The baked config's own keys (not preset names or parameter names, which are data): the build
 * renames them in the config's JSON as esbuild renames the code that reads them.
 */
const CONFIG_KEYS = [
  'grammar',
  'secrets',
  'version',
  'ladder',
  'presets',
  'autoFormats',
  'alphaExtensions',
  'budgets',
  'slowLink',
  'ect',
  'rttMs',
  'downlinkMbps',
];

/** The config with its CONFIG_KEYS renamed by `names`; preset contents are data and stay. */
function renameConfigKeys(value: unknown, names: Record<string, string | false>): unknown {
  if (Array.isArray(value) || typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const renamed = CONFIG_KEYS.includes(k) ? names[k] : undefined;
    out[typeof renamed === 'string' ? renamed : k] = k === 'presets' ? v : renameConfigKeys(v, names);
  }
  return out;
}

/**
 * The bundle-internal property names esbuild may shorten (see buildViewerBundle). None may be
 * a property of a built-in the bundle calls (`now` is not here: `Date.now`).
 */
const INTERNAL_PROPS = new RegExp(
  `^(${[
    'ok',
    'status',
    'code',
    'message',
    'spec',
    'key',
    'source',
    'width',
    'height',
    'quality',
    'position',
    'maxKb',
    'path',
    'params',
    'accept',
    'saveData',
    'ectHint',
    'rttHint',
    'downlinkHint',
    'dprHint',
    'widthHint',
    'hmac',
    ...CONFIG_KEYS,
  ].join('|')})$`,
);

/**
 * esbuild's ESM output ends in `export{X as handler};`. CloudFront wants a script whose
 * top-level `function handler(event)` it calls, so the export becomes that function.
 */
export function toCloudFrontScript(esm: string, async = false): string {
  const exported = /export\s*\{\s*([\w$]+)(?:\s+as\s+handler)?\s*\};?\s*$/.exec(esm);
  if (!exported) throw new Error('viewer-request bundle: expected it to end with the handler export');
  const body = esm.slice(0, exported.index);
  const inner = exported[1] as string;
  if (inner === 'handler') return `${body}\n`;
  return `${body}${async ? 'async ' : ''}function handler(event){return ${inner}(event)}\n`;
}

/**
 * Where the signing secrets come from: `bundle` bakes `config.secrets` into the code (none =
 * unsigned URLs); `kvs` reads them per request from the CloudFront KeyValueStore associated
 * with the function (the CDK stack's choice when signing is on; see edge-fn/kvs-secrets.ts).
 */
export type SecretsSource = 'bundle' | 'kvs';

/** How the KeyValueStore build opens its store (the CDK stack checks for it). */
export const KVS_OPEN = 'var _kvs=cf.kvs();';

/** The first statements of each kind of bundle: the runtime modules it needs, nothing else. */
function preamble(config: EdgeConfig, secrets: SecretsSource): string {
  if (secrets === 'kvs') return `import _crypto from 'crypto';import cf from 'cloudfront';${KVS_OPEN}`;
  return config.secrets.length > 0 ? "var _crypto=require('crypto');" : '';
}

export function readEdgeConfig(file = process.env.LITEPIX_CONFIG): EdgeConfig {
  const raw = file ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<EdgeConfig>) : {};
  const secrets = raw.secrets ?? [];
  if (!Array.isArray(secrets) || secrets.some((s) => typeof s !== 'string' || s.length < 16)) {
    throw new Error(`Invalid secrets in ${file}: expected an array of strings of at least 16 characters`);
  }
  return { grammar: resolveGrammarConfig(raw.grammar ?? {}), secrets };
}

/** The bundle's code, before the size check. */
export async function viewerBundleCode(
  config: EdgeConfig,
  secrets: SecretsSource = 'bundle',
): Promise<string> {
  if (secrets === 'kvs' && config.secrets.length > 0) {
    throw new Error(
      'viewer-request.js: secrets come from the KeyValueStore in kvs mode; remove "secrets" from the config file',
    );
  }
  const entry = secrets === 'kvs' ? 'edge-fn/viewer-request-kvs.ts' : 'edge-fn/viewer-request.ts';
  const options: BuildOptions = {
    entryPoints: [resolve(root, entry)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2020',
    supported: UNSUPPORTED,
    minifySyntax: true,
    minifyWhitespace: true,
    // Local names are left to terser, which keeps `handler` (reserved) so the export needs no
    // wrapper function.
    minifyIdentifiers: false,
    // Property names that never leave the function (grammar results, specs, requests, the
    // config's own keys) are shortened too. Event and response fields, query parameter names
    // and preset names (preset and value maps are keyed by them) and the KeyValueStore's
    // `format` option keep theirs.
    mangleProps: INTERNAL_PROPS,
    mangleQuoted: true,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'silent',
  };
  // Two passes: the first learns the short name of each config key, the second bakes the
  // config's JSON (a `define`, whose keys esbuild leaves alone) under those names.
  const first = await build({
    ...options,
    define: { __LITEPIX_EDGE_CONFIG__: JSON.stringify(config) },
    mangleCache: {},
  });
  const names = first.mangleCache ?? {};
  const baked = renameConfigKeys(config, names);
  const result = await build({
    ...options,
    define: { __LITEPIX_EDGE_CONFIG__: JSON.stringify(baked) },
    mangleCache: names,
  });
  const esm = result.outputFiles?.[0]?.text ?? '';
  // A second, slower minifier over the whole bundle: top-level names, repeated passes. It
  // keeps to the syntax cloudfront-js-2.0 runs (ecma 2020, no destructuring rewrites); it may
  // write function expressions that use neither `this` nor `arguments` as arrow functions, which
  // the runtime supports (ES 6 arrow functions, "JavaScript runtime 2.0 features" in the
  // CloudFront developer guide): −178 B in the KVS build. The handler export stays for
  // toCloudFrontScript.
  // `undefined` declared once at the top (a module-scope name, legal and shadowing the global
  // of the same value) lets terser write each `void 0` as that one-letter name.
  // `unsafe` and `unsafe_math` assume that no built-in is replaced, which holds in a function's
  // sandbox: `Number.NaN` → `NaN`, `String(n)` → `n+""`, `Number(s)` → `+s`, templates →
  // concatenation (the same conversions): −185 B in the KVS build. Not `unsafe_comps`, which
  // turns `!(n >= 1)` into `n < 1`: false for NaN, and the validators lean on NaN failing
  // every comparison. The bundle tests run the built code against the TypeScript on random
  // requests (test/edge/hostile-requests.property.test.ts).
  const min = await minify(`let undefined;${esm}`, {
    module: true,
    ecma: 2020,
    compress: {
      passes: 3,
      unsafe_arrows: true,
      arrows: true,
      toplevel: true,
      unsafe_undefined: true,
      unsafe: true,
      unsafe_math: true,
    },
    // No top-level name may be one the preamble or toCloudFrontScript declares.
    mangle: { toplevel: true, reserved: ['cf', '_crypto', '_kvs', 'handler'] },
    format: { comments: false },
  });
  // The runtime's own modules (crypto, and cloudfront for the KeyValueStore), loaded once per
  // function instance and only when signing is on, go first, kept out of both tools' hands
  // (the bundle reads them as free globals, which no minifier renames).
  return toCloudFrontScript(preamble(config, secrets) + (min.code ?? esm), secrets === 'kvs');
}

export async function buildViewerBundle(
  config: EdgeConfig,
  outfile = VIEWER_BUNDLE,
  secrets: SecretsSource = 'bundle',
): Promise<number> {
  const code = await viewerBundleCode(config, secrets);
  const bytes = Buffer.byteLength(code);
  if (bytes > CLOUDFRONT_FUNCTION_MAX_BYTES) {
    throw new Error(
      `viewer-request.js is ${bytes} bytes; CloudFront Functions allow ${CLOUDFRONT_FUNCTION_MAX_BYTES}`,
    );
  }
  mkdirSync(dirname(outfile), { recursive: true });
  writeFileSync(outfile, code);
  return bytes;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const bytes = await buildViewerBundle(readEdgeConfig());
  console.log(`built ${VIEWER_BUNDLE} (${bytes} bytes of ${CLOUDFRONT_FUNCTION_MAX_BYTES})`);
}
