// Predictions have a budget of their own (RATE_LIMIT_PREDICT_MAX), apart from the one every other /v1 route shares
// (RATE_LIMIT_MAX): a tenant that spent its requests still predicts. The admin sets a tenant's budgets through the
// API; a tenant's keys share its budgets, and every API process counts them in Redis. A 429 names the budget that ran
// out and when it refills (Retry-After, RateLimit-Policy / RateLimit).
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { buildTestApp, createTenant, useTestService } from '../helpers/app.js';
import { ADMIN_KEY } from '../helpers/env.js';
import { auth, irisNetwork, irisSplit } from '../helpers/fixtures.js';
import { postJob, uploadIris, waitForJob } from '../helpers/jobs.js';

const REQUESTS = 1000;
/** The tenant's own requests budget, set by the admin below its use so far. */
const LOW = 3;
const PREDICTIONS = 40;
const WINDOW_S = 600;
const admin = auth(ADMIN_KEY);

describe('rate-limit budgets', () => {
  const service = useTestService({
    worker: true,
    env: { RATE_LIMIT_MAX: String(REQUESTS), RATE_LIMIT_PREDICT_MAX: String(PREDICTIONS), RATE_LIMIT_WINDOW_MS: String(WINDOW_S * 1000), AUTH_CACHE_TTL_MS: '300' },
  });
  let other: FastifyInstance;
  afterAll(async () => {
    await other?.close();
  });

  const rows = irisSplit().holdout.slice(0, 3).map((r) => r.slice(0, 4));
  const predict = (app: FastifyInstance, key: string, modelId: string) =>
    request(app.server).post(`/v1/models/${modelId}/predict`).set(auth(key)).send({ inputs: rows });
  const limits = (tenantId: string) => request(service.app.server).get(`/v1/tenants/${tenantId}/rate-limits`).set(admin);
  const setLimits = (tenantId: string, body: object) => request(service.app.server).patch(`/v1/tenants/${tenantId}/rate-limits`).set(admin).send(body);

  it('a tenant out of requests still predicts, up to its predictions budget; each 429 names its budget', async () => {
    const tenant = await createTenant(service.app, 'predicting');
    expect((await limits(tenant.id)).body).toEqual({
      windowMs: WINDOW_S * 1000,
      requests: { limit: REQUESTS, custom: false },
      predictions: { limit: PREDICTIONS, custom: false },
    });

    const datasetId = await uploadIris(service.app, tenant.apiKey);
    const jobId = await postJob(service.app, tenant.apiKey, {
      datasetId,
      model: irisNetwork,
      training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 5, batchSize: 16, validationSplit: 0, seed: 7 },
    });
    const { modelId } = await waitForJob(service.app, tenant.apiKey, jobId, (job) => job.status === 'succeeded', 'the job to succeed');

    // The admin lowers the tenant's requests below what it used in this window: the next request is refused...
    const lowered = await setLimits(tenant.id, { requests: LOW });
    expect(lowered.status).toBe(200);
    expect(lowered.body.requests).toEqual({ limit: LOW, custom: true });
    const refused = await request(service.app.server).get('/v1/datasets').set(auth(tenant.apiKey));
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'ERR_RATE_LIMITED', details: { budget: 'requests', limit: LOW, windowSeconds: WINDOW_S } });
    expect(refused.headers['ratelimit-policy']).toBe(`"requests";q=${LOW};w=${WINDOW_S}`);

    // ...while predictions have a budget of their own, spent across two API processes sharing Redis.
    other = await buildTestApp(loadConfig(service.ctx.env));
    for (let i = 0; i < PREDICTIONS; i++) {
      const res = await predict(i % 2 ? other : service.app, tenant.apiKey, modelId!);
      expect(res.status).toBe(200);
      expect(res.body.outputs).toHaveLength(rows.length);
      expect(res.headers['x-ratelimit-limit']).toBe(String(PREDICTIONS));
      expect(res.headers['x-ratelimit-remaining']).toBe(String(PREDICTIONS - i - 1));
    }
    const spent = await predict(service.app, tenant.apiKey, modelId!);
    expect(spent.status).toBe(429);
    const retryAfter = Number(spent.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(WINDOW_S - 120);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_S);
    expect(spent.body.error).toEqual({
      code: 'ERR_RATE_LIMITED',
      message: `predictions budget of ${PREDICTIONS} per ${WINDOW_S} s is spent; it refills then: retry in ${retryAfter} s`,
      details: { budget: 'predictions', limit: PREDICTIONS, windowSeconds: WINDOW_S, retryAfterSeconds: retryAfter },
    });
    expect(spent.headers['ratelimit-policy']).toBe(`"predictions";q=${PREDICTIONS};w=${WINDOW_S}`);
    expect(spent.headers['ratelimit']).toBe(`"predictions";r=0;t=${retryAfter}`);
    expect(spent.headers['x-ratelimit-remaining']).toBe('0');

    // The tenant's other keys share its budgets.
    const second = await request(service.app.server).post(`/v1/tenants/${tenant.id}/keys`).set(admin);
    expect((await predict(other, second.body.apiKey, modelId!)).status).toBe(429);

    // Another tenant has budgets of its own (its prediction of a model it does not own is a 404, not a 429).
    const stranger = await createTenant(service.app, 'stranger');
    expect((await predict(service.app, stranger.apiKey, modelId!)).status).toBe(404);

    // The admin raises the tenant's predictions: at once on the process that answered, within AUTH_CACHE_TTL_MS on the other.
    const more = await setLimits(tenant.id, { predictions: 100 });
    expect(more.body).toEqual({ windowMs: WINDOW_S * 1000, requests: { limit: LOW, custom: true }, predictions: { limit: 100, custom: true } });
    expect((await predict(service.app, tenant.apiKey, modelId!)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 400));
    const elsewhere = await predict(other, tenant.apiKey, modelId!);
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.headers['x-ratelimit-limit']).toBe('100');
    // Still no requests: the two budgets stay apart.
    expect((await request(other.server).get('/v1/datasets').set(auth(tenant.apiKey))).status).toBe(429);
  });

  it('only the admin sets budgets, to whole numbers of at least 1, on tenants that exist', async () => {
    const tenant = await createTenant(service.app, 'checked');
    expect((await request(service.app.server).patch(`/v1/tenants/${tenant.id}/rate-limits`).set(auth(tenant.apiKey)).send({ predictions: 10 })).status).toBe(403);
    expect((await setLimits(tenant.id, { predictions: 0 })).status).toBe(400);
    expect((await setLimits(tenant.id, { predictions: 1.5 })).status).toBe(400);
    expect((await setLimits(tenant.id, { writes: 10 })).status).toBe(400);
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await setLimits(missing, { predictions: 10 })).status).toBe(404);
    expect((await limits(missing)).status).toBe(404);
    // Absent fields are left as they are; null puts one back to the default.
    await setLimits(tenant.id, { requests: 7 });
    expect((await setLimits(tenant.id, { predictions: 9 })).body).toMatchObject({ requests: { limit: 7, custom: true }, predictions: { limit: 9, custom: true } });
    expect((await setLimits(tenant.id, { requests: null })).body).toMatchObject({ requests: { limit: REQUESTS, custom: false }, predictions: { limit: 9, custom: true } });
  });

  it('documents both budgets in the OpenAPI document', async () => {
    const doc = (await request(service.app.server).get('/docs/json')).body;
    expect(Object.keys(doc.paths['/v1/tenants/{id}/rate-limits'])).toEqual(['get', 'patch']);
    expect(doc.info.description).toContain('RATE_LIMIT_PREDICT_MAX');
  });
});
