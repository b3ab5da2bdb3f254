// Each tenant sees only its own datasets, jobs and models: another tenant's id answers 404, as if it did not exist.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth, irisNetwork } from '../helpers/fixtures.js';
import { uploadIris, waitForJob } from '../helpers/jobs.js';

describe('tenant isolation', () => {
  const service = useTestService({ worker: true });


  it("answers 404 for another tenant's dataset, job, metrics, model and predictions", async () => {
    const first = (await createTenant(service.app, 'first')).apiKey;
    const second = (await createTenant(service.app, 'second')).apiKey;
    const datasetId = await uploadIris(service.app, first);
    const created = await request(service.app.server)
      .post('/v1/jobs')
      .set(auth(first))
      .send({ datasetId, model: irisNetwork, training: { epochs: 3, batchSize: 32 } });
    const jobId = created.body.id as string;
    const { modelId } = await waitForJob(service.app, first, jobId, (j) => j.status === 'succeeded', 'the job to succeed');

    const asSecond = [
      request(service.app.server).get(`/v1/datasets/${datasetId}`),
      request(service.app.server).get(`/v1/jobs/${jobId}`),
      request(service.app.server).get(`/v1/jobs/${jobId}/metrics`),
      request(service.app.server).post(`/v1/jobs/${jobId}/cancel`),
      request(service.app.server).get(`/v1/models/${modelId}`),
      request(service.app.server).post(`/v1/models/${modelId}/predict`).send({ inputs: [[5.1, 3.5, 1.4, 0.2]] }),
      request(service.app.server).post('/v1/jobs').send({ datasetId, model: irisNetwork }),
    ];
    for (const [i, pending] of asSecond.entries()) {
      const res = await pending.set(auth(second));
      expect(res.status, `request ${i}`).toBe(404);
      expect(res.body.error.code).toBe('ERR_NOT_FOUND');
    }
    expect((await request(service.app.server).get('/v1/datasets').set(auth(second))).body.items).toEqual([]);
    expect((await request(service.app.server).get('/v1/jobs').set(auth(second))).body.items).toEqual([]);

    // The owner still sees everything (and the model, now cached, is still not served across tenants).
    expect((await request(service.app.server).get(`/v1/models/${modelId}`).set(auth(first))).status).toBe(200);
    expect((await request(service.app.server).get(`/v1/models/${modelId}`).set(auth(second))).status).toBe(404);
    const jobs = await request(service.app.server).get('/v1/jobs').set(auth(first));
    expect(jobs.body.items.map((j: { id: string }) => j.id)).toEqual([jobId]);
  });
});
