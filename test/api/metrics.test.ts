// GET /metrics: Prometheus text with HTTP latency by route, prediction latency, and the service-wide figures read
// from Postgres and Redis at scrape time (at most once per few seconds, whatever the number of scrapers); one
// registry per app; closed unless METRICS_TOKEN is set (then needed) or METRICS_OPEN=true; and a switch. A worker's
// /metrics listens on loopback and needs the same token when one is set.
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { networkInterfaces } from 'node:os';
import { Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { poolOf } from '../../src/db/client.js';
import { createNetwork, serializeModel } from '../../src/engine/index.js';
import { startHealthServer } from '../../src/worker/health-server.js';
import { buildTestApp, createTenant, useTestService } from '../helpers/app.js';
import { IRIS_COLUMNS, auth, irisNetwork } from '../helpers/fixtures.js';
import { uploadIris } from '../helpers/jobs.js';

/** The value of one sample line, e.g. value(text, 'backprop_jobs', { status: 'queued' }). */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

/** Connections the app's Postgres pool hands out while `run` runs: one per query Prisma sends. */
async function postgresQueries(app: FastifyInstance, run: () => Promise<unknown>): Promise<number> {
  const pool = poolOf(app.db);
  let count = 0;
  const counted = () => count++;
  pool.on('acquire', counted);
  try {
    await run();
  } finally {
    pool.off('acquire', counted);
  }
  return count;
}

/** GET `path` on 127.0.0.1:`port` (or `host`), answering the status, or the connection error's code. */
function get(port: number, path: string, headers: Record<string, string> = {}, host = '127.0.0.1'): Promise<number | string> {
  return new Promise((resolve) => {
    httpRequest({ host, port, path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    }).on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message)).end();
  });
}

