// Predict requests are refused before their rows cost anything: a model that is not the tenant's answers 404
// without its body's rows being checked, and a body over PREDICT_BODY_LIMIT_BYTES answers 413 from its declared
// length, naming the limit and the setting; over HTTP, real Postgres, Redis and a worker that trains the model.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createTenant, useTestService } from '../helpers/app.js';
import { auth, irisNetwork, irisSplit } from '../helpers/fixtures.js';
import { postJob, uploadIris, waitForJob } from '../helpers/jobs.js';
import { loadConfig } from '../../src/config/index.js';
import type { FastifyInstance } from 'fastify';

const MiB = 1024 * 1024;

describe('predict limits', () => {
  const service = useTestService({ worker: true });
  const http = () => request(service.app.server);
  let owner: string;
  let other: string;
  let modelId: string;
  let roomy: FastifyInstance;

  // 10,000 Iris flowers keyed by column name, as a client sends raw rows.
  const keyedRows = () => {
    const train = irisSplit().train;
    return Array.from({ length: 10_000 }, (_, i) => {
      const [sepal_length, sepal_width, petal_length, petal_width] = train[i % train.length];
      return { sepal_length, sepal_width, petal_length, petal_width };
    });
  };

  beforeAll(async () => {
    ({ apiKey: owner } = await createTenant(service.app, 'owner'));
    ({ apiKey: other } = await createTenant(service.app, 'other'));
    const datasetId = await uploadIris(service.app, owner);
    const id = await postJob(service.app, owner, { datasetId, modelName: 'iris', model: irisNetwork, training: { epochs: 3, batchSize: 16, seed: 1 } });
    const job = await waitForJob(service.app, owner, id, (j) => j.status === 'succeeded' || j.status === 'failed', 'the model');
    expect(job.error).toBeNull();
    modelId = job.modelId!;
    roomy = await buildTestApp(loadConfig({ ...service.ctx.env, PREDICT_BODY_LIMIT_BYTES: String(4 * MiB) }));
  });
  afterAll(async () => {
    await roomy?.close();
  });

  it("answers 404 for another tenant's or an unknown model before checking a row of the body", async () => {
    // 5,000 rows of text where numbers belong: the owner gets the rows' 400, anyone else the model's 404.
    const bad = { inputs: Array.from({ length: 5_000 }, () => ['a', 'b', 'c', 'd']) };
    const own = await http().post(`/v1/models/${modelId}/predict`).set(auth(owner)).send(bad);
    expect(own.status, own.text).toBe(400);
    expect(own.body.error.details.field).toMatch(/^body\.inputs\[0\]/);

    const foreign = await http().post(`/v1/models/${modelId}/predict`).set(auth(other)).send(bad);
    expect(foreign.status, foreign.text).toBe(404);
    expect(foreign.body.error).toMatchObject({ code: 'ERR_NOT_FOUND', message: `model ${modelId} not found` });
    const unknown = '6f1c2a5e-8b1d-4c3a-9f0e-2d7b4a1c9e55';
    const missing = await http().post(`/v1/models/${unknown}/predict`).set(auth(owner)).send(bad);
    expect(missing.status, missing.text).toBe(404);
    // An id that is not one stays the schema's 400.
    const notAnId = await http().post('/v1/models/not-an-id/predict').set(auth(owner)).send(bad);
    expect(notAnId.status).toBe(400);
    expect(notAnId.body.error.details.field).toBe('params.id');
  });

  it("answers 404 for a name the tenant has not registered before checking a row of the body; rows of numbers still predict by name", async () => {
    const bad = { inputs: Array.from({ length: 5_000 }, () => ['a', 'b', 'c', 'd']) };
    const own = await http().post('/v1/registry/iris/predict').set(auth(owner)).send(bad);
    expect(own.status, own.text).toBe(400);
    expect(own.body.error.details.field).toMatch(/^body\.inputs\[0\]/);

    for (const [key, name] of [[other, 'iris'], [owner, 'no-such-name']]) {
      const refused = await http().post(`/v1/registry/${name}/predict`).set(auth(key)).send(bad);
      expect(refused.status, refused.text).toBe(404);
      expect(refused.body.error).toMatchObject({ code: 'ERR_NOT_FOUND', message: `model name ${name} not found`, details: { field: 'name' } });
    }
    const answered = await http().post('/v1/registry/iris/predict').set(auth(owner)).send({ inputs: [irisSplit().train[0].slice(0, 4)] });
    expect(answered.status, answered.text).toBe(200);
    expect(answered.body).toMatchObject({ modelId, version: 1 });
  });

  it('answers 413 naming PREDICT_BODY_LIMIT_BYTES for a body over it, on both predict routes; a configured limit lets it through', async () => {
    // Pretty-printed, as some clients send JSON: about 1.9 MB, where compact it is 0.75 MB.
    const body = JSON.stringify({ inputs: keyedRows() }, null, 2);
    expect(body.length).toBeGreaterThan(MiB);
    const expected = { code: 'ERR_BODY_TOO_LARGE', message: `request body is larger than the configured limit (${MiB} bytes, PREDICT_BODY_LIMIT_BYTES)` };
    const byId = await http().post(`/v1/models/${modelId}/predict`).set(auth(owner)).type('json').send(body);
    expect(byId.status, byId.text).toBe(413);
    expect(byId.body.error).toMatchObject(expected);
    const byName = await http().post('/v1/registry/iris/predict').set(auth(owner)).type('json').send(body);
    expect(byName.status, byName.text).toBe(413);
    expect(byName.body.error).toMatchObject(expected);

    const answered = await request(roomy.server).post(`/v1/models/${modelId}/predict`).set(auth(owner)).type('json').send(body);
    expect(answered.status, answered.text.slice(0, 300)).toBe(200);
    expect(answered.body.labels).toHaveLength(10_000);
  });
});
