// The conventions every route keeps (issue #16, item 11), over HTTP against the real app, Postgres and Redis:
// lists page with a cursor, creations answer Location, a wrong method is a 405, error details have one shape,
// unknown query parameters are refused, bodyless routes take an empty JSON body, a job shows the settings that
// repeat it, job error codes are ERR_*, and reading the webhook secret makes none.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNetwork, serializeModel, type ModelSpec } from '../../src/engine/index.js';
import { toModelJson } from '../../src/export/model-json.js';
import { createTenant, useTestService } from '../helpers/app.js';
import { ADMIN_KEY } from '../helpers/env.js';
import { auth, irisNetwork } from '../helpers/fixtures.js';
import { IRIS_COLUMNS } from '../helpers/iris.js';
import { postJob, uploadIris } from '../helpers/jobs.js';

/** An Iris-shaped model document for POST /v1/models (untrained weights: these tests never predict). */
function irisDocument(seed: number): object {
  const spec: ModelSpec = { inputSize: 4, layers: irisNetwork.layers.map((layer) => ({ ...layer })), loss: irisNetwork.loss };
  return toModelJson(serializeModel(createNetwork(spec, seed)), {
    features: [...IRIS_COLUMNS],
    targets: ['species'],
    classes: ['setosa', 'versicolor', 'virginica'],
    preprocessing: { standardize: false },
  });
}

/** Every page of a list, following nextCursor. */
async function allPages(get: (cursor?: string) => Promise<request.Response>): Promise<{ pages: number; ids: string[] }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const res = await get(cursor);
    expect(res.status).toBe(200);
    ids.push(...res.body.items.map((item: { id: string }) => item.id));
    cursor = res.body.nextCursor ?? undefined;
    pages++;
  } while (cursor);
  return { pages, ids };
}

