/**
 * Synthesizes the stack for tests: the real viewer bundle (built once per mode, ~0.1 s) and,
 * for the Lambdas, a tiny stand-in directory instead of dist/lambda/<name> (bundling needs
 * esbuild runs and ~20 MB of sharp binaries per function; the stack only sees a code
 * location). One synth per config variant; tests share it.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { resolveGrammarConfig } from '../../edge-fn/grammar/resolve-config.ts';
import { parseStackConfig } from '../../infra/lib/config.ts';
import { LitepixStack } from '../../infra/lib/litepix-stack.ts';
import { buildViewerBundle, readEdgeConfig } from '../../scripts/build.ts';

const work = mkdtempSync(join(tmpdir(), 'litepix-cdk-'));
const viewerCode: Partial<Record<'bundle' | 'kvs', string>> = {};

/** The real viewer bundle in the mode the config asks for. */
export async function viewerBundle(signing: boolean): Promise<string> {
  const mode = signing ? 'kvs' : 'bundle';
  const cached = viewerCode[mode];
  if (cached) return cached;
  const file = join(work, `viewer-${mode}.js`);
  await buildViewerBundle(readEdgeConfig(undefined), file, mode);
  viewerCode[mode] = readFileSync(file, 'utf8');
  return readFileSync(file, 'utf8');
}

function standInAsset(name: string): lambda.Code {
  const dir = join(work, 'lambda', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'index.mjs'),
    `// stand-in for dist/lambda/${name}\nexport const handler = undefined;\n`,
  );
  return lambda.Code.fromAsset(dir);
}

export interface Synthesized {
  app: App;
  stack: LitepixStack;
  /** The template; undefined with `nag` (synthesis then runs the checks: call app.synth()). */
  template: Template | undefined;
}

export interface SynthOptions {
  /** Run cdk-nag's AwsSolutionsChecks during synthesis. */
  nag?: boolean;
  /** Viewer code other than the right build for the config (to test the stack's checks). */
  viewerCode?: string;
}

export async function synthStack(context: unknown = {}, options: SynthOptions = {}): Promise<Synthesized> {
  const config = parseStackConfig(context);
  const app = new App({ outdir: mkdtempSync(join(work, 'out-')) });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new LitepixStack(app, 'Litepix', {
    config,
    grammar: resolveGrammarConfig({}),
    assets: {
      viewerCode: options.viewerCode ?? (await viewerBundle(config.signing)),
      origin: standInAsset('origin'),
      prewarm: standInAsset('prewarm'),
    },
  });
  return { app, stack, template: options.nag ? undefined : Template.fromStack(stack) };
}
