/**
 * The CloudFront viewer-request function (cloudfront-js-2.0). scripts/build.ts bundles this
 * into dist/edge-fn/viewer-request.js: one self-contained file whose top-level
 * `function handler(event)` calls `handler` below, with the config (and any secrets) baked in.
 * viewer-request-kvs.ts is the variant that reads the secrets from a KeyValueStore.
 */
import type { Signing } from './grammar/normalize.ts';
import {
  type CfEvent,
  type CfRequest,
  type CfResponse,
  type EdgeConfig,
  type HmacModule,
  handleViewerRequest,
} from './viewer-handler.ts';

declare const __LITEPIX_EDGE_CONFIG__: EdgeConfig;
/** The runtime's `require('crypto')`, set by the bundle's first line when signing is configured. */
declare const _crypto: HmacModule;

const EDGE_CONFIG: EdgeConfig = __LITEPIX_EDGE_CONFIG__;

const SIGNING: Signing | undefined =
  EDGE_CONFIG.secrets.length > 0
    ? {
        secrets: EDGE_CONFIG.secrets,
        hmac: (secret, message) => _crypto.createHmac('sha256', secret).update(message).digest('base64url'),
      }
    : undefined;

export function handler(event: CfEvent): CfRequest | CfResponse {
  return handleViewerRequest(event, EDGE_CONFIG, SIGNING);
}
