/** The part of s3rver 3.7 (which ships no types) the test harness uses. */
declare module 's3rver' {
  import type { IncomingMessage, Server, ServerResponse } from 'node:http';
  import type { AddressInfo } from 'node:net';

  namespace S3rver {
    interface BucketConfig {
      name: string;
      /** CORS or website configuration documents (XML). */
      configs?: Array<string | Buffer>;
    }

    interface Options {
      address?: string;
      port?: number;
      silent?: boolean;
      directory?: string;
      resetOnClose?: boolean;
      allowMismatchedSignatures?: boolean;
      vhostBuckets?: boolean;
      serviceEndpoint?: string;
      configureBuckets?: BucketConfig[];
    }
  }

  class S3rver {
    constructor(options?: S3rver.Options);
    /** Creates the configured buckets, then listens; resolves with the bound address. */
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    /** Creates the buckets of `configureBuckets` in the store directory (idempotent). */
    configureBuckets(): Promise<void>;
    /** The Koa request listener, for an HTTP server the caller owns. */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    reset(): void;
    httpServer?: Server;
  }

  export = S3rver;
}
