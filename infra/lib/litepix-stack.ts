/**
 * The litepix stack: buckets (originals, variants, results), viewer function, distribution with the origin group, origin
 * Lambda, pre-warm queue and Lambdas, alarms and dashboard, outputs. Environment-agnostic (no
 * lookups), so it synthesizes offline without credentials. The code comes in prebuilt
 * (infra/bin/litepix.ts builds it; tests pass small stand-ins), so the stack never bundles.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { GrammarConfig } from '../../edge-fn/grammar/config.ts';
import { ConfigError } from '../../origin-fn/config.ts';
import { readPrewarmConfig } from '../../prewarm/config.ts';
import { Buckets } from './buckets.ts';
import { type StackConfig, StackConfigError } from './config.ts';
import { CdnDistribution } from './distribution.ts';
import { acknowledgeNagFindings } from './nag.ts';
import { Operations } from './operations.ts';
import { OriginFunction } from './origin-function.ts';
import { Prewarm } from './prewarm.ts';
import { ViewerFunction } from './viewer-function.ts';

export interface LitepixAssets {
  /** The built viewer-request bundle (scripts/build.ts; the KeyValueStore build when signing). */
  viewerCode: string;
  /** dist/lambda/origin (scripts/build-lambda.ts). */
  origin: lambda.Code;
  /** dist/lambda/prewarm (scripts/build-lambda.ts). */
  prewarm: lambda.Code;
}

export interface LitepixStackProps extends StackProps {
  config: StackConfig;
  /** The grammar the viewer bundle was built with; the Lambdas get the same one. */
  grammar: GrammarConfig;
  assets: LitepixAssets;
}

export class LitepixStack extends Stack {
  constructor(scope: Construct, id: string, props: LitepixStackProps) {
    super(scope, id, props);
    const { config, grammar, assets } = props;
    for (const preset of config.prewarmPresets) {
      if (!grammar.presets[preset]) {
        throw new StackConfigError(
          `Invalid litepix.prewarmPresets: "${preset}" is not a grammar preset (have ${Object.keys(grammar.presets).join(', ')})`,
        );
      }
    }
    const grammarJson = JSON.stringify(grammar);
    checkLambdaSettings(config, grammarJson);
    const buckets = new Buckets(this, 'Buckets', config);
    const viewer = new ViewerFunction(this, 'Viewer', { code: assets.viewerCode, signing: config.signing });
    const origin = new OriginFunction(this, 'Origin', {
      code: assets.origin,
      config,
      originals: buckets.originals,
      variants: buckets.variants,
      grammarJson,
    });
    const cdn = new CdnDistribution(this, 'Cdn', {
      config,
      variants: buckets.variants,
      originUrl: origin.url,
      viewerFunction: viewer.fn,
      logs: buckets.logs,
    });
    const distribution = cdn.distribution;
    const cdnBase = `https://${config.domainNames[0] ?? distribution.distributionDomainName}`;
    const prewarm = new Prewarm(this, 'Prewarm', {
      code: assets.prewarm,
      config,
      originals: buckets.originals,
      variants: buckets.variants,
      results: buckets.results,
      distribution,
      cdnBase,
      grammarJson,
    });
    new Operations(this, 'Operations', {
      config,
      origin: origin.fn,
      prewarm: prewarm.worker,
      uploads: prewarm.uploads,
      queue: prewarm.queue,
      deadLetters: prewarm.deadLetters,
      distribution,
    });
    acknowledgeNagFindings(this, {
      config,
      buckets,
      distribution,
      functions: [origin.fn, prewarm.worker, ...(prewarm.uploads ? [prewarm.uploads] : [])],
      resultsWriter: prewarm.worker,
    });

    new CfnOutput(this, 'CdnBaseUrl', { value: cdnBase, description: 'Request images here' });
    new CfnOutput(this, 'DistributionDomainName', { value: distribution.distributionDomainName });
    new CfnOutput(this, 'DistributionId', { value: distribution.distributionId });
    new CfnOutput(this, 'OriginalsBucketName', { value: buckets.originals.bucketName });
    new CfnOutput(this, 'VariantsBucketName', { value: buckets.variants.bucketName });
    new CfnOutput(this, 'ResultsBucketName', {
      value: buckets.results.bucketName,
      description: 'Job results of the pre-warm queue (results/<job>/); read them with your own credentials',
    });
    new CfnOutput(this, 'PrewarmQueueUrl', { value: prewarm.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: prewarm.deadLetters.queueUrl });
    if (viewer.secrets) {
      new CfnOutput(this, 'SigningKeyValueStoreArn', {
        value: viewer.secrets.keyValueStoreArn,
        description: 'Put the signing secrets here (infra/README.md "Signing and rotating the secret")',
      });
    }
  }
}

/**
 * Runs the pre-warm Lambda's own configuration parser (which includes the origin's) on the
 * settings the stack will give it, so a bad value stops the synth with the Lambda's message
 * instead of failing every cold start after the deploy.
 */
function checkLambdaSettings(config: StackConfig, grammarJson: string): void {
  try {
    readPrewarmConfig({
      ...config.transformSettings,
      ...config.prewarmSettings,
      LITEPIX_ORIGINALS_BUCKET: 'synth-check-originals',
      LITEPIX_VARIANTS_BUCKET: 'synth-check-variants',
      LITEPIX_RESULTS_BUCKET: 'synth-check-results',
      LITEPIX_PREWARM_MAX_RECEIVES: String(config.prewarmMaxReceiveCount),
      LITEPIX_GRAMMAR_JSON: grammarJson,
      LITEPIX_PREWARM_PRESETS: config.prewarmPresets.join(','),
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const where = Object.keys(config.prewarmSettings).some((name) => err.message.includes(name))
      ? 'prewarmSettings'
      : 'transformSettings';
    throw new StackConfigError(`litepix.${where}: ${err.message}`);
  }
}
