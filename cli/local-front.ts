/**
 * The local stack's front doors: small Node HTTP servers on the public ports that pass each
 * request on to a server behind them (miniflare for the CDN, s3rver for S3), with one check or
 * header of their own. Node keeps the request target exactly as sent, which workerd and s3rver
 * cannot be asked for; and a port in use is a clear error here, not a workerd dump.
 */
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const HOST = '127.0.0.1';

/** What a front door does with a request: refuse it (a response), or pass it with extra headers. */
export type FrontDecision = { refuse: Refusal } | { headers?: Record<string, string> };

export interface Refusal {
  status: number;
  code: string;
  message: string;
  /** `s3`: S3's XML error document, so S3 clients show the code and message. */
  body?: 'text' | 's3';
}

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface FrontOptions {
  /** Public port (0 = any free one). */
  port: number;
  /** What the port is, for the error when it is in use ("the local CDN"). */
  name: string;
  /** The flag or variable that moves it ("--port or PORT"). */
  portSetting: string;
  /** The server behind, http://127.0.0.1:PORT. */
  target: string;
  decide(req: IncomingMessage): FrontDecision | Promise<FrontDecision>;
  /**
   * Work that must be done after the server behind answered a request with 2xx and before the
   * client hears so (the S3 door's original sync). If it fails, the client gets a 500 (S3
   * clients retry it).
   */
  settle?: ((req: IncomingMessage) => Promise<void>) | undefined;
}

export class PortInUseError extends Error {}

function refuse(res: ServerResponse, { status, code, message, body }: Refusal): void {
  const xml = body === 's3';
  res.writeHead(status, {
    'content-type': xml ? 'application/xml' : 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'x-litepix-error': code,
  });
  res.end(
    xml
      ? `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlText(message)}</Message></Error>\n`
      : `${message}\n`,
  );
}

function pass(
  req: IncomingMessage,
  res: ServerResponse,
  target: URL,
  headers: Record<string, string>,
  settle: FrontOptions['settle'],
): void {
  let answered = false;
  const upstream = request(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, ...headers },
    },
    (answer) => {
      answered = true;
      // A broken answer body ends the reply too (else the client would wait for the rest).
      answer.on('error', (err) => res.destroy(err));
      const status = answer.statusCode ?? 502;
      // Written once: should anything have answered meanwhile, writeHead would throw, unhandled,
      // inside the settle promise (seen once in CI as ERR_HTTP_HEADERS_SENT).
      const reply = () => {
        if (res.headersSent) return void answer.resume();
        res.writeHead(status, answer.headers);
        answer.pipe(res);
      };
      if (!settle || status < 200 || status > 299) return reply();
      settle(req).then(reply, (err: Error) => {
        answer.resume();
        if (!res.headersSent)
          refuse(res, {
            status: 500,
            code: 'InternalError',
            message: `Stored, but what depends on it could not be updated (${err.message}); retry`,
            body: 's3',
          });
      });
    },
  );
  // An error after the upstream answered (e.g. writing the rest of a body it no longer reads)
  // leaves that answer standing: it is relayed, or, while settle runs, about to be.
  upstream.on('error', (err) => {
    if (answered) return;
    if (!res.headersSent)
      refuse(res, {
        status: 502,
        code: 'LOCAL_UPSTREAM_UNAVAILABLE',
        message: `Local server behind: ${err.message}`,
      });
    else res.destroy(err);
  });
  req.pipe(upstream);
}

/** Listens on 127.0.0.1; resolves with the server and its URL. */
export async function startFront(options: FrontOptions): Promise<{ server: Server; url: string }> {
  const target = new URL(options.target);
  const server = createServer((req, res) => {
    Promise.resolve(options.decide(req)).then(
      (decision) => {
        if ('refuse' in decision) {
          req.resume();
          refuse(res, decision.refuse);
        } else pass(req, res, target, decision.headers ?? {}, options.settle);
      },
      (err: Error) => refuse(res, { status: 500, code: 'LOCAL_FRONT_FAILED', message: err.message }),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      fail(
        err.code === 'EADDRINUSE'
          ? new PortInUseError(
              `Port ${options.port} for ${options.name} is in use (another litepix dev?): stop that process or choose another port with ${options.portSetting}`,
            )
          : err,
      );
    });
    server.listen(options.port, HOST, () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  return { server, url: `http://${HOST}:${port}` };
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((ok) => {
    server.close(() => ok());
    server.closeAllConnections();
  });
}
