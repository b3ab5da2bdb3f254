// Quotas per tenant: bytes stored (datasets' float32 arrays, models' weights, what active jobs reserve for their
// models), datasets and models. Usage comes from the tables; a write past a quota is a 403 naming the quota, the
// usage and the limit, with nothing stored; the check holds against uploads racing each other.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { ADMIN_KEY } from '../helpers/env.js';
import { auth, irisNetwork } from '../helpers/fixtures.js';
import { irisCsv } from '../helpers/iris.js';
import { waitForJob } from '../helpers/jobs.js';
import { spawnApi } from '../helpers/processes.js';
import { cars } from '../helpers/tables.js';

const DEFAULTS = { QUOTA_STORAGE_BYTES: '50000000', QUOTA_DATASETS: '100', QUOTA_MODELS: '100' };
/** 150 rows x (4 features + 3 one-hot species) float32. */
const IRIS_BYTES = 150 * (4 + 3) * 4;
/** The 4-16-3 network's weights and biases, float32: (4 x 16 + 16) + (16 x 3 + 3) = 131 values. */
const IRIS_MODEL_BYTES = 131 * 4;

describe('quotas', () => {
  const service = useTestService({ worker: true, audit: true, env: DEFAULTS });
  const http = () => request(service.app.server);
  const admin = auth(ADMIN_KEY);

  const usage = async (key: string) => {
    const res = await http().get('/v1/usage').set(auth(key));
    expect(res.status).toBe(200);
    return res.body;
  };
  const setQuotas = async (tenantId: string, body: object) => {
    const res = await http().patch(`/v1/tenants/${tenantId}/quotas`).set(admin).send(body);
    expect(res.status, res.text).toBe(200);
    return res.body;
  };
  const uploadIrisCsv = (key: string, csv = irisCsv()) =>
    http().post('/v1/datasets').query({ name: 'iris', target: 'species' }).set(auth(key)).set('content-type', 'text/csv').send(csv);
  const carsBody = () => {
    const rows = cars();
    const columns = Object.keys(rows[0]);
    return { name: 'cars', columns, rows: rows.map((r) => columns.map((c) => r[c])), target: 'Miles_per_Gallon', ignore: ['Name', 'Year'] };
  };
  /** What Postgres itself says the tenant's datasets take. */
  const storedDatasetBytes = async (tenantId: string) =>
    Number(
      (await service.audit.query<{ n: string }>('SELECT COALESCE(sum(octet_length(inputs) + octet_length(outputs)), 0) AS n FROM "Dataset" WHERE "tenantId" = $1', [tenantId]))[0].n,
    );

  it('shows usage against the configured defaults; the admin sets a tenant its own quotas and puts them back with null', async () => {
    const tenant = await createTenant(service.app);
    expect(await usage(tenant.apiKey)).toEqual({
      storageBytes: { used: 0, limit: 50_000_000, custom: false, datasets: 0, models: 0, activeJobs: 0 },
      datasets: { used: 0, limit: 100, custom: false },
      models: { used: 0, limit: 100, custom: false, stored: 0, activeJobs: 0 },
    });
    const defaults = await http().get(`/v1/tenants/${tenant.id}/quotas`).set(admin);
    expect(defaults.body).toEqual({
      storageBytes: { limit: 50_000_000, custom: false },
      datasets: { limit: 100, custom: false },
      models: { limit: 100, custom: false },
    });

    // Past 2^31: the storage quota is a bigint column.
    expect(await setQuotas(tenant.id, { storageBytes: 5_000_000_000, datasets: 3 })).toEqual({
      storageBytes: { limit: 5_000_000_000, custom: true },
      datasets: { limit: 3, custom: true },
      models: { limit: 100, custom: false },
    });
    // Absent fields stay as they are; null goes back to the default.
    expect(await setQuotas(tenant.id, { models: 0 })).toMatchObject({ storageBytes: { limit: 5_000_000_000 }, datasets: { limit: 3 }, models: { limit: 0, custom: true } });
    expect(await setQuotas(tenant.id, { storageBytes: null, models: null })).toEqual({
      storageBytes: { limit: 50_000_000, custom: false },
      datasets: { limit: 3, custom: true },
      models: { limit: 100, custom: false },
    });
    expect((await usage(tenant.apiKey)).datasets).toEqual({ used: 0, limit: 3, custom: true });

    const invalid = await http().patch(`/v1/tenants/${tenant.id}/quotas`).set(admin).send({ datasets: -1 });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.details.issues[0].field).toBe('body.datasets');
    const unknown = await http().patch('/v1/tenants/00000000-0000-4000-8000-000000000000/quotas').set(admin).send({ datasets: 1 });
    expect(unknown.status).toBe(404);
    const asTenant = await http().get(`/v1/tenants/${tenant.id}/quotas`).set(auth(tenant.apiKey));
    expect(asTenant.status).toBe(403);
  });

  it('counts a dataset as its stored arrays; past the datasets quota a CSV is refused before its body is read', async () => {
    const tenant = await createTenant(service.app);
    const first = await uploadIrisCsv(tenant.apiKey);
    expect(first.status).toBe(201);
    expect((await usage(tenant.apiKey)).storageBytes).toMatchObject({ used: IRIS_BYTES, datasets: IRIS_BYTES });
    expect(await storedDatasetBytes(tenant.id)).toBe(IRIS_BYTES);

    await setQuotas(tenant.id, { datasets: 1 });
    // A body that would be a 400 if it were read: the quota answers first.
    const refused = await uploadIrisCsv(tenant.apiKey, 'sepalLength,species\n1,setosa\nnot a number,setosa\n');
    expect(refused.status).toBe(403);
    expect(refused.body.error).toEqual({
      code: 'ERR_QUOTA_EXCEEDED',
      message: 'datasets quota exceeded: the tenant has 1 datasets (stored) of the 1 it may have',
      details: { quota: 'datasets', usage: 1, limit: 1, requested: 1 },
    });
    // JSON uploads too, and nothing was stored.
    const json = await http().post('/v1/datasets').set(auth(tenant.apiKey)).send(carsBody());
    expect(json.status).toBe(403);
    expect(json.body.error.details).toEqual({ quota: 'datasets', usage: 1, limit: 1, requested: 1 });
    expect((await http().get('/v1/datasets').set(auth(tenant.apiKey))).body.items).toHaveLength(1);
    expect((await usage(tenant.apiKey)).datasets.used).toBe(1);

    // Raised again: the same upload goes through. A retry of it with its Idempotency-Key, now at the quota, gets the
    // first answer again rather than a 403 (a keyed CSV is read, so its hash can match the first request's).
    await setQuotas(tenant.id, { datasets: 2 });
    const keyed = () => uploadIrisCsv(tenant.apiKey).set('idempotency-key', 'iris-upload-1');
    const stored = await keyed();
    expect(stored.status).toBe(201);
    const retried = await keyed();
    expect(retried.status).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    expect(retried.body.id).toBe(stored.body.id);
    expect((await usage(tenant.apiKey)).datasets.used).toBe(2);
    // Another keyed upload is read, then refused all the same, with nothing stored.
    const other = await uploadIrisCsv(tenant.apiKey).set('idempotency-key', 'iris-upload-2');
    expect(other.status).toBe(403);
    expect(other.body.error.details).toEqual({ quota: 'datasets', usage: 2, limit: 2, requested: 1 });
    expect((await usage(tenant.apiKey)).datasets.used).toBe(2);
  });

  it('refuses a dataset whose encoded bytes pass the storage quota, and takes one that fills it exactly', async () => {
    const tenant = await createTenant(service.app);
    expect((await uploadIrisCsv(tenant.apiKey)).status).toBe(201);
    // Cars: 398 rows with a target (8 are missing), 6 features (Name and Year ignored) and 1 target, float32.
    const carsBytes = 398 * (6 + 1) * 4;
    await setQuotas(tenant.id, { storageBytes: IRIS_BYTES + carsBytes - 1 });
    const refused = await http().post('/v1/datasets').set(auth(tenant.apiKey)).send(carsBody());
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('ERR_QUOTA_EXCEEDED');
    expect(refused.body.error.details).toEqual({ quota: 'storageBytes', usage: IRIS_BYTES, limit: IRIS_BYTES + carsBytes - 1, requested: carsBytes });
    expect(refused.body.error.message).toBe(
      `storageBytes quota exceeded: the tenant stores ${IRIS_BYTES} of the ${IRIS_BYTES + carsBytes - 1} bytes it may store, and this dataset needs ${carsBytes} more`,
    );
    expect(await storedDatasetBytes(tenant.id)).toBe(IRIS_BYTES);

    await setQuotas(tenant.id, { storageBytes: IRIS_BYTES + carsBytes });
    const stored = await http().post('/v1/datasets').set(auth(tenant.apiKey)).send(carsBody());
    expect(stored.status).toBe(201);
    expect(stored.body.rows).toBe(398);
    expect(await storedDatasetBytes(tenant.id)).toBe(IRIS_BYTES + carsBytes);
    const full = await usage(tenant.apiKey);
    expect(full.storageBytes).toMatchObject({ used: IRIS_BYTES + carsBytes, limit: IRIS_BYTES + carsBytes, datasets: IRIS_BYTES + carsBytes });

    // Full: even a CSV is refused before it is read (it could not be stored), naming the bytes.
    const csv = await uploadIrisCsv(tenant.apiKey);
    expect(csv.status).toBe(403);
    expect(csv.body.error.details).toMatchObject({ quota: 'storageBytes', usage: IRIS_BYTES + carsBytes, limit: IRIS_BYTES + carsBytes });

    // Usage is read from the tables: a dataset gone from them no longer counts.
    await service.audit.query('DELETE FROM "Dataset" WHERE id = $1', [stored.body.id]);
    expect((await usage(tenant.apiKey)).storageBytes.used).toBe(IRIS_BYTES);
  });

  it('lets only as many concurrent uploads through as the quota holds', async () => {
    const tenant = await createTenant(service.app);
    await setQuotas(tenant.id, { storageBytes: 3 * IRIS_BYTES + IRIS_BYTES / 2 });
    const answers = await Promise.all(Array.from({ length: 6 }, () => uploadIrisCsv(tenant.apiKey)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([201, 201, 201, 403, 403, 403]);
    for (const refused of answers.filter((a) => a.status === 403)) expect(refused.body.error.details.quota).toBe('storageBytes');
    expect(await storedDatasetBytes(tenant.id)).toBe(3 * IRIS_BYTES);

    // The count quota races the same way (JSON bodies, so every request reaches the insert).
    await setQuotas(tenant.id, { storageBytes: null, datasets: 5 });
    const more = await Promise.all(Array.from({ length: 5 }, () => http().post('/v1/datasets').set(auth(tenant.apiKey)).send(carsBody())));
    expect(more.map((a) => a.status).sort()).toEqual([201, 201, 403, 403, 403]);
    expect((await usage(tenant.apiKey)).datasets.used).toBe(5);
  });

  it('holds across two API processes: uploads and jobs racing on both pass no quota together', async () => {
    const other = await spawnApi(service.ctx.env);
    try {
      const tenant = await createTenant(service.app);
      await setQuotas(tenant.id, { storageBytes: 3 * IRIS_BYTES + IRIS_BYTES / 2 });
      const on = (i: number) => (i % 2 === 0 ? http() : request(other.url));
      const uploads = await Promise.all(
        Array.from({ length: 6 }, (_, i) => on(i).post('/v1/datasets').query({ name: `iris${i}`, target: 'species' }).set(auth(tenant.apiKey)).set('content-type', 'text/csv').send(irisCsv())),
      );
      expect(uploads.map((a) => a.status).sort()).toEqual([201, 201, 201, 403, 403, 403]);
      expect(await storedDatasetBytes(tenant.id)).toBe(3 * IRIS_BYTES);

      // Each job counts as a model to come: with room for two, two of five jobs sent at once are queued.
      await setQuotas(tenant.id, { storageBytes: null, models: 2 });
      const datasetId = uploads.find((a) => a.status === 201)!.body.id;
      const job = { datasetId, model: irisNetwork, training: { epochs: 1 } };
      const jobs = await Promise.all(Array.from({ length: 5 }, (_, i) => on(i).post('/v1/jobs').set(auth(tenant.apiKey)).send(job)));
      expect(jobs.map((a) => a.status).sort()).toEqual([202, 202, 403, 403, 403]);
      for (const refused of jobs.filter((a) => a.status === 403)) expect(refused.body.error.details.quota).toBe('models');
      expect((await http().get('/v1/jobs').set(auth(tenant.apiKey))).body.items).toHaveLength(2);
    } finally {
      await other.stop();
    }
  });

  it("counts a job as the model it will make, reserving that model's bytes; the model takes its place; imports count too", async () => {
    const tenant = await createTenant(service.app);
    const datasetId = (await uploadIrisCsv(tenant.apiKey)).body.id;
    const job = { datasetId, model: irisNetwork, training: { epochs: 3, batchSize: 32, seed: 1 } };

    await setQuotas(tenant.id, { models: 1 });
    const first = await http().post('/v1/jobs').set(auth(tenant.apiKey)).send(job);
    expect(first.status).toBe(202);
    // While the first is active it holds the only model the quota allows: a second job is refused.
    const second = await http().post('/v1/jobs').set(auth(tenant.apiKey)).send(job);
    expect(second.status).toBe(403);
    expect(second.body.error.details).toEqual({ quota: 'models', usage: 1, limit: 1, requested: 1 });
    expect(second.body.error.message).toBe('models quota exceeded: the tenant has 1 models (0 stored and 1 to come from queued or running jobs) of the 1 it may have');

    const done = await waitForJob(service.app, tenant.apiKey, first.body.id, (j) => j.status === 'succeeded', 'the job to succeed');
    const after = await usage(tenant.apiKey);
    expect(after.models).toEqual({ used: 1, limit: 1, custom: true, stored: 1, activeJobs: 0 });
    expect(after.storageBytes).toMatchObject({ used: IRIS_BYTES + IRIS_MODEL_BYTES, models: IRIS_MODEL_BYTES, activeJobs: 0 });
    const [{ weightBytes }] = await service.audit.query<{ weightBytes: number }>('SELECT "weightBytes" FROM "Model" WHERE id = $1', [done.modelId]);
    expect(weightBytes).toBe(IRIS_MODEL_BYTES);

    // An import of that model: refused by the models quota, then by the bytes, then stored.
    const exported = (await http().get(`/v1/models/${done.modelId}/export`).set(auth(tenant.apiKey))).body;
    const byCount = await http().post('/v1/models').set(auth(tenant.apiKey)).send(exported);
    expect(byCount.status).toBe(403);
    expect(byCount.body.error.details).toEqual({ quota: 'models', usage: 1, limit: 1, requested: 1 });
    await setQuotas(tenant.id, { models: 3, storageBytes: IRIS_BYTES + 2 * IRIS_MODEL_BYTES - 1 });
    const byBytes = await http().post('/v1/models').set(auth(tenant.apiKey)).send(exported);
    expect(byBytes.status).toBe(403);
    expect(byBytes.body.error.details).toEqual({
      quota: 'storageBytes',
      usage: IRIS_BYTES + IRIS_MODEL_BYTES,
      limit: IRIS_BYTES + 2 * IRIS_MODEL_BYTES - 1,
      requested: IRIS_MODEL_BYTES,
    });
    // A job reserves what its model will take, so it is refused the same way.
    const jobByBytes = await http().post('/v1/jobs').set(auth(tenant.apiKey)).send(job);
    expect(jobByBytes.status).toBe(403);
    expect(jobByBytes.body.error.details).toMatchObject({ quota: 'storageBytes', requested: IRIS_MODEL_BYTES });
    expect((await http().get('/v1/jobs').set(auth(tenant.apiKey))).body.items).toHaveLength(1);

    await setQuotas(tenant.id, { storageBytes: IRIS_BYTES + 2 * IRIS_MODEL_BYTES });
    expect((await http().post('/v1/models').set(auth(tenant.apiKey)).send(exported)).status).toBe(201);
    expect((await usage(tenant.apiKey)).models).toMatchObject({ used: 2, stored: 2 });
  });

  it('frees what a job reserved when it is cancelled', async () => {
    const tenant = await createTenant(service.app);
    const datasetId = (await uploadIrisCsv(tenant.apiKey)).body.id;
    await setQuotas(tenant.id, { models: 1 });
    const long = { datasetId, model: irisNetwork, training: { epochs: 10_000, batchSize: 1 } };
    const job = await http().post('/v1/jobs').set(auth(tenant.apiKey)).send(long);
    expect(job.status).toBe(202);
    expect((await usage(tenant.apiKey)).storageBytes).toMatchObject({ activeJobs: IRIS_MODEL_BYTES, used: IRIS_BYTES + IRIS_MODEL_BYTES });
    expect((await http().post('/v1/jobs').set(auth(tenant.apiKey)).send(long)).status).toBe(403);

    expect((await http().post(`/v1/jobs/${job.body.id}/cancel`).set(auth(tenant.apiKey))).body.status).toBe('cancelled');
    expect(await usage(tenant.apiKey)).toMatchObject({ storageBytes: { used: IRIS_BYTES, activeJobs: 0 }, models: { used: 0, activeJobs: 0 } });
    const again = await http().post('/v1/jobs').set(auth(tenant.apiKey)).send({ ...long, training: { epochs: 1 } });
    expect(again.status).toBe(202);
  });
});
