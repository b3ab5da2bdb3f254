// Deletes are broadcast through Redis pub/sub, like cancels (cancel-channel.ts): every API process drops deleted
// models (and a deleted tenant's API keys) from its caches, every worker process deleted datasets, at once. Pub/sub
// keeps nothing for a subscriber that was disconnected, so a subscriber that comes back after losing its connection
// hears `missed`: its process empties those caches, which refill from Postgres.
import { parseDeletion, type Deletion } from '../contracts/deletions.js';
import type { RedisConnection } from './connection.js';

export const deletionChannel = (prefix: string): string => `${prefix}:deleted`;

export type DeletionNotice = { kind: 'deleted'; deletion: Deletion } | { kind: 'missed' };

export async function publishDeletion(redis: RedisConnection, prefix: string, deletion: Deletion): Promise<void> {
  await redis.publish(deletionChannel(prefix), JSON.stringify(deletion));
}

/**
 * Listens on `subscriber`, a connection of its own or one that only subscribes (cancel-channel.ts shares it). Resolves
 * once Redis confirmed the subscription; ioredis subscribes again by itself after a reconnect.
 */
export async function subscribeDeletions(subscriber: RedisConnection, prefix: string, listener: (notice: DeletionNotice) => void): Promise<void> {
  const channel = deletionChannel(prefix);
  subscriber.on('message', (ch: string, text: string) => {
    if (ch !== channel) return;
    const deletion = parseDeletion(text);
    if (deletion) listener({ kind: 'deleted', deletion });
  });
  let connected = subscriber.status === 'ready';
  subscriber.on('ready', () => {
    if (connected) listener({ kind: 'missed' });
    connected = true;
  });
  await subscriber.subscribe(channel);
}
