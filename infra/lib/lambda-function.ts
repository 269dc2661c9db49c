/**
 * The common shape of litepix's Lambdas: Node.js 24, the configured CPU, a prebuilt asset
 * (scripts/build-lambda.ts: handler module + sharp for that CPU), JSON logs kept
 * config.logRetentionDays, and an execution role that can only write its own logs.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StackConfig } from './config.ts';

export interface LitepixFunctionProps {
  code: lambda.Code;
  /** `index.<export>` of the bundled module. */
  handler: string;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  environment: Record<string, string>;
  reservedConcurrency?: number | undefined;
  /** Where events of failed asynchronous invocations go (S3 notifications). */
  deadLetterQueue?: sqs.IQueue | undefined;
  config: StackConfig;
}

export class LitepixFunction extends Construct {
  readonly fn: lambda.Function;

  constructor(scope: Construct, id: string, props: LitepixFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.config.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A role of our own instead of the AWSLambdaBasicExecutionRole managed policy: logs go
    // to this function's log group only.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description}: execution role`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:log-stream:*`],
      }),
    );
    this.fn = new lambda.Function(this, 'Function', {
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture:
        props.config.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      code: props.code,
      handler: props.handler,
      memorySize: props.memoryMb,
      timeout: Duration.seconds(props.timeoutSeconds),
      environment: props.environment,
      reservedConcurrentExecutions: props.reservedConcurrency,
      deadLetterQueue: props.deadLetterQueue,
      logGroup,
      role,
    });
  }
}
