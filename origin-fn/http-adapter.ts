/**
 * The origin behind a plain Node HTTP server (the local stack's stand-in for the Lambda
 * Function URL): the same handler, a few lines of translation.
 */
import { createServer, type Server } from 'node:http';
import type { OriginHandler } from './origin-handler.ts';

export type PageRoute = (
  path: string,
) => { status: number; headers: Record<string, string>; body: string } | undefined;

export function createOriginServer(origin: OriginHandler, pages?: PageRoute): Server {
  let counter = 0;
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    const page = pages?.(path);
    if (page) {
      res.writeHead(page.status, page.headers).end(method === 'HEAD' ? undefined : page.body);
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' });
      res.end(`Method ${method} is not allowed: expected GET or HEAD\n`);
      return;
    }
    origin.handle(path, `local-${++counter}`).then(
      (out) => res.writeHead(out.status, out.headers).end(method === 'HEAD' ? undefined : out.body),
      (err: unknown) => {
        // handle() answers every fault itself; this is only reached on a bug.
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
        res.end('Internal error\n');
        console.error(err);
      },
    );
  });
}
