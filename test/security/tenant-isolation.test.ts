// Walks every route of the OpenAPI document as a second tenant, with the first tenant's ids: each answers 404 (or
// 403 on the admin-only tenant routes), and no answer carries the first tenant's data. A route added later without
// an entry here fails the coverage check.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerVersion } from '../../src/db/registry.js';
import { createNetwork, serializeModel } from '../../src/engine/index.js';
import { createTenant, useTestService } from '../helpers/app.js';
import { ADMIN_KEY } from '../helpers/env.js';
import { IRIS_COLUMNS, auth, irisNetwork } from '../helpers/fixtures.js';
import { uploadIris } from '../helpers/jobs.js';

interface Owned {
  tenantId: string;
  keyId: string;
  datasetId: string;
  jobId: string;
  modelId: string;
  sweepId: string;
}

describe("another tenant's ids", () => {
  const service = useTestService();
  let first: { id: string; apiKey: string; keyId: string };
  let second: { id: string; apiKey: string; keyId: string };
  let owned: Owned;
  let secret: string[];

  beforeAll(async () => {
    first = await createTenant(service.app, 'first-tenant');
    second = await createTenant(service.app, 'second-tenant');
    const datasetId = await uploadIris(service.app, first.apiKey, 'first-secret-dataset');
    const job = await request(service.app.server)
      .post('/v1/jobs')
      .set(auth(first.apiKey))
      .set('idempotency-key', 'first-key')
      .send({ datasetId, model: irisNetwork, training: { epochs: 2 } });
    expect(job.status).toBe(202);
    // The model is stored directly: training it is not what this test is about.
    const spec = { inputSize: 4, ...irisNetwork, layers: irisNetwork.layers.map((l) => ({ ...l })) };
    const modelId = randomUUID();
    await service.app.db.model.create({
      data: {
        id: modelId,
        tenantId: first.id,
        jobId: job.body.id,
        spec,
        preprocessing: { standardize: false },
        features: IRIS_COLUMNS.slice(0, 4),
        targets: ['species'],
        classes: ['setosa', 'versicolor', 'virginica'],
        metrics: { epochs: 2, loss: 1, valLoss: null, accuracy: null, valAccuracy: null },
        weights: JSON.parse(JSON.stringify(serializeModel(createNetwork(spec, 1)))),
      },
    });
    // ... and registered as version 1 of a name, with an alias.
    await service.app.db.$transaction((tx) => registerVersion(tx, first.id, 'first-secret-model', modelId));
    expect((await service.app.repos.registry.setAlias(first.id, 'first-secret-model', 'production', 1)).found).toBe(true);
    // ... and a sweep over the dataset.
    const sweep = await request(service.app.server)
      .post('/v1/sweeps')
      .set(auth(first.apiKey))
      .send({ datasetId, base: { model: irisNetwork, training: { epochs: 2 } }, space: { 'model.layers[0].units': { choice: [4, 8] } }, strategy: 'grid' });
    expect(sweep.status).toBe(202);
    owned = { tenantId: first.id, keyId: first.keyId, datasetId, jobId: job.body.id, modelId, sweepId: sweep.body.id };
    secret = [owned.datasetId, owned.jobId, owned.modelId, owned.keyId, owned.sweepId, 'first-secret-dataset', 'first-secret-model', 'first-tenant', 'setosa'];
  });

  /** What the second tenant sends on each documented route, and what it must get. */
  function plan(): Record<string, () => Promise<{ res: request.Response; expected: number }>> {
    const as = (r: request.Test, key = second.apiKey) => r.set(auth(key));
    const expect404 = async (r: request.Test) => ({ res: await as(r), expected: 404 });
    const server = service.app.server;
    const predict = { inputs: [[5.1, 3.5, 1.4, 0.2]] };
    return {
      'GET /v1/datasets/{id}': () => expect404(request(server).get(`/v1/datasets/${owned.datasetId}`)),
      'DELETE /v1/datasets/{id}': () => expect404(request(server).delete(`/v1/datasets/${owned.datasetId}`)),
      'DELETE /v1/jobs/{id}': () => expect404(request(server).delete(`/v1/jobs/${owned.jobId}`)),
      'DELETE /v1/models/{id}': () => expect404(request(server).delete(`/v1/models/${owned.modelId}`)),
      'DELETE /v1/tenants/{id}': async () => ({ res: await as(request(server).delete(`/v1/tenants/${owned.tenantId}`)), expected: 403 }),
      'GET /v1/jobs/{id}': () => expect404(request(server).get(`/v1/jobs/${owned.jobId}`)),
      'GET /v1/jobs/{id}/metrics': () => expect404(request(server).get(`/v1/jobs/${owned.jobId}/metrics`)),
      'POST /v1/jobs/{id}/cancel': () => expect404(request(server).post(`/v1/jobs/${owned.jobId}/cancel`)),
      'GET /v1/models/{id}': () => expect404(request(server).get(`/v1/models/${owned.modelId}`)),
      'POST /v1/models/{id}/predict': () => expect404(request(server).post(`/v1/models/${owned.modelId}/predict`).send(predict)),
      'POST /v1/models/{id}/evaluate': () => expect404(request(server).post(`/v1/models/${owned.modelId}/evaluate`).send({ datasetId: owned.datasetId })),
      // A job on the first tenant's dataset, even with the first tenant's Idempotency-Key: 404, not its response.
      'POST /v1/jobs': () =>
        expect404(
          request(server)
            .post('/v1/jobs')
            .set('idempotency-key', 'first-key')
            .send({ datasetId: owned.datasetId, model: irisNetwork, training: { epochs: 2 } }),
        ),
      // Lists hold only the caller's own resources; a cursor from the first tenant is not a cursor here.
      'GET /v1/datasets': async () => ({ res: await as(request(server).get('/v1/datasets')), expected: 200 }),
      'GET /v1/jobs': async () => ({ res: await as(request(server).get('/v1/jobs').query({ cursor: owned.jobId })), expected: 400 }),
      'GET /v1/models': async () => ({ res: await as(request(server).get('/v1/models').query({ cursor: owned.modelId })), expected: 400 }),
      // Uploading has no id to borrow; the new dataset is the second tenant's own and not visible to the first.
      'POST /v1/datasets': async () => ({
        res: await as(request(server).post('/v1/datasets').set('idempotency-key', 'first-key').send({ name: 'mine', columns: ['a', 'y'], rows: [[1, 2]], target: 'y' })),
        expected: 201,
      }),
      // Tenant routes need the admin key: a tenant key, even the owner's, is refused before any lookup.
      'POST /v1/tenants': async () => ({ res: await as(request(server).post('/v1/tenants').send({ name: 'x' })), expected: 403 }),
      'GET /v1/tenants/{id}/keys': async () => ({ res: await as(request(server).get(`/v1/tenants/${owned.tenantId}/keys`)), expected: 403 }),
      'POST /v1/tenants/{id}/keys': async () => ({ res: await as(request(server).post(`/v1/tenants/${owned.tenantId}/keys`)), expected: 403 }),
      // With the admin key, the first tenant's key under the second tenant's id does not exist.
      'DELETE /v1/tenants/{id}/keys/{keyId}': async () => ({
        res: await request(server).delete(`/v1/tenants/${second.id}/keys/${owned.keyId}`).set(auth(ADMIN_KEY)),
        expected: 404,
      }),
      'GET /v1/jobs/{id}/events': () => expect404(request(server).get(`/v1/jobs/${owned.jobId}/events`)),
      'GET /v1/jobs/{id}/webhooks': () => expect404(request(server).get(`/v1/jobs/${owned.jobId}/webhooks`)),
      'GET /v1/models/{id}/export': () => expect404(request(server).get(`/v1/models/${owned.modelId}/export`)),
      'GET /v1/models/{id}/tfjs/model.json': () => expect404(request(server).get(`/v1/models/${owned.modelId}/tfjs/model.json`)),
      'GET /v1/models/{id}/tfjs/weights.bin': () => expect404(request(server).get(`/v1/models/${owned.modelId}/tfjs/weights.bin`)),
      // Registry names are per tenant: the first tenant's name does not exist for the second, and the list is its own.
      'GET /v1/registry': async () => ({ res: await as(request(server).get('/v1/registry')), expected: 200 }),
      'GET /v1/registry/{name}': () => expect404(request(server).get('/v1/registry/first-secret-model')),
      'PUT /v1/registry/{name}/aliases/{alias}': () => expect404(request(server).put('/v1/registry/first-secret-model/aliases/production').send({ version: 1 })),
      'DELETE /v1/registry/{name}/aliases/{alias}': () => expect404(request(server).delete('/v1/registry/first-secret-model/aliases/production')),
      'POST /v1/registry/{name}/predict': () => expect404(request(server).post('/v1/registry/first-secret-model/predict').send(predict)),
      // Importing borrows no id: the new model is the second tenant's own, like an upload.
      'POST /v1/models': async () => {
        const spec = { inputSize: 2, layers: [{ type: 'dense' as const, units: 1, activation: 'linear' as const }], loss: 'meanSquaredError' as const };
        const { dtype, weights } = serializeModel(createNetwork(spec, 1));
        const body = { format: 'backprop-service/model@1', dtype, spec, weights, features: ['u', 'v'], targets: ['w'], preprocessing: { standardize: false } };
        return { res: await as(request(server).post('/v1/models').set('idempotency-key', 'first-key').send(body)), expected: 201 };
      },
      'GET /v1/tenants/{id}/webhook-secret': async () => ({ res: await as(request(server).get(`/v1/tenants/${owned.tenantId}/webhook-secret`)), expected: 403 }),
      'POST /v1/tenants/{id}/webhook-secret': async () => ({ res: await as(request(server).post(`/v1/tenants/${owned.tenantId}/webhook-secret`)), expected: 403 }),
      'GET /v1/tenants/{id}/rate-limits': async () => ({ res: await as(request(server).get(`/v1/tenants/${owned.tenantId}/rate-limits`)), expected: 403 }),
      'PATCH /v1/tenants/{id}/rate-limits': async () => ({
        res: await as(request(server).patch(`/v1/tenants/${second.id}/rate-limits`).send({ predictions: 1_000_000 })),
        expected: 403,
      }),
      'GET /v1/tenants/{id}/quotas': async () => ({ res: await as(request(server).get(`/v1/tenants/${owned.tenantId}/quotas`)), expected: 403 }),
      'PATCH /v1/tenants/{id}/quotas': async () => ({
        res: await as(request(server).patch(`/v1/tenants/${second.id}/quotas`).send({ storageBytes: 1_000_000_000_000 })),
        expected: 403,
      }),
      // Usage has no id to borrow: the caller's own, which holds nothing of the first tenant's (the leak check below).
      // Sweeps: the first tenant's dataset, sweep and cursor do not exist for the second.
      'POST /v1/sweeps': () =>
        expect404(
          request(server)
            .post('/v1/sweeps')
            .send({ datasetId: owned.datasetId, base: { model: irisNetwork }, space: { 'model.layers[0].units': { choice: [4] } }, strategy: 'grid' }),
        ),
      'GET /v1/sweeps': async () => ({ res: await as(request(server).get('/v1/sweeps').query({ cursor: owned.sweepId })), expected: 400 }),
      'GET /v1/sweeps/{id}': () => expect404(request(server).get(`/v1/sweeps/${owned.sweepId}`)),
      'POST /v1/sweeps/{id}/cancel': () => expect404(request(server).post(`/v1/sweeps/${owned.sweepId}/cancel`)),
      'GET /v1/usage': async () => ({ res: await as(request(server).get('/v1/usage')), expected: 200 }),
      'GET /health': async () => ({ res: await request(server).get('/health'), expected: 200 }),
      'GET /ready': async () => ({ res: await request(server).get('/ready'), expected: 200 }),
    };
  }

  it('every route answers 404 (403 on admin routes) and never returns the first tenant\'s data', async () => {
    const doc = (await request(service.app.server).get('/docs/json')).body as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).filter((m) => m !== 'head').map((m) => `${m.toUpperCase()} ${path}`));
    const steps = plan();
    expect(Object.keys(steps).sort()).toEqual(routes.sort());

    for (const route of routes) {
      const { res, expected } = await steps[route]();
      expect(res.status, `${route}: ${res.text}`).toBe(expected);
      if (expected >= 400) expect(res.body.error.code, route).toMatch(/^ERR_/);
      // An id the caller sent may be echoed in "not found"; anything else of the first tenant's is a leak.
      const sent = `${(res as unknown as { req: { path: string } }).req.path} ${route === 'POST /v1/jobs' || route === 'POST /v1/sweeps' ? owned.datasetId : ''}`;
      for (const s of secret.filter((x) => !sent.includes(x))) expect(res.text, `${route} leaks ${s}`).not.toContain(s);
    }

    // Filtering by the first tenant's registry name, job or dataset finds nothing of its models.
    for (const query of [{ name: 'first-secret-model' }, { jobId: owned.jobId }, { datasetId: owned.datasetId }]) {
      const filtered = await request(service.app.server).get('/v1/models').query(query).set(auth(second.apiKey));
      expect(filtered.body, JSON.stringify(query)).toEqual({ items: [], nextCursor: null });
    }
    const firstModels = await request(service.app.server).get('/v1/models').query({ jobId: owned.jobId }).set(auth(first.apiKey));
    expect(firstModels.body.items.map((m: { id: string }) => m.id)).toEqual([owned.modelId]);

    // The first tenant still has everything, and nothing of the second tenant's.
    const mine = await request(service.app.server).get('/v1/datasets').set(auth(first.apiKey));
    expect(mine.body.items.map((d: { id: string }) => d.id)).toEqual([owned.datasetId]);
    expect((await request(service.app.server).get(`/v1/models/${owned.modelId}`).set(auth(first.apiKey))).status).toBe(200);
    expect((await request(service.app.server).get('/v1/registry/first-secret-model').set(auth(first.apiKey))).body.aliases).toEqual({ production: 1 });
    expect((await request(service.app.server).get(`/v1/jobs/${owned.jobId}`).set(auth(first.apiKey))).body.status).toBe('queued');
    expect((await request(service.app.server).get('/v1/datasets').set(auth(first.apiKey))).status).toBe(200);
  });
});
