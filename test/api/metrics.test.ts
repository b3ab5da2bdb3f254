// GET /metrics: Prometheus text with HTTP latency by route, prediction latency, and the service-wide figures read
// from Postgres and Redis at scrape time; one registry per app, an optional bearer token, and a switch.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNetwork, serializeModel } from '../../src/engine/index.js';
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

describe('GET /metrics', () => {
  const service = useTestService();
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
    const guarded = await buildTestApp({ ...service.ctx.config, METRICS_TOKEN: token });
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
});
