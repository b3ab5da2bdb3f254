// Running jobs are cancelled through Redis pub/sub: the API does not know which worker holds a job, so it
// broadcasts the id and the worker that has it aborts it.
import type { RedisConnection } from './connection.js';

export const cancelChannel = (prefix: string): string => `${prefix}:cancel-training`;

export async function publishCancel(redis: RedisConnection, prefix: string, jobId: string): Promise<void> {
  await redis.publish(cancelChannel(prefix), jobId);
}

/** Uses a dedicated connection: a subscribed ioredis client can run no other command. */
export async function subscribeCancel(subscriber: RedisConnection, prefix: string, onCancel: (jobId: string) => void): Promise<void> {
  const channel = cancelChannel(prefix);
  subscriber.on('message', (ch: string, message: string) => {
    if (ch === channel) onCancel(message);
  });
  await subscriber.subscribe(channel);
}
