import { Cluster, Redis } from 'ioredis';

/** One Redis server, or a Redis Cluster: every user of Redis here (queue, events, rate limits, cancel) takes either. */
export type RedisConnection = Redis | Cluster;

/** A cluster's seed nodes when `url` is a comma-separated list of URLs (config.REDIS_URL with a cluster), else null. */
export function clusterNodes(url: string): { host: string; port: number }[] | null {
  if (!url.includes(',')) return null;
  const parts = url.split(',').map((part) => part.trim()).filter(Boolean);
  return parts.map((part) => {
    const node = new URL(part);
    return { host: node.hostname, port: Number(node.port || 6379) };
  });
}

/**
 * BullMQ workers need maxRetriesPerRequest: null (blocking commands must wait out reconnects); the API's
 * connection fails fast instead so a request never hangs on a Redis outage. A comma-separated list of URLs is a Redis
 * Cluster's seed nodes; the keys then need a hash-tagged prefix (src/config makes QUEUE_PREFIX one), so that each of
 * BullMQ's multi-key scripts stays in one slot.
 */
export function createRedis(url: string, role: 'worker' | 'client'): RedisConnection {
  const nodes = clusterNodes(url);
  if (nodes) {
    const { username, password } = new URL(url.split(',')[0]);
    const auth = { ...(username ? { username: decodeURIComponent(username) } : {}), ...(password ? { password: decodeURIComponent(password) } : {}) };
    return role === 'worker'
      ? new Cluster(nodes, { redisOptions: { ...auth, maxRetriesPerRequest: null } })
      : new Cluster(nodes, { enableOfflineQueue: false, redisOptions: { ...auth, maxRetriesPerRequest: 2 } });
  }
  return new Redis(url, role === 'worker' ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 2, enableOfflineQueue: false, lazyConnect: false });
}

/** One PING without retries; false when no Redis answers at `url` (used by `npm run dev` to say what to start). */
export async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url.split(',')[0], { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 5_000 });
  redis.on('error', () => undefined); // the failed connect is the answer
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
