// The per-key rate limit counts in Redis in leased blocks (src/api/rate-limit-store.ts): however requests are spread
// over API processes and however many arrive at once, no more than the limit is ever served, and positions leased
// ahead but never used stay within the documented share of the limit per process. While Redis is unreachable a
// process still limits, counting on its own.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { poolOf } from '../../src/db/client.js';
import { buildTestApp } from '../helpers/app.js';
import { ADMIN_KEY, createTestContext, type TestContext } from '../helpers/env.js';
import { waitFor } from '../helpers/processes.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

/** Unauthenticated requests: counted per address before authentication answers 401, and no database involved. */
const anonymous = (app: FastifyInstance) => app.inject({ method: 'GET', url: '/v1/jobs' }).then((res) => res.statusCode);

describe('rate limit across API processes', () => {
  let ctx: TestContext;
  const apps: FastifyInstance[] = [];
  const build = async (prefix: string, max: number, env: Record<string, string> = {}) => {
    const app = await buildTestApp(loadConfig({ ...ctx.env, QUEUE_PREFIX: `${ctx.prefix}:${prefix}`, RATE_LIMIT_MAX: String(max), RATE_LIMIT_WINDOW_MS: '600000', ...env }));
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await ctx?.cleanup();
  });

  it('never serves more than the limit to a burst spread over two processes', async () => {
    const max = 200;
    const [one, two] = [await build('burst', max), await build('burst', max)];
    const statuses = await Promise.all(Array.from({ length: 300 }, (_, i) => anonymous(i % 2 ? one : two)));
    const served = statuses.filter((s) => s === 401).length;
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    expect(served).toBeLessThanOrEqual(max);
    // Each process may hold at most 1% of the limit leased ahead and unused.
    expect(served).toBeGreaterThanOrEqual(max - 2 * Math.floor(max * 0.01));
  });

  it('counts requests with unknown keys by their address: a new random token per request gets no fresh budget', async () => {
    const app = await build('random-keys', 100);
    const statuses: number[] = [];
    for (let i = 0; i < 300; i++) {
      const token = `bp_${randomBytes(24).toString('base64url')}`;
      statuses.push((await app.inject({ method: 'GET', url: '/v1/jobs', headers: { authorization: `Bearer ${token}` } })).statusCode);
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(100);
    expect(statuses.filter((s) => s === 429)).toHaveLength(200);
  });

  it('counts wrong admin keys by their address: guessing on /v1/tenants gets 429 past the budget, the admin key keeps its own', async () => {
    const app = await build('admin-guess', 20);
    const guess = (key: string) =>
      app.inject({ method: 'POST', url: '/v1/tenants', headers: { authorization: `Bearer ${key}` }, payload: { name: 'x' } }).then((res) => res.statusCode);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push(await guess(`guess-${randomBytes(12).toString('hex')}`));
    expect(statuses).toEqual([...Array(20).fill(403), ...Array(10).fill(429)]);
    expect(await guess(ADMIN_KEY)).toBe(201);
  });

  it('looks a wrong key up in Postgres once, however many requests carry it at once or after', async () => {
    const app = await build('one-lookup', 10_000, { AUTH_CACHE_TTL_MS: '600000' });
    const wrong = `bp_${randomBytes(32).toString('base64url')}`;
    const flood = () => Promise.all(Array.from({ length: 50 }, () => app.inject({ method: 'GET', url: '/v1/jobs', headers: { authorization: `Bearer ${wrong}` } })));
    const pool = poolOf(app.db);
    let queries = 0;
    const counted = () => queries++;
    pool.on('acquire', counted);
    try {
      const statuses = [...(await flood()), ...(await flood())].map((res) => res.statusCode);
      expect(statuses).toEqual(Array(100).fill(401));
    } finally {
      pool.off('acquire', counted);
    }
    expect(queries).toBe(1);
  });

  it('counts every request in Redis, leasing ahead no more than 1% of the limit', async () => {
    const max = 10_000;
    const app = await build('steady', max);
    const requests = 400;
    for (let i = 0; i < requests; i++) expect(await anonymous(app)).toBe(401);
    const redis = new Redis(ctx.config.REDIS_URL);
    const [key] = await redis.keys(`${ctx.prefix}:steady:rate-limit:*`);
    const counted = Number(await redis.get(key));
    await redis.quit();
    expect(counted).toBeGreaterThanOrEqual(requests);
    expect(counted - requests).toBeLessThanOrEqual(max * 0.01);
    // The next process to start sees those requests: a limit of 10,000 leaves it 10,000 - counted.
    const other = await build('steady', max);
    const res = await other.inject({ method: 'GET', url: '/v1/jobs' });
    expect(Number(res.headers['x-ratelimit-remaining'])).toBe(max - counted - 1);
  });

  it('limits on its own while Redis is unreachable, counts in Redis again once it is back, and closes without it', async () => {
    const max = 20;
    const redisUrl = new URL(ctx.config.REDIS_URL);
    const proxy = await startTcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
    try {
      const app = await build('outage', max, { REDIS_URL: proxy.url(ctx.config.REDIS_URL) });
      const ready = async () => (await app.inject({ method: 'GET', url: '/ready' })).statusCode;
      await waitFor('the API to reach Redis', async () => (await ready()) === 200);
      expect(await anonymous(app)).toBe(401);
      await proxy.stop();
      await waitFor('the API to see Redis gone', async () => (await ready()) === 503);
      const during = [];
      for (let i = 0; i < max + 10; i++) during.push(await anonymous(app));
      // Counted from 1 in a window of this process's own, as if the outage began a new window.
      expect(during).toEqual([...Array(max).fill(401), ...Array(10).fill(429)]);
      const refused = await app.inject({ method: 'GET', url: '/v1/jobs' });
      expect(refused.json().error).toMatchObject({ code: 'ERR_RATE_LIMITED' });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

      await proxy.start();
      await waitFor('the API to see Redis back', async () => (await ready()) === 200, 15_000);
      // Redis's window still holds the one request counted before the outage.
      const after = await app.inject({ method: 'GET', url: '/v1/jobs' });
      expect(after.statusCode).toBe(401);
      expect(Number(after.headers['x-ratelimit-remaining'])).toBe(max - 2);

      await proxy.stop();
      await waitFor('the API to see Redis gone again', async () => (await ready()) === 503);
      await app.close();
    } finally {
      await proxy.stop();
    }
  });
});
