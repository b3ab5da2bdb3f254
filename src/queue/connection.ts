import { Redis } from 'ioredis';

/**
 * BullMQ workers need maxRetriesPerRequest: null (blocking commands must wait out reconnects); the API's
 * connection fails fast instead so a request never hangs on a Redis outage.
 */
export function createRedis(url: string, role: 'worker' | 'client'): Redis {
  return new Redis(url, role === 'worker' ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 2, enableOfflineQueue: false, lazyConnect: false });
}
