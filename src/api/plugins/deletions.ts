// Deletes reach every API process at once (src/queue/deletion-channel.ts): a route announces what it deleted once
// Postgres has committed it; this process applies it before the answer leaves, the others when Redis relays it.
// One subscriber connection per process; the model cache listens (routes/models.ts), a deleted tenant's API keys and
// revoked keys are forgotten here, and their event streams end (plugins/job-events.ts).
import fp from 'fastify-plugin';
import type { Deletion } from '../../contracts/deletions.js';
import { createRedis } from '../../queue/connection.js';
import { publishDeletion, subscribeDeletions, type DeletionNotice } from '../../queue/deletion-channel.js';

declare module 'fastify' {
  interface FastifyInstance {
    deletions: {
      /** Applies a committed delete in this process, then broadcasts it (best effort: see below). */
      announce(deletion: Deletion): Promise<void>;
      /** `listener` hears every delete, this process's own and the others', and `missed` after a Redis outage. */
      listen(listener: (notice: DeletionNotice) => void): void;
    };
  }
}

export default fp<{ redisUrl: string }>(
  async (app, opts) => {
    const listeners: ((notice: DeletionNotice) => void)[] = [];
    const notify = (notice: DeletionNotice) => {
      for (const listener of listeners) listener(notice);
    };
    listeners.push((notice) => {
      if (notice.kind === 'missed' || notice.deletion.tenant || notice.deletion.keysRevoked) app.forgetApiKeys();
    });

    const subscriber = createRedis(opts.redisUrl, 'client');
    subscriber.on('error', (err) => app.log.debug({ err }, 'deletions subscriber: redis error'));
    // The connection fails commands while it is not ready (no offline queue), so subscribe once it is.
    const listen = (): void => {
      subscribeDeletions(subscriber, app.queuePrefix, notify).catch((err: unknown) => {
        app.log.warn({ err }, 'could not subscribe to deletions; retrying when Redis is back');
        subscriber.once('ready', listen);
      });
    };
    if (subscriber.status === 'ready') listen();
    else subscriber.once('ready', listen);

    app.decorate('deletions', {
      async announce(deletion: Deletion) {
        notify({ kind: 'deleted', deletion });
        // Postgres has the delete whatever Redis does. A publish that fails because Redis is down is made up for:
        // every subscriber lost its connection too, and empties its caches when it is back (`missed`).
        await publishDeletion(app.redis, app.queuePrefix, deletion).catch((err: unknown) =>
          app.log.warn({ err, deletion }, 'could not broadcast a delete; other processes drop their caches when Redis is back'),
        );
      },
      listen(listener: (notice: DeletionNotice) => void) {
        listeners.push(listener);
      },
    });
    app.addHook('onClose', async () => {
      await subscriber.quit().catch(() => subscriber.disconnect());
    });
  },
  { name: 'deletions', dependencies: ['queue', 'auth'] },
);
