/**
 * The CloudFront distribution. Default behaviour: the viewer function rewrites the request to
 * the variant key, the cache keys on that URI alone, and a miss goes to an origin group whose
 * primary is the variants bucket (Origin Access Control) and whose failover on 403/404 is the
 * origin Lambda's Function URL (Origin Access Control, SigV4). Error answers are cached on
 * purpose: 4xx for config.errorCachingSeconds, 5xx never.
 */
import { Duration } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { PriceClassName, StackConfig } from './config.ts';

/**
 * The client hints the viewer function reads (edge-fn/viewer-handler.ts), asked for on every
 * response. Browsers act on Accept-CH from the page's own HTML, so a site sends it there too
 * (README, "Client hints"); here it covers images opened directly from the CDN's origin.
 */
export const ACCEPT_CH = 'ECT, RTT, Downlink, Sec-CH-DPR, Sec-CH-Width, DPR, Width';

/** 4xx codes CloudFront lets us set an error-caching TTL for (its list, not ours). */
export const CACHED_4XX = [400, 403, 404, 405, 414, 416] as const;
export const NEVER_CACHED_5XX = [500, 501, 502, 503, 504] as const;
const ONE_YEAR = Duration.days(365);
const PRICE_CLASS: Record<PriceClassName, cloudfront.PriceClass> = {
  PriceClass_100: cloudfront.PriceClass.PRICE_CLASS_100,
  PriceClass_200: cloudfront.PriceClass.PRICE_CLASS_200,
  PriceClass_All: cloudfront.PriceClass.PRICE_CLASS_ALL,
};

export interface DistributionProps {
  config: StackConfig;
  variants: s3.IBucket;
  originUrl: lambda.IFunctionUrl;
  viewerFunction: cloudfront.IFunction;
  logs: s3.IBucket | undefined;
}

export class CdnDistribution extends Construct {
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: DistributionProps) {
    super(scope, id);
    const { config } = props;
    const shield = config.originShieldRegion ? { originShieldRegion: config.originShieldRegion } : {};
    const origin = new origins.OriginGroup({
      primaryOrigin: origins.S3BucketOrigin.withOriginAccessControl(props.variants, {
        ...shield,
        originAccessLevels: [cloudfront.AccessLevel.READ],
      }),
      fallbackOrigin: origins.FunctionUrlOrigin.withOriginAccessControl(props.originUrl, {
        ...shield,
        // A cold transform of a large original may take most of the Lambda's timeout.
        readTimeout: Duration.seconds(config.originTimeoutSeconds),
      }),
      fallbackStatusCodes: [403, 404],
    });
    const cachePolicy = new cloudfront.CachePolicy(this, 'VariantCache', {
      comment: 'litepix: the URI is the variant key (the viewer function folded query and Accept into it)',
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      defaultTtl: ONE_YEAR,
      maxTtl: ONE_YEAR,
      // 0 so that an origin's `no-store` (a 503, a 500) is honoured.
      minTtl: Duration.seconds(0),
      enableAcceptEncodingGzip: false,
      enableAcceptEncodingBrotli: false,
    });
    const cors = config.corsAllowOrigins;
    const responseHeadersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: 'litepix: timing-allow-origin, accept-ch, nosniff and the configured CORS origins',
      corsBehavior:
        cors.length > 0
          ? {
              accessControlAllowOrigins: cors,
              accessControlAllowMethods: ['GET', 'HEAD'],
              accessControlAllowHeaders: ['*'],
              accessControlExposeHeaders: ['x-litepix-error'],
              accessControlAllowCredentials: false,
              accessControlMaxAge: Duration.days(1),
              originOverride: true,
            }
          : undefined,
      customHeadersBehavior: {
        customHeaders: [
          { header: 'timing-allow-origin', value: cors.length > 0 ? cors.join(', ') : '*', override: true },
          { header: 'accept-ch', value: ACCEPT_CH, override: true },
        ],
      },
      securityHeadersBehavior: { contentTypeOptions: { override: true } },
    });
    const custom = config.certificateArn
      ? {
          domainNames: config.domainNames,
          certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', config.certificateArn),
          minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
        }
      : {};
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'litepix image CDN',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: PRICE_CLASS[config.priceClass],
      enableIpv6: true,
      ...custom,
      enableLogging: props.logs !== undefined,
      logBucket: props.logs,
      logFilePrefix: props.logs ? 'cloudfront/' : undefined,
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
        cachePolicy,
        responseHeadersPolicy,
        // Images are already compressed; gzip would only cost CPU.
        compress: false,
        functionAssociations: [
          { function: props.viewerFunction, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
        ],
      },
      errorResponses: [
        ...CACHED_4XX.map((httpStatus) => ({
          httpStatus,
          ttl: Duration.seconds(config.errorCachingSeconds),
        })),
        ...NEVER_CACHED_5XX.map((httpStatus) => ({ httpStatus, ttl: Duration.seconds(0) })),
      ],
    });
  }
}
