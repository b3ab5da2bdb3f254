// Security headers (helmet) with a working swagger UI, request ids in responses and logs, per-key rate limits kept
// in Redis (429 with Retry-After), and 5xx bodies without internals.
import { Redis } from 'ioredis';
import pg from 'pg';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { buildTestApp, createTenant, useTestService } from '../helpers/app.js';
import { auth } from '../helpers/fixtures.js';
import { spawnApi, waitFor } from '../helpers/processes.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('hardening', () => {
  const service = useTestService();
  let key: string;

  beforeAll(async () => {
    key = (await createTenant(service.app)).apiKey;
  });

  it('sends security headers on answers and errors alike: the strict API set under /v1, helmet\'s elsewhere', async () => {
    const everywhere = (res: request.Response) => {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-powered-by']).toBeUndefined();
    };
    for (const res of [
      await request(service.app.server).get('/v1/datasets').set(auth(key)),
      await request(service.app.server).get('/v1/datasets'),
      await request(service.app.server).get('/v1/nowhere').set(auth(key)),
    ]) {
      everywhere(res);
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['cache-control']).toBe('no-store');
    }
    for (const res of [await request(service.app.server).get('/nowhere'), await request(service.app.server).get('/health')]) {
      everywhere(res);
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'self'");
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    }
  });

  it('still serves the swagger UI under that policy: its page loads only its own scripts and styles', async () => {
    const page = await request(service.app.server).get('/docs/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    // The UI is served over plain HTTP too: its assets must not be forced to https.
    expect(page.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    const scripts = [...page.text.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const attrs of scripts) expect(attrs, 'no inline scripts').toMatch(/src="/);
    const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => new URL(m[1], 'http://x/docs/').pathname);
    for (const asset of assets) {
      const res = await request(service.app.server).get(asset);
      expect(res.status, asset).toBe(200);
    }
    expect((await request(service.app.server).get('/docs/json')).status).toBe(200);
  });

  it('gives every response an x-request-id, keeping a caller\'s plain one', async () => {
    expect((await request(service.app.server).get('/health')).headers['x-request-id']).toMatch(UUID);
    expect((await request(service.app.server).get('/health').set('x-request-id', 'caller-42.a:b')).headers['x-request-id']).toBe('caller-42.a:b');
    const forged = await request(service.app.server).get('/v1/datasets').set('x-request-id', '"}{"level":60');
    expect(forged.headers['x-request-id']).toMatch(UUID);
    expect((await request(service.app.server).get('/nowhere').set('x-request-id', 'x'.repeat(129))).headers['x-request-id']).toMatch(UUID);
  });

  it('rate-limits per API key through Redis: 429 with Retry-After, shared by API processes', async () => {
    // A prefix of their own (still under the test's, so cleanup removes it): earlier requests do not count here.
    const prefix = `${service.ctx.prefix}:limited`;
    const env = { ...service.ctx.env, QUEUE_PREFIX: prefix, RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' };
    const one = await buildTestApp(loadConfig(env));
    const two = await buildTestApp(loadConfig(env));
    try {
      const a = (await createTenant(one, 'limited-a')).apiKey;
      const b = (await createTenant(one, 'limited-b')).apiKey;
      for (const server of [one.server, two.server, one.server]) {
        const ok = await request(server).get('/v1/datasets').set(auth(a));
        expect(ok.status).toBe(200);
        expect(ok.headers['x-ratelimit-limit']).toBe('3');
      }
      // The fourth request in the window, on the other process: the count lives in Redis.
      const limited = await request(two.server).get('/v1/datasets').set(auth(a));
      expect(limited.status).toBe(429);
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(limited.body.error).toMatchObject({ code: 'ERR_RATE_LIMITED', message: expect.stringContaining('retry in'), details: { limit: 3, retryAfterSeconds: retryAfter } });
      // Per key: another tenant is unaffected; health checks are never limited.
      expect((await request(one.server).get('/v1/datasets').set(auth(b))).status).toBe(200);
      for (let i = 0; i < 5; i++) expect((await request(one.server).get('/health')).status).toBe(200);
      // Without a key, the limit is per address (the 401s count).
      const anonymous = [];
      for (let i = 0; i < 4; i++) anonymous.push((await request(one.server).get('/v1/jobs')).status);
      expect(anonymous).toEqual([401, 401, 401, 429]);

      const redis = new Redis(service.ctx.config.REDIS_URL);
      const keys = await redis.keys(`${prefix}:rate-limit:*`);
      await redis.quit();
      expect(keys.length).toBeGreaterThanOrEqual(3);
      expect(keys.join(' ')).not.toContain(a); // hashed, never the key itself
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('logs every request with its id, and a 5xx answers without internals (real server from dist/)', async () => {
    const api = await spawnApi({ ...service.ctx.env, LOG_LEVEL: 'info', MIGRATE_ON_START: 'false' });
    try {
      const res = await fetch(`${api.url}/v1/datasets`, { headers: { 'x-request-id': 'trace-me-42', ...auth(key) } });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBe('trace-me-42');
      const lines = await waitFor('the request to be logged', () => {
        const found = api.output().split('\n').filter((l) => l.includes('"reqId":"trace-me-42"'));
        return found.length >= 2 ? found : undefined;
      });
      expect(lines.map((l) => JSON.parse(l).msg)).toEqual(expect.arrayContaining(['incoming request', 'request completed']));

      // Break the database under the running API: the answer is generic, the log has the details and the id.
      const db = new pg.Client({ connectionString: service.ctx.db.url });
      await db.connect();
      await db.query('ALTER TABLE "Dataset" RENAME TO "DatasetGone"');
      try {
        const broken = await fetch(`${api.url}/v1/datasets`, { headers: { 'x-request-id': 'broken-1', ...auth(key) } });
        expect(broken.status).toBeGreaterThanOrEqual(500);
        const text = await broken.text();
        expect(JSON.parse(text).error.code).toMatch(/^ERR_(INTERNAL|UNAVAILABLE)$/);
        expect(text).not.toMatch(/Dataset|SELECT|relation|prisma|postgres|\bat\s|\.js:\d+/i);
        await waitFor('the error to be logged', () => api.output().split('\n').some((l) => l.includes('"reqId":"broken-1"') && /"level":50/.test(l)));
      } finally {
        await db.query('ALTER TABLE "DatasetGone" RENAME TO "Dataset"');
        await db.end();
      }
    } finally {
      await api.stop();
    }
  });
});
