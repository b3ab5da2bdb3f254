// End to end over real HTTP, Postgres, Redis and a real worker process: sequence datasets (JSON with class labels,
// the CSV form, per-step targets) train lstm and rnn models, and the models predict sequences they never saw.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth } from '../helpers/fixtures.js';
import { getJob, waitForJob } from '../helpers/jobs.js';
import { FREQUENCY_CLASSES, echoSequences, frequencySequences, sineCsv, sineWindows } from '../helpers/sequences.js';

describe('training recurrent models on sequence datasets through a real worker', () => {
  const service = useTestService({ worker: true });
  let key: string;

  beforeAll(async () => {
    key = (await createTenant(service.app)).apiKey;
  });

  const upload = async (body: object) => {
    const res = await request(service.app.server).post('/v1/datasets').set(auth(key)).send(body);
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; kind: string; sequenceLength: number };
  };
  const train = async (body: object) => {
    const res = await request(service.app.server).post('/v1/jobs').set(auth(key)).send(body);
    expect(res.status, res.text).toBe(202);
    return res.body.id as string;
  };
  const finished = async (id: string) => {
    const job = await waitForJob(service.app, key, id, (j) => j.status !== 'queued' && j.status !== 'running', `job ${id} to finish`, 90_000);
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    return job;
  };
  const predict = async (modelId: string, inputs: unknown) => {
    const res = await request(service.app.server).post(`/v1/models/${modelId}/predict`).set(auth(key)).send({ inputs });
    expect(res.status, res.text).toBe(200);
    return res.body as { outputs: unknown[]; labels?: string[] };
  };

  it('lstm on JSON sequences with class labels, rnn on the CSV form, rnn sequence to sequence; each predicts unseen sequences', async () => {
    // 1. Which frequency is this noisy sine? Needs the whole sequence; labels become classes.
    const frequencies = frequencySequences(300, 16, 1);
    const classes = await upload({ name: 'frequencies', sequences: frequencies.sequences, targets: frequencies.labels });
    expect(classes).toMatchObject({ kind: 'sequence', sequenceLength: 16 });
    const classesJob = await train({
      datasetId: classes.id,
      model: { layers: [{ type: 'lstm', units: 8 }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' },
      training: { optimizer: { type: 'adam', learningRate: 0.02 }, epochs: 30, batchSize: 16, validationSplit: 0.2, seed: 1 },
      preprocessing: { standardize: true },
    });

    // 2. The next value of a noisy sine from the previous 20, uploaded as one CSV row per step.
    const sine = sineWindows(800, 20, 2);
    const csv = await request(service.app.server)
      .post('/v1/datasets')
      .query({ name: 'sine', target: 'next', sequence: 'series' })
      .set(auth(key))
      .set('content-type', 'text/csv')
      .send(sineCsv(sine));
    expect(csv.status, csv.text).toBe(201);
    expect(csv.body).toMatchObject({ kind: 'sequence', rows: 800, sequenceLength: 20, features: ['value'], targets: ['next'] });
    const sineJob = await train({
      datasetId: csv.body.id,
      model: { layers: [{ type: 'rnn', units: 16 }, { type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' },
      training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 25, batchSize: 32, validationSplit: 0, seed: 7 },
    });

    // 3. Per-step targets: every step echoes the bit two steps earlier.
    const echo = echoSequences(400, 10, 3);
    const echoData = await upload({ name: 'echo', sequences: echo.sequences, targets: echo.targets });
    const echoJob = await train({
      datasetId: echoData.id,
      model: {
        layers: [{ type: 'rnn', units: 8, returnSequences: true }, { type: 'dense', units: 1, activation: 'sigmoid' }],
        loss: 'binaryCrossEntropy',
      },
      training: { optimizer: { type: 'adam', learningRate: 0.02 }, epochs: 25, batchSize: 32, validationSplit: 0, seed: 5, bpttSteps: 4 },
    });

    const classesDone = await finished(classesJob);
    expect(classesDone.epoch).toBe(30);
    const metrics = await request(service.app.server).get(`/v1/jobs/${classesJob}/metrics`).set(auth(key));
    const rows = metrics.body.items as { loss: number; valLoss: number }[];
    expect(rows).toHaveLength(30);
    expect(rows[29].loss).toBeLessThan(rows[0].loss / 4);
    expect(rows[29].valLoss).toBeLessThan(rows[0].valLoss / 4);
    const model = await request(service.app.server).get(`/v1/models/${classesDone.modelId}`).set(auth(key));
    expect(model.body).toMatchObject({ spec: { inputSize: 1, sequenceLength: 16 }, features: ['x0'], classes: FREQUENCY_CLASSES, preprocessing: { standardize: true } });
    const holdout = frequencySequences(150, 16, 101);
    const classified = await predict(classesDone.modelId!, holdout.sequences);
    expect(classified.outputs).toHaveLength(150);
    const correct = classified.labels!.filter((label, i) => label === holdout.labels[i]).length;
    expect(correct / 150).toBeGreaterThanOrEqual(0.9);

    const sineDone = await finished(sineJob);
    const unseen = sineWindows(200, 20, 102);
    const regressed = await predict(sineDone.modelId!, unseen.windows.map((w) => w.map((v) => [v])));
    const mse = (predicted: number[]) => predicted.reduce((sum, p, i) => sum + (p - unseen.next[i]) ** 2, 0) / predicted.length;
    const modelMse = mse((regressed.outputs as number[][]).map((o) => o[0]));
    // Repeating the last value costs about 0.09 (the sine moves, and the noise); the noise alone costs 0.01.
    const lastValueMse = mse(unseen.windows.map((w) => w[w.length - 1]));
    expect(lastValueMse).toBeGreaterThan(0.06);
    expect(modelMse).toBeLessThan(0.03);

    const echoDone = await finished(echoJob);
    const fresh = echoSequences(100, 10, 103);
    const echoed = await predict(echoDone.modelId!, fresh.sequences);
    expect(echoed.labels).toBeUndefined();
    const steps = echoed.outputs as number[][][];
    expect(steps).toHaveLength(100);
    let right = 0;
    steps.forEach((sequence, r) => {
      expect(sequence).toHaveLength(10);
      sequence.forEach(([p], t) => (right += p > 0.5 === fresh.targets[r][t][0] > 0.5 ? 1 : 0));
    });
    expect(right / 1000).toBeGreaterThanOrEqual(0.97);
    expect((await getJob(service.app, key, echoJob)).epoch).toBe(25);
  });

  it('imputes missing steps: null cells train with a "was missing" input and sequences with gaps predict', async () => {
    // Every seventh step of the frequency sequences is lost.
    const gaps = (sequences: number[][][]) => sequences.map((steps, r) => steps.map(([v], t) => [(r * 16 + t) % 7 === 3 ? null : v]));
    const data = frequencySequences(300, 16, 4);
    const uploaded = await upload({ name: 'gaps', sequences: gaps(data.sequences), targets: data.labels });
    const detail = await request(service.app.server).get(`/v1/datasets/${uploaded.id}`).set(auth(key));
    const missing = gaps(data.sequences).flat().filter(([v]) => v === null).length;
    expect(detail.body.columns[0]).toMatchObject({ name: 'x0', type: 'numeric', missing });
    const job = await train({
      datasetId: uploaded.id,
      model: { layers: [{ type: 'lstm', units: 8 }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' },
      training: { optimizer: { type: 'adam', learningRate: 0.02 }, epochs: 30, batchSize: 16, validationSplit: 0.2, seed: 1 },
    });
    const done = await finished(job);
    const model = await request(service.app.server).get(`/v1/models/${done.modelId}`).set(auth(key));
    expect(model.body.spec).toMatchObject({ inputSize: 2, sequenceLength: 16 });
    expect(model.body.preprocessing.inputs).toEqual(['x0', 'x0 (missing)']);
    const holdout = frequencySequences(150, 16, 105);
    const classified = await predict(done.modelId!, gaps(holdout.sequences));
    const correct = classified.labels!.filter((label, i) => label === holdout.labels[i]).length;
    expect(correct / 150).toBeGreaterThanOrEqual(0.85);
  });
});
