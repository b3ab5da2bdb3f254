import { Queue } from 'bullmq';
import fp from 'fastify-plugin';
import type { RedisConnection } from '../../queue/connection.js';
import { TRAINING_QUEUE, type TrainingJobData } from '../../contracts/job-data.js';
import { createRedis } from '../../queue/connection.js';
import { createDispatcher } from '../../queue/dispatcher.js';

declare module 'fastify' {
  interface FastifyInstance {
    queue: Queue<TrainingJobData>;
    redis: RedisConnection;
    queuePrefix: string;
    /** Puts the tenant's waiting jobs on the queue, up to its TENANT_MAX_CONCURRENT_JOBS; returns the admitted ids. */
    dispatchJobs: (tenantId: string) => Promise<string[]>;
    /** Makes the sweep's next trial jobs, if it needs any, and admits them (src/db/sweeps.ts). */
    advanceSweep: (sweepId: string) => Promise<void>;
  }
}

export default fp<{ redisUrl: string; prefix: string; tenantLimit: number }>(
  async (app, opts) => {
    const redis = createRedis(opts.redisUrl, 'client');
    // Reconnection errors while Redis is down: /ready reports the outage, so they are not logged at every attempt.
    redis.on('error', (err) => app.log.debug({ err }, 'queue client: redis error'));
    const queue = new Queue<TrainingJobData>(TRAINING_QUEUE, { connection: redis, prefix: opts.prefix });
    const { jobs, sweeps } = app.repos;
    const dispatcher = createDispatcher({ jobs, sweeps, queue, tenantLimit: opts.tenantLimit, log: app.log });
    app.decorate<RedisConnection>('redis', redis);
    app.decorate('queue', queue);
    app.decorate('queuePrefix', opts.prefix);
    app.decorate('dispatchJobs', (tenantId: string) => dispatcher.dispatch(tenantId));
    app.decorate('advanceSweep', (sweepId: string) => dispatcher.advanceSweep(sweepId));
    app.addHook('onClose', async () => {
      await queue.close();
      // While Redis is unreachable QUIT cannot be sent (no offline queue): drop the connection, so shutdown completes.
      await redis.quit().catch(() => redis.disconnect());
    });
  },
  { name: 'queue', dependencies: ['prisma'] },
);