describe('GET /metrics', () => {
  const service = useTestService({ env: { METRICS_OPEN: 'true' } });
  let key: string;
  let tenantId: string;

  beforeAll(async () => {
    ({ apiKey: key, id: tenantId } = await createTenant(service.app));
  });

  it('reports HTTP latency by route, prediction latency, jobs by status, queue depth and wait, and training throughput', async () => {
    const datasetId = await uploadIris(service.app, key);
    const job = await request(service.app.server).post('/v1/jobs').set(auth(key)).send({ datasetId, model: irisNetwork, training: { epochs: 5 } });
    expect(job.status).toBe(202);
    await request(service.app.server).get(`/v1/jobs/${randomUUID()}`).set(auth(key)).expect(404);
    await request(service.app.server).get('/no/such/path').expect(404);

    // A stored model to predict with (no worker runs here), and six epochs "just trained" by some worker.
    const spec = { inputSize: 4, ...irisNetwork, layers: irisNetwork.layers.map((l) => ({ ...l })) };
    const modelId = randomUUID();
    await service.app.db.model.create({
      data: {
        id: modelId, tenantId, jobId: job.body.id, spec, preprocessing: { standardize: false }, features: IRIS_COLUMNS.slice(0, 4), targets: ['species'],
        classes: ['setosa', 'versicolor', 'virginica'], metrics: { epochs: 5, loss: 1, valLoss: null, accuracy: null, valAccuracy: null },
        weights: JSON.parse(JSON.stringify(serializeModel(createNetwork(spec, 1)))),
      },
    });
    for (let i = 0; i < 2; i++) await request(service.app.server).post(`/v1/models/${modelId}/predict`).set(auth(key)).send({ inputs: [[5.1, 3.5, 1.4, 0.2]] }).expect(200);
    await request(service.app.server).post(`/v1/models/${modelId}/predict`).set(auth(key)).send({ inputs: [[1, 2]] }).expect(400);
    await service.app.db.jobMetric.createMany({ data: Array.from({ length: 6 }, (_, i) => ({ jobId: job.body.id, epoch: i + 1, loss: 1, ms: 250 })) });

    const res = await request(service.app.server).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.text;

    expect(value(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/v1/jobs', status_code: '202' })).toBe(1);
    expect(value(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/v1/jobs/:id', status_code: '404' })).toBe(1);
    expect(value(text, 'http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1);
    expect(value(text, 'http_request_duration_seconds_bucket', { method: 'POST', route: '/v1/models/:id/predict', status_code: '200', le: '+Inf' })).toBe(2);
    expect(value(text, 'backprop_predict_duration_seconds_count', { outcome: 'ok' })).toBe(2);
    expect(value(text, 'backprop_predict_duration_seconds_count', { outcome: 'error' })).toBe(1);
    expect(value(text, 'backprop_predict_duration_seconds_sum', { outcome: 'ok' })).toBeGreaterThan(0);

    expect(value(text, 'backprop_jobs', { status: 'queued' })).toBe(1);
    expect(value(text, 'backprop_jobs', { status: 'succeeded' })).toBe(0);
    expect(value(text, 'backprop_queue_depth', { queue: 'training', state: 'waiting' })).toBe(1);
    expect(value(text, 'backprop_queue_depth', { queue: 'webhooks', state: 'waiting' })).toBe(0);
    expect(value(text, 'backprop_queue_oldest_wait_seconds')).toBeGreaterThan(0);
    expect(value(text, 'backprop_queue_wait_seconds')).toBe(0);
    expect(value(text, 'backprop_epochs_per_second')).toBeCloseTo(6 / 60, 10);
    expect(value(text, 'backprop_epoch_duration_seconds')).toBeCloseTo(0.25, 10);
    expect(value(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('keeps one registry per app, so several apps run in one process', async () => {
    const other = await buildTestApp(service.ctx.config);
    try {
      const res = await request(other.server).get('/metrics');
      expect(res.status).toBe(200);
      // Its own counters: nothing of the first app's requests.
      expect(value(res.text, 'http_request_duration_seconds_count', { method: 'POST', route: '/v1/jobs', status_code: '202' })).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('needs METRICS_TOKEN as a bearer token when one is set, and is absent with METRICS_ENABLED=false', async () => {
    const token = 'metrics-token-0123456789';
    const guarded = await buildTestApp({ ...service.ctx.config, METRICS_TOKEN: token, METRICS_OPEN: false });
    const off = await buildTestApp({ ...service.ctx.config, METRICS_ENABLED: false });
    try {
      const denied = await request(guarded.server).get('/metrics');
      expect(denied.status).toBe(401);
      expect(denied.body.error.code).toBe('ERR_UNAUTHORIZED');
      expect((await request(guarded.server).get('/metrics').set('authorization', 'Bearer wrong')).status).toBe(401);
      expect((await request(guarded.server).get('/metrics').set('authorization', `Bearer ${token}`)).status).toBe(200);
      const absent = await request(off.server).get('/metrics');
      expect(absent.status).toBe(404);
      expect(absent.body.error.code).toBe('ERR_ROUTE_NOT_FOUND');
    } finally {
      await guarded.close();
      await off.close();
    }
  });

  it('is closed without METRICS_TOKEN unless METRICS_OPEN=true: 403 saying how to open it', async () => {
    const closed = await buildTestApp({ ...service.ctx.config, METRICS_OPEN: false });
    try {
      expect(loadConfig({ DATABASE_URL: service.ctx.env.DATABASE_URL }).METRICS_OPEN).toBe(false);
      const res = await request(closed.server).get('/metrics');
      expect(res.status).toBe(403);
      expect(res.body.error).toEqual({ code: 'ERR_FORBIDDEN', message: expect.stringMatching(/METRICS_TOKEN.*METRICS_OPEN=true/) });
    } finally {
      await closed.close();
    }
  });

  it('reads the service-wide figures once for 20 scrapes at once, and not again for a scrape right after', async () => {
    const fresh = await buildTestApp(service.ctx.config);
    try {
      const scrape = () => request(fresh.server).get('/metrics').expect(200);
      // jobs by status, the oldest queued job, recent starts, recent epochs: one query each.
      expect(await postgresQueries(fresh, () => Promise.all(Array.from({ length: 20 }, scrape)))).toBe(4);
      let text = '';
      expect(await postgresQueries(fresh, async () => (text = (await scrape()).text))).toBe(0);
      expect(value(text, 'backprop_jobs', { status: 'queued' })).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  it("a worker's health server listens on loopback by default, and its /metrics needs METRICS_TOKEN when set", async () => {
    const token = 'metrics-token-0123456789';
    const config = loadConfig({ ...service.ctx.env, HOST: '0.0.0.0', METRICS_TOKEN: token });
    expect(config.WORKER_HEALTH_HOST).toBe('127.0.0.1');
    const health = await startHealthServer(0, config.WORKER_HEALTH_HOST, () => 0, new Registry(), config.METRICS_TOKEN);
    try {
      expect(await get(health.port, '/metrics')).toBe(401);
      expect(await get(health.port, '/metrics', { authorization: 'Bearer wrong' })).toBe(401);
      expect(await get(health.port, '/metrics', { authorization: `Bearer ${token}` })).toBe(200);
      expect(await get(health.port, '/health')).toBe(200);
      const external = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
      if (external) expect(await get(health.port, '/health', {}, external.address)).toBe('ECONNREFUSED');
    } finally {
      await health.close();
    }
  });
});
