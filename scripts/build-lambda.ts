/**
 * Builds the Lambda assets without Docker: dist/lambda/<name>/ holds `index.mjs` (the handler
 * module bundled by esbuild, sharp and libheif-js left external), `heic-worker.mjs` (the HEIC
 * decode worker, origin-fn/transform/heic-worker.ts, started beside it) and a `node_modules/`
 * with sharp and the prebuilt libvips binaries for the Lambda's CPU (linux-arm64 or linux-x64,
 * glibc) and libheif-js (libheif + libde265 as WebAssembly, the same on every CPU).
 *
 * The binaries come from the npm registry: sharp's own optional `@img/sharp-linux-*` packages,
 * at the versions and integrity hashes recorded in this repository's package-lock.json. The
 * asset gets a package-lock.json cut from the root one and is installed with
 * `npm ci --os=linux --cpu=<cpu> --libc=glibc`, so the npm cache serves repeated builds and
 * nothing is resolved anew. `npm run build:lambda` runs it; the CDK app (infra/bin/litepix.ts)
 * runs it before synthesizing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const LAMBDA_DIST = resolve(root, 'dist/lambda');

/** The Lambda functions and their entry modules (each exports its handler(s)). */
export const LAMBDA_ENTRIES = {
  origin: 'origin-fn/lambda.ts',
  prewarm: 'prewarm/lambda.ts',
} as const;
export type LambdaName = keyof typeof LAMBDA_ENTRIES;
/** The HEIC decode worker's entry, bundled beside every Lambda's handler (both run the transform). */
const HEIC_WORKER = 'origin-fn/transform/heic-worker.ts';

/** Lambda's names for its CPUs (aws-cdk-lib Architecture.name). */
export type LambdaArch = 'arm64' | 'x86_64';
const NPM_CPU: Record<LambdaArch, string> = { arm64: 'arm64', x86_64: 'x64' };

export interface LambdaAsset {
  dir: string;
  /** Size of the bundled handler module, bytes. */
  bundleBytes: number;
}

interface LockEntry {
  version: string;
  integrity?: string;
  resolved?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [field: string]: unknown;
}
interface Lockfile {
  packages: Record<string, LockEntry>;
}

/** Where Node would find `dep` required from the package at `from` (nested first, then up). */
function resolveInLock(lock: Lockfile, from: string, dep: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = `${base}${base ? '/' : ''}node_modules/${dep}`;
    if (lock.packages[candidate]) return candidate;
    const up = base.lastIndexOf('/node_modules/');
    if (base === '') return undefined;
    base = up < 0 ? '' : base.slice(0, up);
  }
}

/**
 * The root lockfile's entries for `name` and everything it depends on, at the same paths
 * (optional platform packages included; npm ci keeps only those matching --os/--cpu/--libc).
 */
export function lockClosure(lock: Lockfile, name: string): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const pending: Array<[string, string]> = [['', name]];
  while (pending.length > 0) {
    const [from, dep] = pending.pop() as [string, string];
    const path = resolveInLock(lock, from, dep);
    if (!path) throw new Error(`package-lock.json has no entry for ${dep} (needed by ${from || 'the root'})`);
    if (out[path]) continue;
    const entry = lock.packages[path] as LockEntry;
    out[path] = entry;
    for (const next of [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
    ]) {
      pending.push([path, next]);
    }
  }
  return out;
}

/** The packages installed beside the bundle (left external: native binaries, a .wasm file). */
export const RUNTIME_PACKAGES = ['sharp', 'libheif-js'] as const;

