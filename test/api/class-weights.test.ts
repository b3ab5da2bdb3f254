// training.classWeights over HTTP on Seattle's weather, whose classes are far from balanced (sun and rain each about
// 44% of days, snow under 2%): "balanced" trades a little accuracy for recall of the rare classes.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth } from '../helpers/fixtures.js';
import { postJob, waitForJob } from '../helpers/jobs.js';
import { seattleWeatherCsv } from '../helpers/tables.js';

describe('class weights', () => {
  const service = useTestService({ worker: true });

  it('"balanced" raises the mean per-class recall on held-out days; unknown labels and regression answer 422', async () => {
    const { apiKey } = await createTenant(service.app);
    const upload = await request(service.app.server)
      .post('/v1/datasets')
      .query({ name: 'weather', target: 'weather', ignore: 'date' })
      .set(auth(apiKey))
      .set('content-type', 'text/csv')
      .send(seattleWeatherCsv());
    expect(upload.status).toBe(201);
    const job = (classWeights?: object | string) => ({
      datasetId: upload.body.id,
      model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 5, activation: 'softmax' }], loss: 'categoricalCrossEntropy' },
      training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 40, batchSize: 32, validationSplit: 0.3, seed: 5, ...(classWeights ? { classWeights } : {}) },
    });
    const evaluate = async (body: object) => {
      const id = await postJob(service.app, apiKey, body);
      const done = await waitForJob(service.app, apiKey, id, (j) => j.status === 'succeeded' || j.status === 'failed', 'the job to end', 90_000);
      expect(done.error).toBeNull();
      return (await request(service.app.server).get(`/v1/models/${done.modelId}`).set(auth(apiKey))).body.evaluation;
    };
    const meanRecall = (e: { perClass: { recall: number; support: number }[] }) => {
      const present = e.perClass.filter((c) => c.support > 0);
      return present.reduce((s, c) => s + c.recall, 0) / present.length;
    };
    const plain = await evaluate(job());
    const balanced = await evaluate(job('balanced'));
    expect(balanced.rows).toBe(plain.rows); // the same validation days
    expect(meanRecall(balanced)).toBeGreaterThan(meanRecall(plain));

    const unknown = await request(service.app.server).post('/v1/jobs').set(auth(apiKey)).send(job({ sun: 1, hail: 3 }));
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.details.field).toBe('training.classWeights');
    expect(unknown.body.error.message).toContain('hail');
    const numeric = await request(service.app.server)
      .post('/v1/datasets')
      .query({ name: 'wind', target: 'wind', ignore: 'date' })
      .set(auth(apiKey))
      .set('content-type', 'text/csv')
      .send(seattleWeatherCsv());
    const regression = await request(service.app.server)
      .post('/v1/jobs')
      .set(auth(apiKey))
      .send({ ...job('balanced'), datasetId: numeric.body.id, model: { layers: [{ type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' } });
    expect(regression.status).toBe(422);
    expect(regression.body.error.message).toContain('only for a class target');
  });
});
