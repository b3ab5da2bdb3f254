// Running jobs are cancelled through Redis pub/sub: the API does not know which worker holds a job, so it
// broadcasts the id and the worker that has it aborts it.
import type { Queue } from 'bullmq';
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

/** States in which no worker has taken the job yet: the only ones a cancel removes from the queue. */
const NOT_STARTED = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

/**
 * Makes a cancel Postgres already recorded take effect sooner: a copy still waiting leaves the queue, a running one
 * is told to stop. The record of a run that started stays (its failedReason says where it stopped, and it expires
 * with the queue's retention): removing it as soon as the worker unlocks it would race the worker's own check.
 */
export async function stopCancelled(queue: Queue, redis: RedisConnection, prefix: string, jobId: string): Promise<void> {
  const state = await queue.getJobState(jobId).catch(() => 'unknown');
  if (NOT_STARTED.has(state)) await queue.remove(jobId).catch(() => 0); // fails if a worker took it meanwhile
  await publishCancel(redis, prefix, jobId).catch(() => undefined);
}
