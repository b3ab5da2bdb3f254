// Deleting datasets, jobs, models and tenants over real HTTP on two API processes, with a worker, Postgres and Redis:
// what is deleted answers 404 at once on both APIs (their model caches drop it through the Redis broadcast) and
// leaves the worker's dataset cache; what is in use answers 409 naming what uses it; deletes are tenant-scoped and a
// second one is a 404.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { ADMIN_KEY } from '../helpers/env.js';
import { auth, irisNetwork, irisSplit } from '../helpers/fixtures.js';
import { getJob, postJob, submitJob, uploadIris, uploadSlowDataset, waitForJob } from '../helpers/jobs.js';
import { spawnApi, waitFor, workerHealth, type Spawned } from '../helpers/processes.js';

type Api = Spawned & { url: string };

/** The worker's backprop_worker_dataset_cache_bytes. */
async function cachedBytes(healthPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
  return Number(/^backprop_worker_dataset_cache_bytes (\d+)$/m.exec(text)?.[1]);
}

describe('DELETE datasets, jobs, models and tenants', () => {
  // One training at a time, one slot per tenant: a second job of a tenant stays queued while its first one trains.
  const service = useTestService({ worker: true, audit: true, env: { WORKER_CONCURRENCY: '1', TENANT_MAX_CONCURRENT_JOBS: '1' } });
  let a: Api;
  let b: Api;
  let key: string;
  let owner: string;
  let other: string;
  // Four held-out Iris rows, keyed by feature name.
  const rows = irisSplit()
    .holdout.slice(0, 4)
    .map(([sepal_length, sepal_width, petal_length, petal_width]) => ({ sepal_length, sepal_width, petal_length, petal_width }));

  beforeAll(async () => {
    [a, b] = await Promise.all([spawnApi(service.ctx.env), spawnApi(service.ctx.env)]);
    ({ id: owner, apiKey: key } = await createTenant(a.url, 'owner'));
    other = (await createTenant(a.url, 'other')).apiKey;
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const del = (api: Api, path: string, as = key) => request(api.url).delete(path).set(auth(as));
  const predict = (api: Api, modelId: string, as = key) => request(api.url).post(`/v1/models/${modelId}/predict`).set(auth(as)).send({ inputs: rows });
  const trainIris = async (as: string, datasetId: string) => {
    const id = await postJob(a.url, as, { datasetId, model: irisNetwork, training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 30, seed: 7 } });
    return (await waitForJob(a.url, as, id, (j) => j.status === 'succeeded', `iris job ${id} to succeed`)).modelId!;
  };
  const count = async (table: string, column: string, id: string) =>
    Number((await service.audit.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}" WHERE "${column}" = $1`, [id]))[0].n);

  it('refuses what queued or running jobs use (409 naming them), then deletes; every API and the worker forget at once', async () => {
    const iris = await uploadIris(a.url, key);
    const trained = await postJob(a.url, key, {
      datasetId: iris,
      modelName: 'iris',
      model: irisNetwork,
      training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 30, seed: 7 },
    });
    const modelId = (await waitForJob(a.url, key, trained, (j) => j.status === 'succeeded', 'the iris job to succeed')).modelId!;
    const slow = await uploadSlowDataset(a.url, key);
    const running = await submitJob(a.url, key, slow, 400);
    await waitForJob(a.url, key, running, (j) => j.status === 'running' && j.epoch >= 1, 'the slow job to train');
    // Warm-started from the model, queued behind the running job (one slot for the tenant).
    const warm = await postJob(a.url, key, { datasetId: iris, initialModelId: modelId, model: irisNetwork, training: { epochs: 5 } });
    expect((await getJob(a.url, key, warm)).status).toBe('queued');

    const inUse = async (path: string, field: string, expected: unknown) => {
      const res = await del(b, path);
      expect(res.status, res.text).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'ERR_CONFLICT', details: { field: 'id', [field]: expected } });
      return res.body.error.message as string;
    };
    expect(await inUse(`/v1/datasets/${slow}`, 'jobs', [running])).toContain(running);
    // The finished job on the Iris set does not hold it; the queued one does.
    expect(await inUse(`/v1/datasets/${iris}`, 'jobs', [warm])).toContain(warm);
    expect(await inUse(`/v1/jobs/${running}`, 'status', 'running')).toMatch(/only a finished job can be deleted/);
    expect(await inUse(`/v1/jobs/${warm}`, 'status', 'queued')).toMatch(/cancel it first/);
    expect(await inUse(`/v1/models/${modelId}`, 'jobs', [warm])).toMatch(/start from its weights/);
    // Another tenant's ids are not found, whatever their state.
    for (const path of [`/v1/datasets/${iris}`, `/v1/jobs/${trained}`, `/v1/models/${modelId}`]) expect((await del(a, path, other)).status, path).toBe(404);

    for (const job of [warm, running]) expect((await request(a.url).post(`/v1/jobs/${job}/cancel`).set(auth(key))).status).toBe(200);
    await waitFor('the worker to stop the cancelled run', async () => (await workerHealth(service.worker)).activeJobs === 0);

    // Both APIs have the model cached, and the worker both datasets.
    const before = await predict(b, modelId);
    expect(before.status, before.text).toBe(200);
    expect((await predict(a, modelId)).body).toEqual(before.body);
    const [{ bytes: slowBytes }] = await service.audit.query<{ bytes: number }>(
      'SELECT octet_length(inputs) + octet_length(outputs) AS bytes FROM "Dataset" WHERE id = $1',
      [slow],
    );
    const cached = await cachedBytes(service.worker.healthPort);
    expect(cached).toBeGreaterThan(slowBytes);

    // The datasets: finished jobs keep their metrics with datasetId null; the model keeps predicting, its view updated on B.
    const deleted = await del(a, `/v1/datasets/${slow}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect((await del(a, `/v1/datasets/${iris}`)).status).toBe(204);
    await expect.poll(() => cachedBytes(service.worker.healthPort), { timeout: 5000 }).toBe(0);
    for (const api of [a, b]) {
      expect((await request(api.url).get(`/v1/datasets/${iris}`).set(auth(key))).status).toBe(404);
      expect((await del(api, `/v1/datasets/${iris}`)).status).toBe(404);
    }
    const refused = await request(b.url).post('/v1/jobs').set(auth(key)).send({ datasetId: slow, model: irisNetwork });
    expect(refused.status).toBe(404);
    expect(refused.body.error.details).toMatchObject({ field: 'datasetId' });
    expect(await getJob(b.url, key, trained)).toMatchObject({ status: 'succeeded', modelId });
    expect((await request(b.url).get(`/v1/jobs/${trained}`).set(auth(key))).body.datasetId).toBeNull();
    expect((await request(b.url).get(`/v1/models/${modelId}`).set(auth(key))).body).toMatchObject({ jobId: trained, datasetId: null });
    expect((await predict(b, modelId)).body).toEqual(before.body);

    // The finished job: its metrics, checkpoint and webhooks go; its model stays, now with no job (as imported).
    expect(await count('JobMetric', 'jobId', trained)).toBe(30);
    expect((await del(a, `/v1/jobs/${trained}`)).status).toBe(204);
    for (const path of [`/v1/jobs/${trained}`, `/v1/jobs/${trained}/metrics`, `/v1/jobs/${trained}/webhooks`, `/v1/jobs/${trained}/events`]) {
      expect((await request(b.url).get(path).set(auth(key))).status, path).toBe(404);
    }
    expect(await count('JobMetric', 'jobId', trained)).toBe(0);
    expect(await count('Checkpoint', 'jobId', trained)).toBe(0);
    expect((await request(b.url).get(`/v1/models/${modelId}`).set(auth(key))).body).toMatchObject({ jobId: null, datasetId: null });
    expect((await request(b.url).get('/v1/jobs').set(auth(key))).body.items.map((j: { id: string }) => j.id)).not.toContain(trained);

    // The model: kept while an alias points to it; deleted on A, predict on B answers 404 at once (B had it cached).
    const alias = `/v1/registry/iris/aliases/production`;
    expect((await request(a.url).put(alias).set(auth(key)).send({ version: 1 })).status).toBe(201);
    expect(await inUse(`/v1/models/${modelId}`, 'aliases', ['iris@production'])).toContain('iris@production');
    expect((await request(b.url).delete(alias).set(auth(key))).status).toBeLessThan(300);
    expect((await del(a, `/v1/models/${modelId}`)).status).toBe(204);
    const gone = await predict(b, modelId);
    expect(gone.status, gone.text).toBe(404);
    expect(gone.body.error.code).toBe('ERR_NOT_FOUND');
    expect((await predict(a, modelId)).status).toBe(404);
    expect((await request(b.url).get(`/v1/models/${modelId}`).set(auth(key))).status).toBe(404);
    expect((await del(b, `/v1/models/${modelId}`)).status).toBe(404);
    expect(await count('Model', 'id', modelId)).toBe(0);
    expect((await request(b.url).get('/v1/registry/iris').set(auth(key))).body.versions).toEqual([]);
  });

  it('deletes a tenant with everything it has, its running and queued jobs stopped; its key fails at once on every API', async () => {
    const tenant = await createTenant(a.url, 'leaving');
    const iris = await uploadIris(a.url, tenant.apiKey);
    const modelId = await trainIris(tenant.apiKey, iris);
    expect((await predict(b, modelId, tenant.apiKey)).status).toBe(200);
    const slow = await uploadSlowDataset(a.url, tenant.apiKey);
    const running = await submitJob(a.url, tenant.apiKey, slow, 400);
    await waitForJob(a.url, tenant.apiKey, running, (j) => j.status === 'running' && j.epoch >= 1, 'the slow job to train');
    const queued = await submitJob(a.url, tenant.apiKey, slow, 5);
    expect(await service.app.queue.getJob(running)).toBeDefined();

    const path = `/v1/tenants/${tenant.id}`;
    expect((await del(a, path, tenant.apiKey)).status).toBe(403);
    expect((await del(a, path)).status).toBe(403);
    expect((await del(a, path, ADMIN_KEY)).status).toBe(204);
    // B had the key and the model cached: both are gone at once.
    const refused = await predict(b, modelId, tenant.apiKey);
    expect(refused.status, refused.text).toBe(401);
    expect((await request(b.url).get('/v1/datasets').set(auth(tenant.apiKey))).status).toBe(401);
    expect((await del(b, path, ADMIN_KEY)).status).toBe(404);
    expect((await request(b.url).get(`${path}/keys`).set(auth(ADMIN_KEY))).status).toBe(404);

    // The running job stops, the queued one never starts, and no row of the tenant is left.
    await waitFor('the worker to stop the tenant\'s run', async () => (await workerHealth(service.worker)).activeJobs === 0, 10_000);
    expect(await service.app.queue.getJob(queued)).toBeUndefined();
    await expect.poll(() => cachedBytes(service.worker.healthPort), { timeout: 5000 }).toBe(0);
    for (const table of ['Tenant', 'ApiKey', 'Dataset', 'Job', 'Model', 'WebhookDelivery', 'IdempotencyKey']) {
      expect(await count(table, table === 'Tenant' ? 'id' : 'tenantId', tenant.id), table).toBe(0);
    }
    for (const job of [running, queued]) {
      expect(await count('JobMetric', 'jobId', job)).toBe(0);
      expect(await count('Checkpoint', 'jobId', job)).toBe(0);
    }
    // The other tenants are untouched.
    expect((await request(b.url).get('/v1/datasets').set(auth(key))).status).toBe(200);
    expect((await request(b.url).get('/v1/datasets').set(auth(other))).status).toBe(200);
  });

  it('refuses a job whose dataset or initial model is deleted while it is created, and stores nothing', async () => {
    // What POST /v1/jobs meets when a DELETE commits between its reads and its insert (it answers 404 naming the field).
    const job = { tenantId: owner, model: { inputSize: 4, ...irisNetwork } as never, training: { epochs: 1, seed: 1 } as never, preprocessing: { standardize: false } };
    const iris = await uploadIris(a.url, key);
    const before = await count('Job', 'tenantId', owner);
    await expect(service.app.repos.jobs.create({ ...job, datasetId: randomUUID() })).rejects.toMatchObject({ name: 'ReferenceGoneError', field: 'datasetId' });
    await expect(service.app.repos.jobs.create({ ...job, datasetId: iris, initialModelId: randomUUID() })).rejects.toMatchObject({ field: 'initialModelId' });
    expect(await count('Job', 'tenantId', owner)).toBe(before);
    expect((await del(b, `/v1/datasets/${iris}`)).status).toBe(204);
  });
});