/** Writes package.json + package-lock.json for RUNTIME_PACKAGES and installs them for the Lambda's platform. */
function installRuntimePackages(dir: string, arch: LambdaArch): void {
  const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const dependencies: Record<string, string> = {};
  for (const name of RUNTIME_PACKAGES) {
    const version = rootPkg.dependencies[name];
    if (!version) throw new Error(`package.json: ${name} must be a dependency`);
    dependencies[name] = version;
  }
  const cpu = NPM_CPU[arch];
  const stamp = join(dir, 'node_modules', '.litepix-platform');
  const wanted = `${RUNTIME_PACKAGES.map((n) => `${n}@${dependencies[n]}`).join(' ')} linux-${cpu}-glibc`;
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return;

  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lockfile;
  const manifest = {
    name: 'litepix-lambda',
    private: true,
    type: 'module',
    dependencies,
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(
    join(dir, 'package-lock.json'),
    `${JSON.stringify(
      {
        name: manifest.name,
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: manifest.name, dependencies: manifest.dependencies },
          ...Object.assign({}, ...RUNTIME_PACKAGES.map((n) => lockClosure(lock, n))),
        },
      },
      null,
      2,
    )}\n`,
  );
  rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
  const args = ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'];
  args.push('--os=linux', `--cpu=${cpu}`, '--libc=glibc', '--loglevel=error');
  try {
    execFileSync('npm', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (cause) {
    const stderr = String((cause as { stderr?: unknown }).stderr ?? '')
      .split('\n')
      .slice(0, 6)
      .join('\n');
    throw new Error(
      `Cannot install sharp's linux-${cpu} binaries and libheif-js into ${dir} (npm ${args.join(' ')}); ` +
        `it needs the npm registry or a filled npm cache:\n${stderr}`,
    );
  }
  for (const pkg of [`@img/sharp-linux-${cpu}`, `@img/sharp-libvips-linux-${cpu}`]) {
    if (!existsSync(join(dir, 'node_modules', pkg, 'package.json'))) {
      throw new Error(`npm ci did not install ${pkg} into ${dir}: the Lambda would fail to load sharp`);
    }
  }
  if (!existsSync(join(dir, 'node_modules/libheif-js/libheif-wasm/libheif.wasm'))) {
    throw new Error(`npm ci did not install libheif-js into ${dir}: the Lambda could not decode HEIC`);
  }
  writeFileSync(stamp, wanted);
}

/** Bundles one Lambda into dist/lambda/<name>/ (or `outRoot`/<name>/) for `arch`. */
export async function buildLambdaAsset(
  name: LambdaName,
  arch: LambdaArch,
  outRoot = LAMBDA_DIST,
): Promise<LambdaAsset> {
  const entry = join(root, LAMBDA_ENTRIES[name]);
  if (!existsSync(entry)) {
    throw new Error(`Cannot bundle the ${name} Lambda: its entry ${LAMBDA_ENTRIES[name]} does not exist`);
  }
  const dir = join(outRoot, name);
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, 'index.mjs');
  const common: BuildOptions = {
    // Paths in the bundle's comments are relative to the repository, whatever the cwd: the
    // asset (and its hash) is the same from any directory.
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // sharp loads its native addon by platform at run time, libheif-js its .wasm file from its
    // own folder: installed beside the bundle.
    external: [...RUNTIME_PACKAGES],
    // Bundled CommonJS dependencies (the AWS SDK, pino) call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __litepixRequire } from 'node:module';const require = __litepixRequire(import.meta.url);",
    },
    legalComments: 'none',
    logLevel: 'silent',
  };
  await build({ ...common, entryPoints: [entry], outfile });
  // heic.ts starts new URL('./heic-worker.mjs', import.meta.url): beside index.mjs.
  await build({ ...common, entryPoints: [join(root, HEIC_WORKER)], outfile: join(dir, 'heic-worker.mjs') });
  installRuntimePackages(dir, arch);
  return { dir, bundleBytes: statSync(outfile).size };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arch = (process.argv[2] ?? 'arm64') as LambdaArch;
  if (!(arch in NPM_CPU)) throw new Error(`Invalid architecture "${arch}": expected arm64 or x86_64`);
  for (const name of Object.keys(LAMBDA_ENTRIES) as LambdaName[]) {
    const asset = await buildLambdaAsset(name, arch);
    console.log(
      `built ${asset.dir} (index.mjs ${asset.bundleBytes} bytes, heic-worker.mjs, sharp for linux ${arch}, libheif-js)`,
    );
  }
}
