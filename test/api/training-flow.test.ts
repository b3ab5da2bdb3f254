// End to end over real HTTP, Postgres, Redis and a real worker process running the engine in worker threads.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { IRIS_COLUMNS, auth, irisNetwork, irisSplit, toCsv } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/processes.js';

describe('training flow: tenant -> Iris CSV -> 4-16-3 network -> predictions', () => {
  const service = useTestService({ worker: true });


  it('trains, reports one metric row per epoch and predicts held-out species by feature name', async () => {
    const { apiKey } = await createTenant(service.app);
    const { train, holdout } = irisSplit();

    const upload = await request(service.app.server)
      .post('/v1/datasets')
      .query({ name: 'iris', target: 'species' })
      .set(auth(apiKey))
      .set('content-type', 'text/csv')
      .send(toCsv(IRIS_COLUMNS, train));
    expect(upload.status).toBe(201);
    expect(upload.body).toMatchObject({
      name: 'iris',
      rows: 120,
      features: IRIS_COLUMNS.slice(0, 4),
      targets: ['species'],
      classes: ['setosa', 'versicolor', 'virginica'],
    });

    const detail = await request(service.app.server).get(`/v1/datasets/${upload.body.id}`).set(auth(apiKey));
    expect(detail.status).toBe(200);
    expect(detail.body.stats.species).toEqual({ kind: 'categorical', counts: { setosa: 40, versicolor: 40, virginica: 40 } });
    const petal = detail.body.stats.petal_length;
    expect(petal.kind).toBe('numeric');
    expect(petal.min).toBeCloseTo(Math.min(...train.map((r) => r[2] as number)), 5);
    expect(petal.max).toBeCloseTo(Math.max(...train.map((r) => r[2] as number)), 5);

    const epochs = 80;
    const created = await request(service.app.server)
      .post('/v1/jobs')
      .set(auth(apiKey))
      .send({
        datasetId: upload.body.id,
        model: irisNetwork,
        training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs, batchSize: 16, validationSplit: 0.2, seed: 7 },
        preprocessing: { standardize: true },
      });
    expect(created.status).toBe(202);
    expect(created.body).toEqual({ id: expect.any(String), status: 'queued' });
    const jobId = created.body.id as string;

    const job = await waitFor(
      'the job to succeed',
      async () => {
        const res = await request(service.app.server).get(`/v1/jobs/${jobId}`).set(auth(apiKey));
        if (res.body.status === 'failed') throw new Error(`job failed: ${JSON.stringify(res.body.error)}`);
        return res.body.status === 'succeeded' ? res.body : undefined;
      },
      60_000,
      200,
    );
    expect(job).toMatchObject({ epoch: epochs, epochs, error: null, modelId: expect.any(String) });
    // What its products ran on: the backend its worker logged at start, one run, from epoch 0.
    const logged = service.worker.output().split('\n').find((l) => l.includes('"float32 matrix products"'));
    expect(job.backends).toEqual([{ gemm: JSON.parse(logged!).gemm, threads: expect.any(Number), fromEpoch: 0 }]);
    expect(job.backends[0].threads).toBeGreaterThanOrEqual(1);
    expect(job.loss).toBeGreaterThan(0);
    expect(job.valLoss).toBeGreaterThan(0);
    expect(new Date(job.startedAt).getTime()).toBeLessThanOrEqual(new Date(job.finishedAt).getTime());

    const metrics = await request(service.app.server).get(`/v1/jobs/${jobId}/metrics`).set(auth(apiKey));
    expect(metrics.status).toBe(200);
    const rows = metrics.body.items as { epoch: number; loss: number }[];
    expect(rows.map((m) => m.epoch)).toEqual(Array.from({ length: epochs }, (_, i) => i + 1));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const losses = rows.map((m) => m.loss);
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)) / 2);
    expect(losses[epochs - 1]).toBeLessThan(losses[0]);
    expect(job.loss).toBeCloseTo(losses[epochs - 1], 10);

    const model = await request(service.app.server).get(`/v1/models/${job.modelId}`).set(auth(apiKey));
    expect(model.status).toBe(200);
    expect(model.body).toMatchObject({
      jobId,
      datasetId: upload.body.id,
      spec: { inputSize: 4, ...irisNetwork },
      features: IRIS_COLUMNS.slice(0, 4),
      classes: ['setosa', 'versicolor', 'virginica'],
      preprocessing: { standardize: true },
      metrics: { epochs },
      backends: job.backends,
    });
    // Fitted on the training rows of the job's split, per column: the mean of the stored float32 values.
    const columns = model.body.preprocessing.columns as { name: string; type: string; center: number; scale: number; indicator: boolean }[];
    expect(columns.map((c) => [c.name, c.type, c.indicator])).toEqual(IRIS_COLUMNS.slice(0, 4).map((c) => [c, 'numeric', false]));
    expect(columns[2].center).toBeGreaterThan(petal.min);
    expect(columns[2].center).toBeLessThan(petal.max);
    expect(model.body.preprocessing.inputs).toEqual(IRIS_COLUMNS.slice(0, 4));
    expect(model.body.evaluation).toMatchObject({ kind: 'classification', on: 'validation', rows: 24, labels: ['setosa', 'versicolor', 'virginica'] });
    expect(model.body.evaluation.accuracy).toBeCloseTo(job.valAccuracy, 10);

    const inputs = holdout.map((r) => Object.fromEntries(IRIS_COLUMNS.slice(0, 4).map((c, i) => [c, r[i]])));
    const prediction = await request(service.app.server).post(`/v1/models/${job.modelId}/predict`).set(auth(apiKey)).send({ inputs });
    expect(prediction.status).toBe(200);
    expect(prediction.body.outputs).toHaveLength(holdout.length);
    for (const out of prediction.body.outputs as number[][]) {
      expect(out).toHaveLength(3);
      expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }
    const labels = prediction.body.labels as string[];
    const correct = labels.filter((label, i) => label === holdout[i][4]).length;
    expect(correct / holdout.length).toBeGreaterThanOrEqual(0.9);

    // Arrays in feature order give the same answer as objects keyed by name.
    const byArray = await request(service.app.server)
      .post(`/v1/models/${job.modelId}/predict`)
      .set(auth(apiKey))
      .send({ inputs: holdout.map((r) => r.slice(0, 4)) });
    expect(byArray.body.labels).toEqual(labels);
    // ... and the two forms mix in one request, row by row.
    const mixed = await request(service.app.server)
      .post(`/v1/models/${job.modelId}/predict`)
      .set(auth(apiKey))
      .send({ inputs: holdout.map((r, i) => (i % 2 ? r.slice(0, 4) : inputs[i])) });
    expect(mixed.status).toBe(200);
    expect(mixed.body.labels).toEqual(labels);

    const list = await request(service.app.server).get('/v1/jobs').query({ status: 'succeeded' }).set(auth(apiKey));
    expect(list.body.items.map((j: { id: string }) => j.id)).toEqual([jobId]);
  });
});
