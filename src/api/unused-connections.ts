// Node's server.close() closes keep-alive connections between requests, but one on which no request has started
// (a load balancer's or a browser's preconnect) counts as active until headersTimeout: it held every shutdown of
// the API for about a minute. Such a connection has nothing to lose, so closing drops it.
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

export function dropUnusedConnectionsOnClose(app: FastifyInstance): void {
  const unused = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    unused.add(socket);
    socket.once('close', () => unused.delete(socket));
  });
  app.server.on('request', (request: { socket: Socket }) => unused.delete(request.socket));
  app.addHook('preClose', (done) => {
    for (const socket of unused) socket.destroy();
    done();
  });
}
