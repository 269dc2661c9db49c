/**
 * The origin behind a plain Node HTTP server (the local stack's stand-in for the Lambda
 * Function URL): the same handler, a few lines of translation.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { OriginHandler } from './origin-handler.ts';

export interface RouteResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** Extra routes tried first (the local stack's playground); undefined = not mine. */
export type LocalRoute = (req: IncomingMessage) => Promise<RouteResponse | undefined>;

const internalError = (res: ServerResponse, err: unknown) => {
  // Handlers answer every fault themselves; this is only reached on a bug.
  if (!res.headersSent) {
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  }
  res.end('Internal error\n');
  console.error(err);
};

export function createOriginServer(origin: OriginHandler, routes?: LocalRoute): Server {
  let counter = 0;
  return createServer((req, res) => {
    const method = req.method ?? 'GET';
    if (!routes) return serveOrigin(req, res, method);
    routes(req).then(
      (out) => {
        if (!out) return serveOrigin(req, res, method);
        res.writeHead(out.status, out.headers).end(method === 'HEAD' ? undefined : out.body);
      },
      (err: unknown) => internalError(res, err),
    );
  });

  function serveOrigin(req: IncomingMessage, res: ServerResponse, method: string): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' });
      res.end(`Method ${method} is not allowed: expected GET or HEAD\n`);
      return;
    }
    origin.handle(path, `local-${++counter}`).then(
      (out) => res.writeHead(out.status, out.headers).end(method === 'HEAD' ? undefined : out.body),
      (err: unknown) => internalError(res, err),
    );
  }
}
