// A TCP proxy a test puts between its processes and Postgres (or Redis): stopping it makes the service unreachable
// for those processes only, without touching the server other test runs share.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from './processes.js';

export interface TcpProxy {
  port: number;
  /** Rewrites a connection URL to go through the proxy. */
  url(target: string): string;
  /**
   * Refuses new connections and cuts the open ones, as a server that went away: with a FIN by default, or with a
   * RST (`reset`), which clients see as ECONNRESET, as from a host that crashed or a network that dropped them.
   */
  stop(cut?: Cut): Promise<void>;
  /** Accepts and forwards again, on the same port. */
  start(): Promise<void>;
  /**
   * Forwards the next bytes any client sends (a query, a COMMIT), then stops: the server may act on them, but the
   * client never hears back. An outage that begins while a request is in flight.
   */
  stopAfterNextRequest(cut?: Cut): Promise<void>;
}

export type Cut = 'close' | 'reset';

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let stopArmed: (() => void) | null = null;

  const start = async () => {
    if (server) return;
    server = createServer((client) => {
      const upstream = connect(targetPort, targetHost);
      for (const s of [client, upstream]) sockets.add(s);
      client.pipe(upstream);
      upstream.pipe(client);
      // Registered after pipe's own listener, so the chunk is already written upstream; the callback waits for it to
      // leave this process.
      client.on('data', () => {
        const fire = stopArmed;
        stopArmed = null;
        if (fire) upstream.write(Buffer.alloc(0), fire);
      });
      const close = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      for (const s of [client, upstream]) {
        s.on('error', close);
        s.on('close', close);
      }
    });
    await new Promise<void>((resolve, reject) => server!.once('error', reject).listen(port, '127.0.0.1', resolve));
  };
  await start();

  const stop = async (cut: Cut = 'close') => {
    if (!server) return;
    const closing = new Promise((resolve) => server!.close(resolve));
    for (const s of sockets) if (cut === 'reset') s.resetAndDestroy(); else s.destroy();
    sockets.clear();
    await closing;
    server = null;
  };

  return {
    port,
    url(target: string) {
      const url = new URL(target);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    stop,
    start,
    stopAfterNextRequest: (cut?: Cut) => new Promise<void>((resolve) => (stopArmed = () => void stop(cut).then(resolve))),
  };
}
