import { Queue } from 'bullmq';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import type { TrainingJobData } from '../../contracts/job-data.js';
import { createRedis } from '../../queue/connection.js';
import { TRAINING_QUEUE } from '../../queue/producer.js';

declare module 'fastify' {
  interface FastifyInstance {
    queue: Queue<TrainingJobData>;
    redis: Redis;
    queuePrefix: string;
  }
}

export default fp<{ redisUrl: string; prefix: string }>(
  async (app, opts) => {
    const redis = createRedis(opts.redisUrl, 'client');
    const queue = new Queue<TrainingJobData>(TRAINING_QUEUE, { connection: redis, prefix: opts.prefix });
    app.decorate('redis', redis);
    app.decorate('queue', queue);
    app.decorate('queuePrefix', opts.prefix);
    app.addHook('onClose', async () => {
      await queue.close();
      await redis.quit();
    });
  },
  { name: 'queue' },
);
