// Each tenant sees only its own datasets, jobs and models: another tenant's id answers 404, as if it did not exist.
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createTenant } from '../helpers/app.js';
import { createTestContext, type TestContext } from '../helpers/env.js';
import { IRIS_COLUMNS, auth, irisNetwork, irisSplit, toCsv } from '../helpers/fixtures.js';
import { waitForJob } from '../helpers/jobs.js';
import { spawnWorker, type WorkerProcess } from '../helpers/processes.js';

describe('tenant isolation', () => {
  let ctx: TestContext;
  let app: FastifyInstance;
  let worker: WorkerProcess;

  beforeAll(async () => {
    ctx = await createTestContext();
    app = await buildTestApp(ctx.config);
    worker = await spawnWorker(ctx.env);
  });
  afterAll(async () => {
    await worker?.stop();
    await app?.close();
    await ctx?.cleanup();
  });

  it("answers 404 for another tenant's dataset, job, metrics, model and predictions", async () => {
    const first = (await createTenant(app, 'first')).apiKey;
    const second = (await createTenant(app, 'second')).apiKey;
    const upload = await request(app.server)
      .post('/v1/datasets')
      .query({ name: 'iris', target: 'species' })
      .set(auth(first))
      .set('content-type', 'text/csv')
      .send(toCsv(IRIS_COLUMNS, irisSplit().train));
    const datasetId = upload.body.id as string;
    const created = await request(app.server)
      .post('/v1/jobs')
      .set(auth(first))
      .send({ datasetId, model: irisNetwork, training: { epochs: 3, batchSize: 32 } });
    const jobId = created.body.id as string;
    const { modelId } = await waitForJob(app, first, jobId, (j) => j.status === 'succeeded', 'the job to succeed');

    const asSecond = [
      request(app.server).get(`/v1/datasets/${datasetId}`),
      request(app.server).get(`/v1/jobs/${jobId}`),
      request(app.server).get(`/v1/jobs/${jobId}/metrics`),
      request(app.server).post(`/v1/jobs/${jobId}/cancel`),
      request(app.server).get(`/v1/models/${modelId}`),
      request(app.server).post(`/v1/models/${modelId}/predict`).send({ inputs: [[5.1, 3.5, 1.4, 0.2]] }),
      request(app.server).post('/v1/jobs').send({ datasetId, model: irisNetwork }),
    ];
    for (const [i, pending] of asSecond.entries()) {
      const res = await pending.set(auth(second));
      expect(res.status, `request ${i}`).toBe(404);
      expect(res.body.error.code).toBe('ERR_NOT_FOUND');
    }
    expect((await request(app.server).get('/v1/datasets').set(auth(second))).body.items).toEqual([]);
    expect((await request(app.server).get('/v1/jobs').set(auth(second))).body.items).toEqual([]);

    // The owner still sees everything (and the model, now cached, is still not served across tenants).
    expect((await request(app.server).get(`/v1/models/${modelId}`).set(auth(first))).status).toBe(200);
    expect((await request(app.server).get(`/v1/models/${modelId}`).set(auth(second))).status).toBe(404);
    const jobs = await request(app.server).get('/v1/jobs').set(auth(first));
    expect(jobs.body.items.map((j: { id: string }) => j.id)).toEqual([jobId]);
  });
});
