/**
 * The CDK app (cdk.json: `npx tsx infra/bin/litepix.ts`). It builds what the stack deploys,
 * fresh on every synth: the viewer bundle (scripts/build.ts; the KeyValueStore build when
 * signing is on) and the Lambda assets (scripts/build-lambda.ts: esbuild + sharp's prebuilt
 * linux binaries for the configured CPU, no Docker). Configuration: the `litepix` context key.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildViewerBundle, readEdgeConfig, VIEWER_BUNDLE } from '../../scripts/build.ts';
import { buildLambdaAsset } from '../../scripts/build-lambda.ts';
import { parseStackConfig, StackConfigError } from '../lib/config.ts';
import { LitepixStack } from '../lib/litepix-stack.ts';

/** `-c litepix='{"signing":true}'` arrives as a string; cdk.json gives an object. */
function contextObject(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (cause) {
    throw new StackConfigError(`Invalid -c litepix=${value}: expected a JSON object`, { cause });
  }
}

/** Builds the assets and synthesizes the stack; a configuration error ends it with its message only. */
async function main(): Promise<void> {
  const app = new App();
  const config = parseStackConfig(contextObject(app.node.tryGetContext('litepix')));
  // The grammar config: litepix.configFile, else LITEPIX_CONFIG (as for `npm run build`), else defaults.
  const configFile = config.configFile ? resolve(config.configFile) : process.env.LITEPIX_CONFIG;
  const edge = readEdgeConfig(configFile);
  if (edge.secrets.length > 0) {
    throw new StackConfigError(
      `${configFile} has "secrets": on AWS they live in the CloudFront KeyValueStore (set litepix.signing to true)`,
    );
  }
  await buildViewerBundle(edge, VIEWER_BUNDLE, config.signing ? 'kvs' : 'bundle');
  const origin = await buildLambdaAsset('origin', config.architecture);
  const prewarm = await buildLambdaAsset('prewarm', config.architecture);

  new LitepixStack(app, app.node.tryGetContext('stackName') ?? 'Litepix', {
    description: 'litepix: light images through a CDN (CloudFront + viewer function + origin Lambda + S3)',
    config,
    grammar: edge.grammar,
    assets: {
      viewerCode: readFileSync(VIEWER_BUNDLE, 'utf8'),
      origin: lambda.Code.fromAsset(origin.dir),
      prewarm: lambda.Code.fromAsset(prewarm.dir),
    },
  });
  app.synth();
}

main().catch((err: unknown) => {
  if (err instanceof StackConfigError) {
    console.error(`litepix: ${err.message}`);
    process.exit(1);
  }
  throw err;
});
