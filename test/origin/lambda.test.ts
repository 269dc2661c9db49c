import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PassThrough, type Writable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOriginConfig } from '../../origin-fn/config.ts';
import {
  createFunctionUrlHandler,
  type FunctionUrlEvent,
  type HttpResponseStreamFactory,
} from '../../origin-fn/lambda.ts';
import { type OriginStack, startOriginStack } from '../helpers/origin-stack.ts';

/**
 * Stand-in for the Lambda runtime's `awslambda.HttpResponseStream` (a global that exists only
 * inside Lambda): the same wire format, a JSON prelude then 8 NUL bytes then the body.
 */
const httpResponseStream: HttpResponseStreamFactory = {
  from(stream: Writable, prelude) {
    stream.write(JSON.stringify(prelude));
    stream.write(Buffer.alloc(8));
    return stream;
  },
};

async function invoke(event: FunctionUrlEvent, stack: OriginStack) {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  await createFunctionUrlHandler(stack.origin, httpResponseStream)(event, sink);
  const all = Buffer.concat(chunks);
  const split = all.indexOf(Buffer.alloc(8));
  const prelude = JSON.parse(all.subarray(0, split).toString()) as {
    statusCode: number;
    headers: Record<string, string>;
  };
  return { ...prelude, body: all.subarray(split + 8) };
}

const fixture = (): FunctionUrlEvent =>
  JSON.parse(
    readFileSync(new URL('../fixtures/events/function-url-get-variant.json', import.meta.url), 'utf8'),
  );

let stack: OriginStack;
let noise: Buffer;

beforeAll(async () => {
  stack = await startOriginStack();
  // Random noise does not compress: a PNG far above Lambda's 6 MB buffered-response limit.
  const size = 1600;
  const pixels = randomBytes(size * size * 3);
  noise = await sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  await stack.putOriginal('big/noise.png', noise, 'image/png');
});

afterAll(async () => {
  await stack?.stop();
});

describe('the origin Lambda (Function URL, response streaming)', () => {
  it('streams a variant larger than 6 MB whole', async () => {
    expect(noise.length).toBeGreaterThan(6 * 1024 * 1024);
    const res = await invoke(fixture(), stack);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.body.length).toBeGreaterThan(6 * 1024 * 1024);
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    expect(await sharp(res.body).metadata()).toMatchObject({ format: 'png', width: 1600, height: 1600 });
  });

  it('answers HEAD with headers only', async () => {
    const event = fixture();
    event.requestContext.http.method = 'HEAD';
    const res = await invoke(event, stack);
    expect(res.statusCode).toBe(200);
    expect(res.body.length).toBe(0);
  });

  it('refuses other methods with 405', async () => {
    const event = fixture();
    event.requestContext.http.method = 'POST';
    const res = await invoke(event, stack);
    expect(res.statusCode).toBe(405);
    expect(res.body.toString()).toBe('Method POST is not allowed: expected GET or HEAD\n');
  });
});

