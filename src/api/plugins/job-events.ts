// The API process's one Redis subscriber for live job events (src/queue/job-events.ts), shared by every event
// stream it serves, and the list of open streams, which are ended before the server closes (a stream would
// otherwise keep close() waiting; clients reconnect to another replica with Last-Event-ID).
import fp from 'fastify-plugin';
import { createRedis } from '../../queue/connection.js';
import { JobEventHub } from '../../queue/job-events.js';

declare module 'fastify' {
  interface FastifyInstance {
    jobEvents: {
      hub: JobEventHub;
      /** Registers an open stream's closer; returns the function that unregisters it. */
      track(close: () => void): () => void;
    };
  }
}

export default fp<{ redisUrl: string }>(
  async (app, opts) => {
    const subscriber = createRedis(opts.redisUrl, 'client');
    // ioredis reconnects (and resubscribes) by itself; streams catch up from Postgres meanwhile.
    subscriber.on('error', (err) => app.log.debug({ err }, 'job events subscriber: redis error'));
    const hub = new JobEventHub(subscriber, app.queuePrefix);
    // The connection fails commands while it is not ready (no offline queue), so subscribe once it is.
    const listen = (): void => {
      hub.start().catch((err: unknown) => {
        app.log.warn({ err }, 'could not subscribe to job events; retrying when Redis is back');
        subscriber.once('ready', listen);
      });
    };
    if (subscriber.status === 'ready') listen();
    else subscriber.once('ready', listen);

    const open = new Set<() => void>();
    app.decorate('jobEvents', {
      hub,
      track(close: () => void) {
        open.add(close);
        return () => open.delete(close);
      },
    });
    app.addHook('preClose', async () => {
      for (const close of [...open]) close();
    });
    app.addHook('onClose', async () => {
      hub.close();
      await subscriber.quit().catch(() => subscriber.disconnect());
    });
  },
  { name: 'job-events', dependencies: ['queue'] },
);
