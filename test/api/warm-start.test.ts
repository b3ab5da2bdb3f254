// Warm start: POST /v1/jobs with initialModelId begins from a trained model's weights, over real HTTP, Postgres,
// Redis and a worker process.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth, irisNetwork } from '../helpers/fixtures.js';
import { uploadIris } from '../helpers/jobs.js';
import { waitFor } from '../helpers/processes.js';

describe('warm start (initialModelId)', () => {
  const service = useTestService({ worker: true });
  let apiKey: string;
  let datasetId: string;

  beforeAll(async () => {
    ({ apiKey } = await createTenant(service.app));
    datasetId = await uploadIris(service.app, apiKey);
  });

  const train = async (body: object) => {
    const created = await request(service.app.server).post('/v1/jobs').set(auth(apiKey)).send({ datasetId, model: irisNetwork, ...body });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    return waitFor(
      'the job to succeed',
      async () => {
        const res = await request(service.app.server).get(`/v1/jobs/${created.body.id}`).set(auth(apiKey));
        if (res.body.status === 'failed') throw new Error(`job failed: ${JSON.stringify(res.body.error)}`);
        return res.body.status === 'succeeded' ? res.body : undefined;
      },
      60_000,
      200,
    );
  };
  const firstLoss = async (jobId: string) => (await request(service.app.server).get(`/v1/jobs/${jobId}/metrics`).set(auth(apiKey))).body.items[0].loss as number;

  it('continues from the model: the first epoch starts where the model left off, and keeps its preprocessing', async () => {
    const base = await train({
      training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 40, batchSize: 16, seed: 3 },
      preprocessing: { standardize: true },
    });
    const sgd = { optimizer: { type: 'sgd', learningRate: 0.001 }, epochs: 1, batchSize: 16, seed: 4 };
    const fresh = await train({ training: sgd, preprocessing: { standardize: true } });
    const warm = await train({ training: sgd, initialModelId: base.modelId });

    // One small step from the trained weights stays near the trained loss (the rows differ: another seed draws
    // another validation split); a fresh start is far above it.
    const warmLoss = await firstLoss(warm.id);
    expect(warmLoss).toBeLessThan(base.loss * 5);
    expect(await firstLoss(fresh.id)).toBeGreaterThan(warmLoss * 5);
    const baseModel = (await request(service.app.server).get(`/v1/models/${base.modelId}`).set(auth(apiKey))).body;
    const warmModel = (await request(service.app.server).get(`/v1/models/${warm.modelId}`).set(auth(apiKey))).body;
    expect(warmModel.preprocessing).toEqual(baseModel.preprocessing);
  });

  it('answers 404 for an unknown or foreign model and 422 for a model of another shape', async () => {
    const training = { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 2, batchSize: 16 };
    const base = await train({ training });
    const missing = await request(service.app.server)
      .post('/v1/jobs')
      .set(auth(apiKey))
      .send({ datasetId, model: irisNetwork, training, initialModelId: '00000000-0000-4000-8000-000000000000' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toMatch(/^initialModelId: model .* not found/);

    const other = await createTenant(service.app, 'other');
    const foreign = await request(service.app.server).post('/v1/jobs').set(auth(other.apiKey)).send({ datasetId, model: irisNetwork, training, initialModelId: base.modelId });
    expect(foreign.status).toBe(404);

    const wider = { ...irisNetwork, layers: [{ type: 'dense', units: 32, activation: 'relu' }, irisNetwork.layers.at(-1)] };
    const mismatch = await request(service.app.server).post('/v1/jobs').set(auth(apiKey)).send({ datasetId, model: wider, training, initialModelId: base.modelId });
    expect(mismatch.status, JSON.stringify(mismatch.body)).toBe(422);
    expect(mismatch.body.error.message).toMatch(/^initialModelId: expected a model with the same inputs, layers and loss/);
    expect(mismatch.body.error.details).toMatchObject({ field: 'initialModelId' });
  });
});