describe('origin configuration from the environment', () => {
  it('has documented defaults', () => {
    const config = readOriginConfig({});
    expect(config).toMatchObject({
      originalsBucket: 'litepix-originals',
      variantsBucket: 'litepix-variants',
      region: 'us-east-1',
      endpoint: undefined,
      requestTimeoutMs: 20_000,
      logLevel: 'info',
    });
    expect(config.limits).toMatchObject({
      maxSourceBytes: 41_943_040,
      maxInputPixels: 100_000_000,
      maxJpegScans: 64,
      allowSvg: false,
      maxSvgBytes: 1_048_576,
      maxSvgElements: 10_000,
    });
    expect(config.grammar.version).toBe('v1');
    expect(config.limits.quality).toMatchObject({
      auto: { distance: 1 },
      lite: { distance: 1.5 },
      maxEncodes: 5,
      budgetMs: 2000,
    });
  });

  it.each([
    [
      { LITEPIX_MAX_FRAMES: 'many' },
      'Invalid LITEPIX_MAX_FRAMES "many": expected an integer from 1 to 100000',
    ],
    [{ LITEPIX_ALLOW_SVG: 'yes' }, 'Invalid LITEPIX_ALLOW_SVG "yes": expected "true" or "false"'],
    [
      { LITEPIX_VARIANTS_BUCKET: 'Bad_Bucket' },
      'Invalid LITEPIX_VARIANTS_BUCKET "Bad_Bucket": expected an S3 bucket name',
    ],
    [
      { AWS_ENDPOINT_URL_S3: 'localhost:4569' },
      'Invalid AWS_ENDPOINT_URL_S3 "localhost:4569": expected an http(s) URL',
    ],
    [
      { LITEPIX_LOG_LEVEL: 'loud' },
      'Invalid LITEPIX_LOG_LEVEL "loud": expected one of debug, info, warn, error, silent',
    ],
    [
      { LITEPIX_GRAMMAR_JSON: '{"ladder":[5,1]}' },
      'Invalid ladder: sizes must be ascending, but 5 comes before 1',
    ],
    [{ LITEPIX_GRAMMAR_JSON: '[' }, 'Cannot read the grammar configuration from LITEPIX_GRAMMAR_JSON'],
    [
      { LITEPIX_REQUEST_TIMEOUT_MS: '0' },
      'Invalid LITEPIX_REQUEST_TIMEOUT_MS "0": expected an integer from 1 to 900000',
    ],
    [
      { LITEPIX_ORIGINALS_BUCKET: 'one-bucket', LITEPIX_VARIANTS_BUCKET: 'one-bucket' },
      'Invalid LITEPIX_VARIANTS_BUCKET "one-bucket": expected a bucket other than LITEPIX_ORIGINALS_BUCKET',
    ],
    [
      { LITEPIX_QUALITY_DISTANCE: '95' },
      'Invalid LITEPIX_QUALITY_DISTANCE "95": expected a number from 0.2 to 4',
    ],
    [
      { LITEPIX_QUALITY_LITE_DISTANCE: 'low' },
      'Invalid LITEPIX_QUALITY_LITE_DISTANCE "low": expected a number from 0.2 to 4',
    ],
    [
      { LITEPIX_QUALITY_MAX_ENCODES: '9' },
      'Invalid LITEPIX_QUALITY_MAX_ENCODES "9": expected an integer from 1 to 8',
    ],
    [
      { LITEPIX_MAX_SVG_ELEMENTS: '2000000' },
      'Invalid LITEPIX_MAX_SVG_ELEMENTS "2000000": expected an integer from 1 to 1000000',
    ],
    [
      { LITEPIX_MAX_JPEG_SCANS: '0' },
      'Invalid LITEPIX_MAX_JPEG_SCANS "0": expected an integer from 1 to 100000',
    ],
    [
      { LITEPIX_QUALITY_BUDGET_MS: '-1' },
      'Invalid LITEPIX_QUALITY_BUDGET_MS "-1": expected an integer from 0 to 60000',
    ],
    [
      { LITEPIX_QUALITY_TARGET: '0.95' },
      'LITEPIX_QUALITY_TARGET is no longer read: set LITEPIX_QUALITY_DISTANCE instead',
    ],
    [
      { LITEPIX_QUALITY_LITE_TARGET: '0.91' },
      'LITEPIX_QUALITY_LITE_TARGET is no longer read: set LITEPIX_QUALITY_LITE_DISTANCE instead',
    ],
    [
      { LITEPIX_QUALITY_LARGE_BOOST: '0.015' },
      'LITEPIX_QUALITY_LARGE_BOOST is no longer read: it has no replacement',
    ],
  ])('refuses %j', (env, message) => {
    expect(() => readOriginConfig(env)).toThrow(message);
  });

  it('reads limits and the S3 endpoint', () => {
    const config = readOriginConfig({
      LITEPIX_MAX_INPUT_PIXELS: '5000000',
      LITEPIX_ALLOW_SVG: 'true',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569',
      LITEPIX_REQUEST_TIMEOUT_MS: '2500',
      LITEPIX_MAX_JPEG_SCANS: '20',
      LITEPIX_MAX_SVG_BYTES: '65536',
      LITEPIX_MAX_SVG_ELEMENTS: '500',
    });
    expect(config.limits).toMatchObject({ maxSvgBytes: 65_536, maxSvgElements: 500 });
    expect(config.requestTimeoutMs).toBe(2500);
    expect(config.limits.maxJpegScans).toBe(20);
    expect(config.limits.maxInputPixels).toBe(5_000_000);
    expect(config.limits.allowSvg).toBe(true);
    expect(config.endpoint).toBe('http://127.0.0.1:4569');
  });

  it('reads the quality search settings', () => {
    const config = readOriginConfig({
      LITEPIX_QUALITY_DISTANCE: '0.8',
      LITEPIX_QUALITY_LITE_DISTANCE: '2.5',
      LITEPIX_QUALITY_MAX_ENCODES: '3',
      LITEPIX_QUALITY_BUDGET_MS: '0',
    });
    expect(config.limits.quality).toMatchObject({
      auto: { distance: 0.8, fallback: { jpeg: 85 } },
      lite: { distance: 2.5 },
      maxEncodes: 3,
      budgetMs: 0,
    });
  });
});
