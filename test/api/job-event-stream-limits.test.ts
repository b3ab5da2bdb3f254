// Event streams against real Postgres and Redis, with two API processes and no worker (the jobs stay queued, so
// their streams stay open): a revoked key's streams end with `event: closed`, on every process; a key has at most
// EVENTS_MAX_STREAMS_PER_KEY open across processes; and pings cost no Postgres query per stream, while a change no
// Redis message announced still reaches the streams.
import { get } from 'node:http';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolOf } from '../../src/db/client.js';
import { buildTestApp, createTenant, useTestService } from '../helpers/app.js';
import { ADMIN_KEY } from '../helpers/env.js';
import { auth } from '../helpers/fixtures.js';
import { submitJob, uploadSlowDataset } from '../helpers/jobs.js';
import { waitFor } from '../helpers/processes.js';
import { openEventStream, type EventStreamReader } from '../helpers/sse.js';

const MAX_STREAMS = 3;

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

/**
 * One GET on a connection of its own (closed after it): the status, and the JSON body of an error. A stream that is
 * accepted is dropped at once. (fetch would keep the connection of a refusal alive and reuse it.)
 */
function attempt(url: string, key: string): Promise<{ status: number; body?: unknown }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers: auth(key) }, (res) => {
      if (res.statusCode === 200) {
        res.destroy();
        return resolve({ status: 200 });
      }
      let text = '';
      res.on('data', (chunk) => (text += chunk)).on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    }).on('error', reject);
  });
}

