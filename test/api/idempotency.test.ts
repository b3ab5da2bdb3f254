// Idempotency-Key on POST /v1/jobs and POST /v1/datasets: a retried request gets the first response, once.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { IRIS_COLUMNS, auth, irisNetwork, irisSplit, toCsv } from '../helpers/fixtures.js';
import { uploadIris } from '../helpers/jobs.js';

describe('Idempotency-Key', () => {
  const service = useTestService();
  let key: string;
  let datasetId: string;
  const csv = toCsv(IRIS_COLUMNS, irisSplit().train);

  const postJob = (apiKey: string, idempotencyKey: string | undefined, body: object) => {
    const req = request(service.app.server).post('/v1/jobs').set(auth(apiKey));
    return (idempotencyKey === undefined ? req : req.set('idempotency-key', idempotencyKey)).send(body);
  };
  const postCsv = (apiKey: string, idempotencyKey: string, name = 'iris') =>
    request(service.app.server)
      .post('/v1/datasets')
      .query({ name, target: 'species' })
      .set(auth(apiKey))
      .set('idempotency-key', idempotencyKey)
      .set('content-type', 'text/csv')
      .send(csv);
  const jobBody = () => ({ datasetId, model: irisNetwork, training: { epochs: 3, seed: 1 } });

  beforeAll(async () => {
    key = (await createTenant(service.app, 'idem')).apiKey;
    datasetId = await uploadIris(service.app, key);
  });

  it('a retried job submission returns the first response and creates one job', async () => {
    const first = await postJob(key, 'job-1', jobBody());
    expect(first.status).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const retry = await postJob(key, 'job-1', jobBody());
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(await service.app.db.job.count({ where: { id: first.body.id } })).toBe(1);
    expect(await service.app.db.job.count()).toBe(1);
    // Without the header every POST creates.
    const plain = await postJob(key, undefined, jobBody());
    expect(plain.body.id).not.toBe(first.body.id);
  });

  it('a retried CSV upload returns the first dataset', async () => {
    const first = await postCsv(key, 'upload-1');
    const retry = await postCsv(key, 'upload-1');
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(await service.app.db.dataset.count({ where: { name: 'iris' } })).toBe(2); // the one from beforeAll and this one
  });

  it('the same key with a different request answers 422, naming the header', async () => {
    await postJob(key, 'job-2', jobBody());
    const other = await postJob(key, 'job-2', { ...jobBody(), training: { epochs: 4, seed: 1 } });
    expect(other.status).toBe(422);
    expect(other.body.error).toMatchObject({ code: 'ERR_IDEMPOTENCY_MISMATCH', message: expect.stringContaining('job-2') });
    const otherQuery = await postCsv(key, 'upload-1', 'renamed');
    expect(otherQuery.status).toBe(422);
  });

  it('keys are scoped to the tenant and the route', async () => {
    const other = (await createTenant(service.app, 'other')).apiKey;
    const mine = await postJob(key, 'shared', jobBody());
    // Another tenant reusing the key gets its own answer (here: it cannot see the dataset), never the first response.
    const theirs = await postJob(other, 'shared', jobBody());
    expect(theirs.status).toBe(404);
    expect(JSON.stringify(theirs.body)).not.toContain(mine.body.id);
    const upload = await postCsv(key, 'shared');
    expect(upload.status).toBe(201);
  });

  it('a failed request is not stored: the retry runs again', async () => {
    const missing = { ...jobBody(), datasetId: '00000000-0000-4000-8000-000000000000' };
    expect((await postJob(key, 'job-3', missing)).status).toBe(404);
    const fixed = await postJob(key, 'job-3', jobBody());
    expect(fixed.status).toBe(202);
  });

  it('concurrent duplicates create one job: the others wait their turn (409) or get the same answer', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => postJob(key, 'job-4', jobBody())));
    const created = answers.filter((a) => a.status === 202);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((a) => a.body.id)).size).toBe(1);
    for (const a of answers.filter((x) => x.status !== 202)) {
      expect(a.status).toBe(409);
      expect(a.body.error.code).toBe('ERR_IDEMPOTENCY_IN_PROGRESS');
    }
    const retry = await postJob(key, 'job-4', jobBody());
    expect(retry.body.id).toBe(created[0].body.id);
    expect(await service.app.db.idempotencyKey.count({ where: { key: 'job-4' } })).toBe(1);
  });

  it('refuses keys that are empty, too long or not visible ASCII', async () => {
    for (const bad of ['x'.repeat(256), 'has space', 'caf\u00e9']) {
      const res = await postJob(key, bad, jobBody());
      expect(res.status, bad).toBe(400);
      expect(res.body.error.message).toContain('headers.idempotency-key');
    }
  });

  it('documents the header in the OpenAPI document', async () => {
    const doc = (await request(service.app.server).get('/docs/json')).body;
    for (const path of ['/v1/jobs', '/v1/datasets']) {
      const params = doc.paths[path].post.parameters as { in: string; name: string }[];
      expect(params).toContainEqual(expect.objectContaining({ in: 'header', name: 'idempotency-key' }));
    }
  });
});
