// POST /v1/jobs refuses, before anything is queued or allocated, a run that would not fit a worker's memory
// (WORKER_MEMORY_LIMIT_MB) and a cross-entropy loss on a numeric target outside [0, 1]; over HTTP, real Postgres.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth, irisNetwork } from '../helpers/fixtures.js';
import { uploadIris } from '../helpers/jobs.js';
import { cars, flights, rowsToCsv } from '../helpers/tables.js';

const MiB = 1024 * 1024;

describe('submission limits', () => {
  const service = useTestService();
  const http = () => request(service.app.server);
  let apiKey: string;

  beforeAll(async () => {
    ({ apiKey } = await createTenant(service.app));
  });

  const upload = async (csv: string, query: Record<string, string>) => {
    const res = await http().post('/v1/datasets').query(query).set(auth(apiKey)).set('content-type', 'text/csv').send(csv);
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  };
  const postJob = (body: object) => http().post('/v1/jobs').set(auth(apiKey)).send(body);

  it("refuses the issue's 1 -> 4096 -> 1 at batchSize 65,536 with the estimate and the limit, and accepts the largest batch it names", async () => {
    // 200,000 real flights: distance -> delay, so a batch of 65,536 rows really is one.
    const rows = flights('200k').map((r) => ({ distance: r.distance, delay: r.delay }));
    const csv = rowsToCsv(rows);
    // Dataset uploads keep BODY_LIMIT_BYTES: this one is larger than the limits of predict and job bodies.
    expect(csv.length).toBeGreaterThan(MiB);
    const datasetId = await upload(csv, { name: 'flights', target: 'delay' });
    const model = {
      layers: [
        { type: 'dense', units: 4096, activation: 'relu' },
        { type: 'dense', units: 1, activation: 'linear' },
      ],
      loss: 'meanSquaredError',
    };
    const training = { optimizer: { type: 'adam' }, epochs: 1, batchSize: 65_536, validationSplit: 0.2 };
    const refused = await postJob({ datasetId, model, training });
    expect(refused.status, refused.text).toBe(422);
    expect(refused.body.error.code).toBe('ERR_TRAINING_TOO_LARGE');
    expect(refused.body.error.message).toMatch(/^training\.batchSize: at batchSize 65536 on the dataset's 200000 rows, training needs an estimated \d+ MB .* more than a worker's 2048 MB \(WORKER_MEMORY_LIMIT_MB\); use a batchSize of at most \d+$/);
    const { estimateBytes, limitBytes, largestBatchSize } = refused.body.error.details;
    expect(refused.body.error.details.field).toBe('training.batchSize');
    expect(limitBytes).toBe(2048 * MiB);
    // Three float32 buffers of 65,536 x 4,096 (the hidden layer's z and a, the head's dL/dx) are 3 GiB alone.
    expect(estimateBytes).toBeGreaterThan(3 * 1024 * MiB);
    expect(largestBatchSize).toBeGreaterThan(1000);
    expect(largestBatchSize).toBeLessThan(65_536);

    const fits = await postJob({ datasetId, model, training: { ...training, batchSize: largestBatchSize } });
    expect(fits.status, fits.text).toBe(202);
    const tooWide = await postJob({ datasetId, model, training: { ...training, batchSize: largestBatchSize + 1 } });
    expect(tooWide.status).toBe(422);
    const jobs = await http().get('/v1/jobs').set(auth(apiKey));
    expect(jobs.body.items.map((j: { id: string }) => j.id)).toEqual([fits.body.id]);
  });

  it('answers 413 naming JOB_BODY_LIMIT_BYTES for a job body over it, before reading it', async () => {
    const datasetId = await uploadIris(service.app, apiKey);
    // Class weights for 100,000 labels: a body of more than 1 MiB that only the route would find wrong.
    const classWeights = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`label-${i}`, 1]));
    const res = await postJob({ datasetId, model: irisNetwork, training: { epochs: 1, classWeights } });
    expect(res.status, res.text).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'ERR_BODY_TOO_LARGE', message: `request body is larger than the configured limit (${MiB} bytes, JOB_BODY_LIMIT_BYTES)` });
  });

  it('accepts an ordinary Iris job', async () => {
    const datasetId = await uploadIris(service.app, apiKey);
    const res = await postJob({ datasetId, model: irisNetwork, training: { epochs: 5, batchSize: 16 } });
    expect(res.status, res.text).toBe(202);
  });

  it('refuses cross-entropy on a numeric target outside [0, 1], naming model.loss and the range; accepts meanSquaredError and a 0/1 target', async () => {
    const rows = cars()
      .filter((r) => r.Miles_per_Gallon !== null && r.Horsepower !== null)
      .map((r) => ({ Horsepower: r.Horsepower, Weight_in_lbs: r.Weight_in_lbs, Miles_per_Gallon: r.Miles_per_Gallon }));
    const mpg = rows.map((r) => Number(r.Miles_per_Gallon));
    const datasetId = await upload(rowsToCsv(rows), { name: 'cars', target: 'Miles_per_Gallon' });
    const detail = await http().get(`/v1/datasets/${datasetId}`).set(auth(apiKey));
    const target = detail.body.columns.find((c: { name: string }) => c.name === 'Miles_per_Gallon');
    expect(target.stats).toMatchObject({ min: Math.min(...mpg), max: Math.max(...mpg) });

    const head = (activation: string) => ({ layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'dense', units: 1, activation }] });
    const training = { epochs: 2, batchSize: 16 };
    const binary = await postJob({ datasetId, model: { ...head('sigmoid'), loss: 'binaryCrossEntropy' }, training });
    expect(binary.status, binary.text).toBe(422);
    expect(binary.body.error.message).toBe(
      `model.loss: binaryCrossEntropy needs targets between 0 and 1 (0/1 labels or probabilities), but the target "Miles_per_Gallon" is numeric from ${Math.min(...mpg)} to ${Math.max(...mpg)}; use meanSquaredError for a numeric target, or upload the target as class labels`,
    );
    expect(binary.body.error.details).toMatchObject({ field: 'model.loss', target: 'Miles_per_Gallon', min: Math.min(...mpg), max: Math.max(...mpg) });
    const categorical = await postJob({ datasetId, model: { ...head('softmax'), loss: 'categoricalCrossEntropy' }, training });
    expect(categorical.status, categorical.text).toBe(422);
    expect(categorical.body.error.message).toMatch(/^model\.loss: categoricalCrossEntropy needs a class target .* "Miles_per_Gallon" is numeric from 9 to 46\.6/);
    expect((await postJob({ datasetId, model: { ...head('linear'), loss: 'meanSquaredError' }, training })).status).toBe(202);

    // The same cars with a 0/1 target (more than 25 miles per gallon): binaryCrossEntropy fits it.
    const frugal = rows.map((r) => ({ Horsepower: r.Horsepower, Weight_in_lbs: r.Weight_in_lbs, frugal: Number(r.Miles_per_Gallon) > 25 ? 1 : 0 }));
    const frugalId = await upload(rowsToCsv(frugal), { name: 'frugal cars', target: 'frugal' });
    const fits = await postJob({ datasetId: frugalId, model: { ...head('sigmoid'), loss: 'binaryCrossEntropy' }, training });
    expect(fits.status, fits.text).toBe(202);
  });
});
