// Warm start beyond the shape of the layers: the initial model's classes (set and order) and its fitted
// preprocessing must fit the job, or POST /v1/jobs answers 422 naming initialModelId; over HTTP, real Postgres,
// Redis and a worker process that trains the initial model.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth, IRIS_COLUMNS, irisNetwork, irisSplit, toCsv } from '../helpers/fixtures.js';
import { postJob, uploadIris, waitForJob } from '../helpers/jobs.js';

describe('warm start checks (initialModelId)', () => {
  const service = useTestService({ worker: true });
  const http = () => request(service.app.server);
  const training = { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 3, batchSize: 16, seed: 5 };
  let apiKey: string;
  let datasetId: string;
  let modelId: string;

  beforeAll(async () => {
    ({ apiKey } = await createTenant(service.app));
    datasetId = await uploadIris(service.app, apiKey);
    const id = await postJob(service.app, apiKey, { datasetId, model: irisNetwork, training });
    const job = await waitForJob(service.app, apiKey, id, (j) => j.status === 'succeeded' || j.status === 'failed', 'the initial model');
    expect(job.error).toBeNull();
    modelId = job.modelId!;
  });

  const warmStart = (body: object) => http().post('/v1/jobs').set(auth(apiKey)).send({ datasetId, model: irisNetwork, training, initialModelId: modelId, ...body });

  it('refuses preprocessing other than the model\'s fitted one, naming initialModelId and the option', async () => {
    const res = await warmStart({ preprocessing: { standardize: false } });
    expect(res.status, res.text).toBe(422);
    expect(res.body.error.message).toBe(
      "initialModelId: the model's inputs were prepared with other preprocessing (preprocessing.standardize: the model was fitted with true, " +
        "the request asks false); a warm start keeps the model's: leave preprocessing out, or ask for the model's",
    );
    expect(res.body.error.details).toMatchObject({ field: 'initialModelId', expected: { standardize: true, impute: 'mean', maxCategories: 50 } });
    expect(res.body.error.details.issues.map((i: { field: string }) => i.field)).toEqual(['initialModelId', 'preprocessing.standardize']);

    const several = await warmStart({ preprocessing: { standardize: false, maxCategories: 10 } });
    expect(several.status).toBe(422);
    expect(several.body.error.details.issues.map((i: { field: string }) => i.field)).toEqual(['initialModelId', 'preprocessing.standardize', 'preprocessing.maxCategories']);
  });

  it("accepts the model's own preprocessing, given or left out, and keeps the model's fitted form", async () => {
    const model = (await http().get(`/v1/models/${modelId}`).set(auth(apiKey))).body;
    const given = await warmStart({ preprocessing: { standardize: true } });
    expect(given.status, given.text).toBe(202);
    const omitted = await warmStart({});
    expect(omitted.status, omitted.text).toBe(202);
    for (const id of [given.body.id, omitted.body.id]) {
      const job = await waitForJob(service.app, apiKey, id, (j) => j.status === 'succeeded' || j.status === 'failed', `warm job ${id}`);
      expect(job.error).toBeNull();
      const warm = (await http().get(`/v1/models/${job.modelId}`).set(auth(apiKey))).body;
      expect(warm.preprocessing).toEqual(model.preprocessing);
    }
  });

  it('refuses a dataset whose target has other classes, naming both', async () => {
    // The same flowers labelled as in the UCI file (Iris-setosa, ...): same features, three classes, other labels.
    const rows = irisSplit().train.map((r) => [...r.slice(0, 4), `Iris-${r[4]}`]);
    const upload = await http().post('/v1/datasets').query({ name: 'iris uci', target: 'species' }).set(auth(apiKey)).set('content-type', 'text/csv').send(toCsv(IRIS_COLUMNS, rows));
    expect(upload.status, upload.text).toBe(201);
    const res = await warmStart({ datasetId: upload.body.id });
    expect(res.status, res.text).toBe(422);
    expect(res.body.error.message).toBe(
      'initialModelId: the model predicts the classes setosa, versicolor, virginica of "species", but the dataset\'s target is the classes ' +
        'Iris-setosa, Iris-versicolor, Iris-virginica of "species"; a warm start needs the same classes in the same order',
    );
    expect(res.body.error.details).toMatchObject({ field: 'initialModelId', expected: ['setosa', 'versicolor', 'virginica'], got: ['Iris-setosa', 'Iris-versicolor', 'Iris-virginica'] });
  });
});
