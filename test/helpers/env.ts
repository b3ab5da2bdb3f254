import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config/index.js';
import { createTestDatabase, randomPrefix, type TestDatabase } from './databases.js';

export const ADMIN_KEY = 'test-admin-key-0123456789';

/** The variables a test process (API or worker) runs with; also what spawned processes get as env. */
export function testEnv(db: TestDatabase, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    ADMIN_API_KEY: ADMIN_KEY,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    WORKER_HEALTH_PORT: '0',
    HOST: '127.0.0.1',
    ...extra,
  };
}

export interface TestContext {
  db: TestDatabase;
  prefix: string;
  config: Config;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/**
 * A fresh database (migrated unless `migrate: false`) and Redis prefix; cleanup drops the database and deletes the
 * prefix's keys.
 */
export async function createTestContext(extra: Record<string, string> = {}, options: { migrate?: boolean } = {}): Promise<TestContext> {
  const db = await createTestDatabase(options);
  const prefix = randomPrefix();
  const env = testEnv(db, prefix, extra);
  const config = loadConfig(env);
  return {
    db,
    prefix,
    config,
    env,
    async cleanup() {
      await deleteRedisPrefix(config.REDIS_URL, prefix);
      await db.drop();
    },
  };
}

export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
}
