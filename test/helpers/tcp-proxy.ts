/**
 * A tiny TCP proxy on 127.0.0.1 in front of a real server (s3rver), to make its answers slow or
 * cut them short: a real network peer for fault tests, not a mock. Settings can change while
 * it runs; they apply to data forwarded from then on.
 */
import { createServer, Socket } from 'node:net';

export interface ProxySettings {
  /** Each chunk from the server reaches the client this much later. */
  delayMs: number;
  /**
   * Close a connection after this many bytes of the server's answer (a store dying mid-body);
   * undefined = never.
   */
  cutAfterBytes: number | undefined;
}

export interface TcpProxy {
  endpoint: string;
  settings: ProxySettings;
  /** Connections opened so far. */
  readonly connections: number;
  /** Server chunks still held back by `delayMs` (0 once every delayed answer is through or dropped). */
  readonly delayedChunks: number;
  /** Server chunks that were held back by `delayMs` and then reached the client. */
  readonly deliveredLate: number;
  stop(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const settings: ProxySettings = { delayMs: 0, cutAfterBytes: undefined };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let connections = 0;
  let deliveredLate = 0;

  const server = createServer((client) => {
    connections++;
    const upstream = new Socket();
    sockets.add(client);
    sockets.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
    client.on('data', (chunk) => upstream.write(chunk));
    let sent = 0;
    upstream.on('data', (chunk: Buffer) => {
      const forward = () => {
        if (client.destroyed) return;
        const cut = settings.cutAfterBytes;
        if (cut !== undefined && sent + chunk.length > cut) {
          client.write(chunk.subarray(0, Math.max(0, cut - sent)));
          close();
          return;
        }
        sent += chunk.length;
        client.write(chunk);
      };
      if (settings.delayMs <= 0) {
        forward();
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!client.destroyed) deliveredLate++;
        forward();
      }, settings.delayMs);
      timers.add(timer);
    });
    upstream.connect(targetPort, '127.0.0.1');
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy: no TCP address');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    settings,
    get connections() {
      return connections;
    },
    get delayedChunks() {
      return timers.size;
    },
    get deliveredLate() {
      return deliveredLate;
    },
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