describe('job event streams: revocation, cap, cost of pings', () => {
  // The first process pings often and remembers key lookups briefly; the second pings once a minute and remembers
  // lookups for a minute, so only the revocation broadcast can end its streams within this test.
  const service = useTestService({ env: { EVENTS_PING_INTERVAL_MS: '200', AUTH_CACHE_TTL_MS: '100', EVENTS_MAX_STREAMS_PER_KEY: String(MAX_STREAMS) } });
  let second: FastifyInstance;
  let firstUrl: string;
  let secondUrl: string;
  const readers: EventStreamReader[] = [];
  const open = async (url: string, key: string, jobId: string) => {
    const reader = await openEventStream(`${url}/v1/jobs/${jobId}/events`, auth(key));
    readers.push(reader);
    return reader;
  };

  beforeAll(async () => {
    second = await buildTestApp({ ...service.ctx.config, EVENTS_PING_INTERVAL_MS: 60_000, AUTH_CACHE_TTL_MS: 60_000 });
    firstUrl = await listen(service.app);
    secondUrl = await listen(second);
  });
  afterAll(async () => {
    for (const reader of readers) reader.close();
    await second?.close();
  });

  /** A tenant with a second key, and a queued job (no worker runs here). */
  async function queuedJob(name: string) {
    const tenant = await createTenant(service.app, name);
    const datasetId = await uploadSlowDataset(service.app, tenant.apiKey);
    const jobId = await submitJob(service.app, tenant.apiKey, datasetId, 5);
    return { ...tenant, jobId };
  }

  it('a revoked key: its streams end with `event: closed` on every API process, at once through the broadcast or at the next ping', async () => {
    const tenant = await queuedJob('revoked');
    const other = await request(service.app.server).post(`/v1/tenants/${tenant.id}/keys`).set(auth(ADMIN_KEY));
    const otherKey = other.body.apiKey as string;
    const onFirst = await open(firstUrl, tenant.apiKey, tenant.jobId);
    const onSecond = await open(secondUrl, tenant.apiKey, tenant.jobId);
    const otherKeys = await open(secondUrl, otherKey, tenant.jobId);
    for (const reader of [onFirst, onSecond, otherKeys]) expect((await reader.next())?.event).toBe('status');

    const revoked = await request(service.app.server).delete(`/v1/tenants/${tenant.id}/keys/${tenant.keyId}`).set(auth(ADMIN_KEY));
    expect(revoked.status).toBe(200);
    for (const reader of [onFirst, onSecond]) {
      const rest = await reader.readUntil((b) => b.event === 'closed', 10_000);
      expect(rest.filter((b) => b.event)).toHaveLength(1);
      expect(JSON.parse(rest.at(-1)!.data!)).toEqual({ code: 'ERR_UNAUTHORIZED', message: expect.stringContaining('revoked') });
      expect(await reader.next()).toBeNull();
    }
    // The tenant's other key still works.
    expect((await request(second.server).get(`/v1/jobs/${tenant.jobId}`).set(auth(otherKey))).status).toBe(200);
    const revokedInPostgres = async () => {
      // Behind the API's back (no broadcast): the first process's next ping finds the key gone from its lookup.
      await service.app.db.apiKey.updateMany({ where: { tenantId: tenant.id }, data: { revokedAt: new Date() } });
    };
    const onFirstOther = await open(firstUrl, otherKey, tenant.jobId);
    expect((await onFirstOther.next())?.event).toBe('status');
    await revokedInPostgres();
    const rest = await onFirstOther.readUntil((b) => b.event === 'closed', 10_000);
    expect(rest.at(-1)?.event).toBe('closed');
    expect(await onFirstOther.next()).toBeNull();
    otherKeys.close();
  });

  it(`a key has at most ${MAX_STREAMS} streams open across API processes: one more answers 429; a closed one frees its slot`, async () => {
    const tenant = await queuedJob('capped');
    const streams = [await open(firstUrl, tenant.apiKey, tenant.jobId), await open(secondUrl, tenant.apiKey, tenant.jobId), await open(firstUrl, tenant.apiKey, tenant.jobId)];
    for (const reader of streams) expect(reader.response.status).toBe(200);
    for (const url of [firstUrl, secondUrl]) {
      const refused = await attempt(`${url}/v1/jobs/${tenant.jobId}/events`, tenant.apiKey);
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({
        error: {
          code: 'ERR_RATE_LIMITED',
          message: `this API key has ${MAX_STREAMS} event streams open, the most it may: close one first`,
          details: { budget: 'eventStreams', limit: MAX_STREAMS },
        },
      });
    }
    // Another tenant's key has slots of its own.
    const other = await queuedJob('uncapped');
    expect((await open(secondUrl, other.apiKey, other.jobId)).response.status).toBe(200);

    streams[1].close();
    await waitFor('the closed stream to free its slot', async () => (await attempt(`${firstUrl}/v1/jobs/${tenant.jobId}/events`, tenant.apiKey)).status === 200);

    // Clients that leave as soon as they asked (before the job and the slot are looked up) hold no slot.
    const { port } = new URL(firstUrl);
    for (let i = 0; i < 5; i++) {
      const socket = connect(Number(port), '127.0.0.1');
      socket.write(`GET /v1/jobs/${tenant.jobId}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${tenant.apiKey}\r\n\r\n`, () => socket.destroy());
    }
    await waitFor('a slot after the clients that left', async () => (await attempt(`${firstUrl}/v1/jobs/${tenant.jobId}/events`, tenant.apiKey)).status === 200);
  });

  it('pings cost no Postgres query per stream, and a change no Redis message announced still reaches every stream', async () => {
    // A process of its own, so that only this test's streams are open on it.
    const third = await buildTestApp(service.ctx.config);
    const thirdUrl = await listen(third);
    try {
      await pingedStreams(third, thirdUrl);
    } finally {
      await third.close();
    }
  });

  async function pingedStreams(app: FastifyInstance, url: string): Promise<void> {
    const streamsPerJob = 3;
    const tenants = [await queuedJob('pinged-a'), await queuedJob('pinged-b')];
    const streams: EventStreamReader[] = [];
    for (const tenant of tenants) for (let i = 0; i < streamsPerJob; i++) streams.push(await open(url, tenant.apiKey, tenant.jobId));
    for (const reader of streams) expect((await reader.next())?.event).toBe('status');

    // Queries the process sends while one stream sees 10 pings (all its streams get each ping).
    const pool = poolOf(app.db);
    let queries = 0;
    const counted = () => queries++;
    pool.on('acquire', counted);
    const pings = 10;
    try {
      for (let seen = 0; seen < pings; ) if ((await streams[0].next())?.comment === 'ping') seen++;
    } finally {
      pool.off('acquire', counted);
    }
    // Per ping interval: one query for the jobs of every stream, and at most one key lookup per key (cached for
    // 100 ms, pings every 200 ms). Re-reading each job at each ping, as before, was 2 queries per stream per ping.
    const intervals = pings + 1;
    expect(queries).toBeLessThanOrEqual(intervals * (1 + tenants.length));
    expect(queries).toBeLessThan(streams.length * pings);

    // Cancelled in Postgres with no message on Redis: the next checks find the streams behind and end them.
    await service.app.db.job.updateMany({ where: { id: { in: tenants.map((t) => t.jobId) } }, data: { status: 'cancelled', finishedAt: new Date() } });
    for (const reader of streams) {
      const rest = await reader.readUntil((b) => b.event === 'end', 10_000);
      expect(JSON.parse(rest.at(-1)!.data!)).toMatchObject({ status: 'cancelled' });
      expect(await reader.next()).toBeNull();
    }
  }
});
