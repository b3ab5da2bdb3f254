import { Redis } from 'ioredis';

/**
 * BullMQ workers need maxRetriesPerRequest: null (blocking commands must wait out reconnects); the API's
 * connection fails fast instead so a request never hangs on a Redis outage.
 */
export function createRedis(url: string, role: 'worker' | 'client'): Redis {
  return new Redis(url, role === 'worker' ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 2, enableOfflineQueue: false, lazyConnect: false });
}

/** One PING without retries; false when no Redis answers at `url` (used by `npm run dev` to say what to start). */
export async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 5_000 });
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