describe('API conventions', () => {
  const service = useTestService({ audit: true });
  const http = () => request(service.app.server);
  let tenant: { id: string; apiKey: string };
  let other: { id: string; apiKey: string };

  beforeAll(async () => {
    tenant = await createTenant(service.app, 'conventions');
    other = await createTenant(service.app, 'other');
  });

  describe('GET /v1/models', () => {
    const imported: string[] = [];
    beforeAll(async () => {
      for (let i = 0; i < 5; i++) {
        const res = await http().post('/v1/models').set(auth(tenant.apiKey)).send({ ...irisDocument(i), ...(i % 2 === 0 ? { modelName: 'even' } : {}) });
        expect(res.status).toBe(201);
        imported.push(res.body.id);
      }
      expect((await http().post('/v1/models').set(auth(other.apiKey)).send(irisDocument(9))).status).toBe(201);
    });

    it("pages through the tenant's models newest first, without weights, and never shows another tenant's", async () => {
      const { pages, ids } = await allPages((cursor) => http().get('/v1/models').query({ limit: 2, ...(cursor ? { cursor } : {}) }).set(auth(tenant.apiKey)));
      expect(pages).toBe(3);
      expect(ids).toEqual([...imported].reverse());
      const first = await http().get('/v1/models').set(auth(tenant.apiKey));
      expect(first.body.nextCursor).toBeNull();
      expect(first.body.items[0]).toMatchObject({ id: imported[4], jobId: null, features: [...IRIS_COLUMNS], classes: ['setosa', 'versicolor', 'virginica'] });
      expect(first.body.items[0]).not.toHaveProperty('weights');
      // Each item is what GET /v1/models/{id} answers.
      expect((await http().get(`/v1/models/${imported[4]}`).set(auth(tenant.apiKey))).body).toEqual(first.body.items[0]);
    });

    it('filters by registry name and by job', async () => {
      const even = await http().get('/v1/models').query({ name: 'even' }).set(auth(tenant.apiKey));
      expect(even.body.items.map((m: { id: string }) => m.id)).toEqual([imported[4], imported[2], imported[0]]);
      expect((await http().get('/v1/models').query({ name: 'even' }).set(auth(other.apiKey))).body.items).toEqual([]);
      const byJob = await http().get('/v1/models').query({ jobId: crypto.randomUUID() }).set(auth(tenant.apiKey));
      expect(byJob.body).toEqual({ items: [], nextCursor: null });
    });

    it("refuses another tenant's id as a cursor, and unknown parameters, naming them", async () => {
      const foreign = (await http().get('/v1/models').set(auth(other.apiKey))).body.items[0].id;
      const stolen = await http().get('/v1/models').query({ cursor: foreign }).set(auth(tenant.apiKey));
      expect(stolen.status).toBe(400);
      expect(stolen.body.error.details).toMatchObject({ field: 'querystring.cursor' });
      const unknown = await http().get('/v1/models').query({ nmae: 'even' }).set(auth(tenant.apiKey));
      expect(unknown.status).toBe(400);
      expect(unknown.body.error).toMatchObject({
        code: 'ERR_VALIDATION',
        message: 'querystring.nmae: unknown parameter',
        details: { field: 'querystring.nmae', issues: [{ field: 'querystring.nmae', message: 'unknown parameter' }] },
      });
    });
  });

  it('pages GET /v1/datasets with a cursor; the first page keeps its shape and 100 items by default', async () => {
    const key = (await createTenant(service.app, 'datasets')).apiKey;
    const created: string[] = [];
    for (let i = 0; i < 3; i++) created.push(await uploadIris(service.app, key, `iris-${i}`));
    const firstPage = await http().get('/v1/datasets').set(auth(key));
    expect(firstPage.body).toEqual({ items: expect.any(Array), nextCursor: null });
    expect(firstPage.body.items.map((d: { id: string }) => d.id)).toEqual([...created].reverse());
    const { pages, ids } = await allPages((cursor) => http().get('/v1/datasets').query({ limit: 1, ...(cursor ? { cursor } : {}) }).set(auth(key)));
    expect(pages).toBe(3);
    expect(ids).toEqual([...created].reverse());
    const named = await http().get('/v1/datasets').query({ name: 'iris-1' }).set(auth(key));
    expect(named.body.items.map((d: { id: string }) => d.id)).toEqual([created[1]]);
    const unknown = await http().get('/v1/datasets').query({ page: 2 }).set(auth(key));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.field).toBe('querystring.page');
  });

  it('answers every 201 and 202 with the Location of what it created, replays of an Idempotency-Key too', async () => {
    const admin = auth(ADMIN_KEY);
    const createdTenant = await http().post('/v1/tenants').set(admin).send({ name: 'located' });
    expect(createdTenant.status).toBe(201);
    expect(createdTenant.headers.location).toBe(`/v1/tenants/${createdTenant.body.id}`);
    const key = await http().post(`/v1/tenants/${createdTenant.body.id}/keys`).set(admin);
    expect(key.status).toBe(201);
    expect(key.headers.location).toBe(`/v1/tenants/${createdTenant.body.id}/keys/${key.body.id}`);

    const apiKey = createdTenant.body.apiKey as string;
    const upload = () => http().post('/v1/datasets').set(auth(apiKey)).set('idempotency-key', 'located-1').send({ name: 'tiny', columns: ['x', 'y'], rows: [[1, 2], [2, 4], [3, 6]], target: 'y' });
    const dataset = await upload();
    expect(dataset.status).toBe(201);
    expect(dataset.headers.location).toBe(`/v1/datasets/${dataset.body.id}`);
    const replayed = await upload();
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.headers.location).toBe(`/v1/datasets/${dataset.body.id}`);
    expect((await http().get(dataset.headers.location).set(auth(apiKey))).status).toBe(200);

    const job = await http().post('/v1/jobs').set(auth(apiKey)).send({ datasetId: dataset.body.id, model: { layers: [{ type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' }, training: { validationSplit: 0 } });
    expect(job.status).toBe(202);
    expect(job.headers.location).toBe(`/v1/jobs/${job.body.id}`);
    const model = await http().post('/v1/models').set(auth(apiKey)).send(irisDocument(1));
    expect(model.status).toBe(201);
    expect(model.headers.location).toBe(`/v1/models/${model.body.id}`);
    expect((await http().get(model.headers.location).set(auth(apiKey))).status).toBe(200);
  });

  it('refuses an unknown query parameter on every route that takes a query, naming it', async () => {
    const modelId = (await http().get('/v1/models').set(auth(tenant.apiKey))).body.items[0].id;
    const misspelt = [
      http().get('/v1/jobs').query({ stauts: 'queued' }),
      http().get('/v1/models').query({ limt: 5 }),
      http().get('/v1/datasets').query({ limt: 5 }),
      http().post('/v1/datasets').query({ name: 'x', target: 'y', delimeter: ';' }).set('content-type', 'text/csv').send('x,y\n1,2\n'),
      http().get(`/v1/models/${modelId}/export`).query({ fromat: 'json' }),
      http().post('/v1/registry/even/predict').query({ verison: 1 }).send({ inputs: [[5.1, 3.5, 1.4, 0.2]] }),
    ];
    for (const [i, pending] of misspelt.entries()) {
      const res = await pending.set(auth(tenant.apiKey));
      expect(res.status, `${i}: ${res.text}`).toBe(400);
      expect(res.body.error.message, `${i}`).toMatch(/^querystring\.(stauts|limt|delimeter|fromat|verison): unknown parameter$/);
    }
  });

  it('answers 405 with Allow for a known path asked with another method, and 404 for an unknown path', async () => {
    const id = crypto.randomUUID();
    const patch = await http().patch(`/v1/jobs/${id}`).set(auth(tenant.apiKey)).send({});
    expect(patch.status).toBe(405);
    expect(patch.headers.allow).toBe('DELETE, GET, HEAD');
    expect(patch.body.error).toMatchObject({ code: 'ERR_METHOD_NOT_ALLOWED', details: { field: 'method', allow: ['DELETE', 'GET', 'HEAD'] } });
    const put = await http().put('/v1/datasets').set(auth(tenant.apiKey));
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, HEAD, POST');
    const getCancel = await http().get(`/v1/jobs/${id}/cancel`).set(auth(tenant.apiKey));
    expect(getCancel.status).toBe(405);
    expect(getCancel.headers.allow).toBe('POST');
    const unknown = await http().get(`/v1/jobs/${id}/nothing`).set(auth(tenant.apiKey));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('ERR_ROUTE_NOT_FOUND');
    expect(unknown.headers.allow).toBeUndefined();
  });

  it('gives every input error the same details: field, and issues listing each field with its message', async () => {
    // A schema error with several fields, an error a route raises about one field, and one from fastify itself.
    const bad = await http().post('/v1/jobs').set(auth(tenant.apiKey)).send({ datasetId: 'nope', model: { layers: [], loss: 'x' } });
    expect(bad.status).toBe(400);
    const { field, issues } = bad.body.error.details;
    expect(issues.length).toBeGreaterThan(1);
    expect(field).toBe(issues[0].field);
    for (const issue of issues) expect(issue).toEqual({ field: expect.stringMatching(/^body\./), message: expect.any(String) });

    const missing = await http().post('/v1/jobs').set(auth(tenant.apiKey)).send({ datasetId: crypto.randomUUID(), model: irisNetwork });
    expect(missing.status).toBe(404);
    expect(missing.body.error.details).toEqual({ field: 'datasetId', issues: [{ field: 'datasetId', message: missing.body.error.message }] });

    const notJson = await http().post('/v1/jobs').set(auth(tenant.apiKey)).set('content-type', 'application/json').send('{"datasetId":');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toMatchObject({ code: 'ERR_BAD_REQUEST', details: { field: 'body', issues: [{ field: 'body' }] } });
  });

  it('cancels and deletes with Content-Type: application/json and an empty body', async () => {
    const datasetId = await uploadIris(service.app, tenant.apiKey, 'to-cancel');
    const jobId = await postJob(service.app, tenant.apiKey, { datasetId, model: irisNetwork });
    const cancel = await http().post(`/v1/jobs/${jobId}/cancel`).set(auth(tenant.apiKey)).set('content-type', 'application/json');
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('cancelled');
    const deleted = await http().delete(`/v1/jobs/${jobId}`).set(auth(tenant.apiKey)).set('content-type', 'application/json');
    expect(deleted.status).toBe(204);
    const rotated = await http().post(`/v1/tenants/${tenant.id}/keys`).set(auth(ADMIN_KEY)).set('content-type', 'application/json');
    expect(rotated.status).toBe(201);
    // A route with a body still refuses an empty one.
    const noBody = await http().post('/v1/jobs').set(auth(tenant.apiKey)).set('content-type', 'application/json');
    expect(noBody.status).toBe(400);
  });

  it('shows a job\'s settings with every default filled in and the seed the server chose', async () => {
    const datasetId = await uploadIris(service.app, tenant.apiKey, 'settings');
    const jobId = await postJob(service.app, tenant.apiKey, { datasetId, model: irisNetwork, training: { epochs: 3 } });
    const job = (await http().get(`/v1/jobs/${jobId}`).set(auth(tenant.apiKey))).body;
    expect(job.settings).toEqual({
      model: irisNetwork,
      training: {
        optimizer: { type: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
        epochs: 3,
        batchSize: 32,
        validationSplit: 0.2,
        seed: expect.any(Number),
        checkpointEvery: 10,
        shuffle: true,
      },
      preprocessing: { standardize: true, impute: 'mean', maxCategories: 50, standardizeTargets: true },
    });
    // POSTed back, they make the same job: the seed included.
    const again = await postJob(service.app, tenant.apiKey, { datasetId, ...job.settings });
    expect((await http().get(`/v1/jobs/${again}`).set(auth(tenant.apiKey))).body.settings).toEqual(job.settings);
    const listed = (await http().get('/v1/jobs').set(auth(tenant.apiKey))).body.items.find((j: { id: string }) => j.id === jobId);
    expect(listed.settings).toEqual(job.settings);
  });

  it('reads job error codes stored under their old bare names as ERR_* codes', async () => {
    const datasetId = await uploadIris(service.app, tenant.apiKey, 'legacy');
    const jobId = await postJob(service.app, tenant.apiKey, { datasetId, model: irisNetwork });
    const stored = { code: 'TRAINING_DIVERGED', message: 'training diverged at epoch 3', details: { epoch: 3 } };
    await service.audit.query(`UPDATE "Job" SET status = 'failed', error = $2::jsonb, "finishedAt" = now() WHERE id = $1`, [jobId, JSON.stringify(stored)]);
    const job = (await http().get(`/v1/jobs/${jobId}`).set(auth(tenant.apiKey))).body;
    expect(job.error).toEqual({ ...stored, code: 'ERR_TRAINING_DIVERGED' });
  });

  it('never makes a webhook secret by reading it: null until POST makes one', async () => {
    const fresh = await createTenant(service.app, 'no-secret-yet');
    const read = await http().get(`/v1/tenants/${fresh.id}/webhook-secret`).set(auth(ADMIN_KEY));
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ tenantId: fresh.id, secret: null });
    const [row] = await service.audit.query<{ webhookSecret: string | null }>('SELECT "webhookSecret" FROM "Tenant" WHERE id = $1', [fresh.id]);
    expect(row.webhookSecret).toBeNull();
    const made = await http().post(`/v1/tenants/${fresh.id}/webhook-secret`).set(auth(ADMIN_KEY));
    expect((await http().get(`/v1/tenants/${fresh.id}/webhook-secret`).set(auth(ADMIN_KEY))).body.secret).toBe(made.body.secret);
    expect((await http().get(`/v1/tenants/${crypto.randomUUID()}/webhook-secret`).set(auth(ADMIN_KEY))).status).toBe(404);
  });
});
