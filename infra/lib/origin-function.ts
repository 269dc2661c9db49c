/**
 * The origin Lambda (origin-fn/lambda.ts `handler`) behind a Function URL: AWS_IAM auth (only
 * CloudFront's Origin Access Control can call it; distribution.ts grants the invoke permission
 * scoped to this distribution) and RESPONSE_STREAM so variants over 6 MB are served whole.
 * It may read originals and read/write variants, nothing else.
 */

import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { FunctionUrlAuthType, InvokeMode } from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { requestTimeoutMs, type StackConfig } from './config.ts';
import { LitepixFunction } from './lambda-function.ts';

export interface OriginFunctionProps {
  code: lambda.Code;
  config: StackConfig;
  originals: s3.IBucket;
  variants: s3.IBucket;
  /** LITEPIX_GRAMMAR_JSON: the same grammar the viewer function was built with. */
  grammarJson: string;
}

export class OriginFunction extends Construct {
  readonly fn: lambda.Function;
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: OriginFunctionProps) {
    super(scope, id);
    const { config } = props;
    this.fn = new LitepixFunction(this, 'Lambda', {
      code: props.code,
      handler: 'index.handler',
      description: 'litepix origin: makes a variant on a CloudFront miss',
      memoryMb: config.originMemoryMb,
      timeoutSeconds: config.originTimeoutSeconds,
      reservedConcurrency: config.originReservedConcurrency,
      environment: {
        ...config.transformSettings,
        // Inside the Lambda's timeout, so a slow store gets 503 no-store, not a killed function.
        LITEPIX_REQUEST_TIMEOUT_MS: String(requestTimeoutMs(config)),
        LITEPIX_ORIGINALS_BUCKET: props.originals.bucketName,
        LITEPIX_VARIANTS_BUCKET: props.variants.bucketName,
        LITEPIX_GRAMMAR_JSON: props.grammarJson,
        LITEPIX_LOG_LEVEL: config.logLevel,
      },
      config,
    }).fn;
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [props.originals.arnForObjects('*')] }),
    );
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [props.variants.arnForObjects('*')],
      }),
    );
    this.url = this.fn.addFunctionUrl({
      authType: FunctionUrlAuthType.AWS_IAM,
      invokeMode: InvokeMode.RESPONSE_STREAM,
    });
  }
}
