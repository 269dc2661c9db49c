/**
 * The origin Lambda behind a Function URL (InvokeMode RESPONSE_STREAM, auth AWS_IAM, reached
 * only through CloudFront's Origin Access Control). Responses are streamed, so variants larger
 * than Lambda's 6 MB buffered-response limit are served whole. Clients and config are built
 * once per cold start.
 */
import type { Writable } from 'node:stream';
import { readOriginConfig } from './config.ts';
import { ImageError } from './errors.ts';
import { errorResponse, type OriginHandler } from './origin-handler.ts';
import { createOriginRuntime } from './runtime.ts';

/** The parts of a Function URL (payload 2.0) event the origin reads. */
export interface FunctionUrlEvent {
  rawPath: string;
  requestContext: { requestId: string; http: { method: string } };
}

export interface ResponsePrelude {
  statusCode: number;
  headers: Record<string, string>;
}

/** The Lambda runtime's `awslambda.HttpResponseStream`. */
export interface HttpResponseStreamFactory {
  from(stream: Writable, prelude: ResponsePrelude): Writable;
}

export function createFunctionUrlHandler(origin: OriginHandler, http: HttpResponseStreamFactory) {
  return async (event: FunctionUrlEvent, responseStream: Writable): Promise<void> => {
    const method = event.requestContext.http.method;
    const response =
      method === 'GET' || method === 'HEAD'
        ? await origin.handle(event.rawPath, event.requestContext.requestId)
        : errorResponse(
            new ImageError(405, 'IMG_BAD_PARAM', `Method ${method} is not allowed: expected GET or HEAD`),
          );
    const out = http.from(responseStream, { statusCode: response.status, headers: response.headers });
    await new Promise<void>((resolve, reject) => {
      out.on('error', reject);
      out.end(method === 'HEAD' ? undefined : response.body, () => resolve());
    });
  };
}

interface AwsLambdaRuntime {
  streamifyResponse(fn: (event: FunctionUrlEvent, stream: Writable) => Promise<void>): unknown;
  HttpResponseStream: HttpResponseStreamFactory;
}

function fromEnvironment(): OriginHandler {
  return createOriginRuntime(readOriginConfig()).handler;
}

const candidate = (globalThis as { awslambda?: Partial<AwsLambdaRuntime> }).awslambda;
const runtime =
  candidate && typeof candidate.streamifyResponse === 'function' && candidate.HttpResponseStream
    ? (candidate as AwsLambdaRuntime)
    : undefined;

/** The Lambda entry point (only defined inside the Lambda runtime, which provides `awslambda`). */
export const handler = runtime
  ? runtime.streamifyResponse(createFunctionUrlHandler(fromEnvironment(), runtime.HttpResponseStream))
  : undefined;
