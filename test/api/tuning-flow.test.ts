// End to end over real HTTP, Postgres, Redis and a real worker process: dropout layers, a learning-rate schedule and a
// GRU are accepted by POST /v1/jobs, train, record the rate of every epoch in the metrics, and predict.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { IRIS_COLUMNS, auth, irisSplit, toCsv } from '../helpers/fixtures.js';
import { waitForJob } from '../helpers/jobs.js';
import { frequencySequences } from '../helpers/sequences.js';
import { openEventStream } from '../helpers/sse.js';

describe('dropout, learning-rate schedules and the GRU through the API and a real worker', () => {
  const service = useTestService({ worker: true });
  let key: string;
  let url: string;

  beforeAll(async () => {
    key = (await createTenant(service.app)).apiKey;
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(service.app.server.address() as { port: number }).port}`;
  });

  const post = (path: string, body: object) => request(service.app.server).post(path).set(auth(key)).send(body);
  const finished = async (id: string) => {
    const job = await waitForJob(service.app, key, id, (j) => j.status !== 'queued' && j.status !== 'running', `job ${id} to finish`, 90_000);
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    return job;
  };
  const uploadIris = async (rows: (number | string)[][]) => {
    const res = await request(service.app.server)
      .post('/v1/datasets')
      .query({ name: 'iris', target: 'species' })
      .set(auth(key))
      .set('content-type', 'text/csv')
      .send(toCsv(IRIS_COLUMNS, rows));
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  };
  const metricsOf = async (id: string) => {
    const res = await request(service.app.server).get(`/v1/jobs/${id}/metrics`).set(auth(key));
    expect(res.status).toBe(200);
    return res.body.items as { epoch: number; loss: number; valAccuracy: number | null; learningRate: number }[];
  };

  it('trains Iris with dropout and a cosine schedule, and a GRU on sequences with a step schedule; each epoch has its rate', async () => {
    const { train, holdout } = irisSplit();
    const epochs = 40;
    const dense = await post('/v1/jobs', {
      datasetId: await uploadIris(train),
      model: {
        layers: [
          { type: 'dense', units: 32, activation: 'relu' },
          { type: 'dropout', rate: 0.3 },
          { type: 'dense', units: 3, activation: 'softmax' },
        ],
        loss: 'categoricalCrossEntropy',
      },
      training: {
        optimizer: { type: 'adam', learningRate: 0.02 },
        epochs,
        batchSize: 16,
        validationSplit: 0.2,
        seed: 3,
        schedule: { type: 'cosine', decayEpochs: 30, warmupEpochs: 5, minFactor: 0.05 },
      },
      preprocessing: { standardize: true },
    });
    expect(dense.status, dense.text).toBe(202);

    const frequencies = frequencySequences(300, 16, 1);
    const sequences = await post('/v1/datasets', { name: 'frequencies', sequences: frequencies.sequences, targets: frequencies.labels });
    expect(sequences.status, sequences.text).toBe(201);
    const gru = await post('/v1/jobs', {
      datasetId: sequences.body.id,
      model: { layers: [{ type: 'gru', units: 8 }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' },
      training: {
        optimizer: { type: 'adam', learningRate: 0.02 },
        epochs: 30,
        batchSize: 16,
        validationSplit: 0.2,
        seed: 1,
        schedule: { type: 'step', every: 10, factor: 0.5 },
      },
      preprocessing: { standardize: true },
    });
    expect(gru.status, gru.text).toBe(202);

    // The settings show the schedule with its defaults filled in.
    const shown = await request(service.app.server).get(`/v1/jobs/${dense.body.id}`).set(auth(key));
    expect(shown.body.settings.training.schedule).toEqual({ type: 'cosine', decayEpochs: 30, warmupEpochs: 5, minFactor: 0.05 });

    const denseDone = await finished(dense.body.id);
    const rows = await metricsOf(dense.body.id);
    expect(rows).toHaveLength(epochs);
    const cosine = (e: number) => {
      if (e < 5) return (0.02 * (e + 1)) / 5;
      const progress = Math.min(e - 5, 30) / 30;
      return 0.02 * (0.05 + (0.95 * (1 + Math.cos(Math.PI * progress))) / 2);
    };
    rows.forEach((row, e) => expect(row.learningRate).toBeCloseTo(cosine(e), 12));
    expect(rows[39].learningRate).toBeCloseTo(0.001, 12);
    expect(rows[39].loss).toBeLessThan(rows[0].loss / 2);
    const predicted = await post(`/v1/models/${denseDone.modelId}/predict`, { inputs: holdout.map((r) => r.slice(0, 4)) });
    expect(predicted.status, predicted.text).toBe(200);
    const correct = (predicted.body.labels as string[]).filter((label, i) => label === holdout[i][4]).length;
    expect(correct / holdout.length).toBeGreaterThanOrEqual(0.9);

    const gruDone = await finished(gru.body.id);
    const gruRows = await metricsOf(gru.body.id);
    expect(gruRows.map((r) => r.learningRate)).toEqual([...Array(30).keys()].map((e) => 0.02 * 0.5 ** Math.floor(e / 10)));
    // The event stream's epochs carry the same rates.
    const stream = await openEventStream(`${url}/v1/jobs/${gru.body.id}/events`, auth(key));
    const epochEvents = (await stream.readUntil(() => false)).filter((b) => b.event === 'epoch');
    expect(epochEvents.map((b) => JSON.parse(b.data!).learningRate)).toEqual(gruRows.map((r) => r.learningRate));
    const unseen = frequencySequences(150, 16, 101);
    const classified = await post(`/v1/models/${gruDone.modelId}/predict`, { inputs: unseen.sequences });
    expect(classified.status, classified.text).toBe(200);
    const right = (classified.body.labels as string[]).filter((label, i) => label === unseen.labels[i]).length;
    expect(right / 150).toBeGreaterThanOrEqual(0.9);
  });

  it.each([
    [
      'a dropout layer first',
      { layers: [{ type: 'dropout', rate: 0.5 }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' },
      {},
      'model.layers[0].type',
    ],
    [
      'a dropout rate of 1',
      { layers: [{ type: 'dense', units: 4, activation: 'relu' }, { type: 'dropout', rate: 1 }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' },
      {},
      'model.layers[1].rate',
    ],
    [
      'a plateau factor of 1',
      { layers: [{ type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' },
      { schedule: { type: 'plateau', patience: 2, factor: 1 } },
      'training.schedule.factor',
    ],
  ])('refuses %s, naming %s', async (_, model, training, field) => {
    const res = await post('/v1/jobs', { datasetId: await uploadIris(irisSplit().train), model, training: { epochs: 1, ...training } });
    expect(res.status, res.text).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body.error.message).toContain(field);
  });
});
