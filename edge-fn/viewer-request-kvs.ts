/**
 * The CloudFront viewer-request function when signing secrets live in a CloudFront
 * KeyValueStore (what the CDK stack deploys when signing is on). scripts/build.ts bundles this
 * into one cloudfront-js-2.0 module whose first statements import the runtime's `crypto` and
 * `cloudfront` modules and open the associated store (`cf.kvs()`); its top-level
 * `async function handler(event)` reads the secrets on every request, so a rotation needs no
 * new function code. No secret is ever in the bundle.
 */
import { type KvsHandle, readKvsSecrets } from './kvs-secrets.ts';
import {
  type CfEvent,
  type CfRequest,
  type CfResponse,
  type EdgeConfig,
  type HmacModule,
  handleViewerRequest,
  signingUnavailable,
} from './viewer-handler.ts';

declare const __LITEPIX_EDGE_CONFIG__: EdgeConfig;
/** `import _crypto from 'crypto'`, the bundle's first line. */
declare const _crypto: HmacModule;
/** `cf.kvs()` on the store associated with the function, opened by the bundle's first lines. */
declare const _kvs: KvsHandle;

const EDGE_CONFIG: EdgeConfig = __LITEPIX_EDGE_CONFIG__;

function hmac(secret: string, message: string): string {
  return _crypto.createHmac('sha256', secret).update(message).digest('base64url');
}

export async function handler(event: CfEvent): Promise<CfRequest | CfResponse> {
  const secrets = await readKvsSecrets(_kvs);
  if (!secrets) return signingUnavailable();
  return handleViewerRequest(event, EDGE_CONFIG, { secrets: secrets, hmac: hmac });
}
