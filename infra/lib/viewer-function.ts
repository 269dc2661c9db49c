/**
 * The viewer-request CloudFront Function (cloudfront-js-2.0) with the built bundle as its code.
 * With signing on, the bundle is the KeyValueStore build (scripts/build.ts, secrets 'kvs') and
 * the function is associated with a KeyValueStore that holds the secrets under
 * KVS_SECRETS_KEY; the stack never sees a secret.
 */
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { Construct } from 'constructs';
import { KVS_SECRETS_KEY } from '../../edge-fn/kvs-secrets.ts';
import { KVS_OPEN } from '../../scripts/build.ts';

export interface ViewerFunctionProps {
  /** The built bundle's text. */
  code: string;
  signing: boolean;
}

export class ViewerFunction extends Construct {
  readonly fn: cloudfront.Function;
  readonly secrets: cloudfront.KeyValueStore | undefined;

  constructor(scope: Construct, id: string, props: ViewerFunctionProps) {
    super(scope, id);
    const readsKvs = props.code.includes(KVS_OPEN);
    if (props.signing !== readsKvs) {
      throw new Error(
        props.signing
          ? 'Signing is on but the viewer bundle does not read its secrets from a KeyValueStore: build it with secrets "kvs"'
          : 'Signing is off but the viewer bundle is the KeyValueStore build: build it with secrets "bundle"',
      );
    }
    if (/require\('crypto'\)/.test(props.code)) {
      throw new Error(
        'The viewer bundle has secrets baked in: the stack takes them from a KeyValueStore only',
      );
    }
    this.secrets = props.signing
      ? new cloudfront.KeyValueStore(this, 'SigningSecrets', {
          comment: `litepix signing secrets: key ${KVS_SECRETS_KEY}, a JSON array of strings`,
        })
      : undefined;
    this.fn = new cloudfront.Function(this, 'Function', {
      comment: 'litepix viewer-request: canonical variant key from query and Accept',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(props.code),
      keyValueStore: this.secrets,
      autoPublish: true,
    });
  }
}
