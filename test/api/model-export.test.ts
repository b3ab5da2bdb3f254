// Models out and in, end to end: a model trained by a real worker is exported as JSON and in the TensorFlow.js
// layers format; tf.loadLayersModel() loads it straight from the API (Authorization header on both files) and
// predicts what POST predict answers; the JSON imports back as a model of the caller's that predicts the same.
import * as tf from '@tensorflow/tfjs';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyPreprocessing } from '../../src/data/standardize.js';
import { createNetwork, deserializeModel, serializeModel, type ModelSpec } from '../../src/engine/index.js';
import { fromModelJson, type ModelJsonExport } from '../../src/export/model-json.js';
import { createTenant, useTestService } from '../helpers/app.js';
import { IRIS_COLUMNS, auth, irisNetwork, irisSplit } from '../helpers/fixtures.js';
import { uploadIris, waitForJob } from '../helpers/jobs.js';

const CLASSES = ['setosa', 'versicolor', 'virginica'];
const maxDifference = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, r) => row.map((v, c) => Math.abs(v - b[r][c]))));

describe('model export and import', () => {
  const service = useTestService({ worker: true });
  let url: string;
  let key: string;
  let modelId: string;
  let exported: ModelJsonExport;
  const holdout = irisSplit().holdout.map((r) => r.slice(0, 4) as number[]);

  const predict = async (id: string) => {
    const res = await request(service.app.server).post(`/v1/models/${id}/predict`).set(auth(key)).send({ inputs: holdout });
    expect(res.status, res.text).toBe(200);
    return res.body as { outputs: number[][]; labels: string[] };
  };

  beforeAll(async () => {
    await tf.setBackend('cpu');
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(service.app.server.address() as { port: number }).port}`;
    key = (await createTenant(service.app)).apiKey;
    const datasetId = await uploadIris(service.app, key);
    const job = await request(service.app.server)
      .post('/v1/jobs')
      .set(auth(key))
      .send({ datasetId, model: irisNetwork, training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 30, batchSize: 16, seed: 7 }, preprocessing: { standardize: true } });
    modelId = (await waitForJob(service.app, key, job.body.id, (j) => j.status === 'succeeded', 'the job to succeed')).modelId!;
  });

  it('exports spec, weights, preprocessing, features and class labels as JSON that rebuilds the same network', async () => {
    const res = await request(service.app.server).get(`/v1/models/${modelId}/export`).query({ format: 'json' }).set(auth(key));
    expect(res.status).toBe(200);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="model-${modelId}.json"`);
    exported = res.body;
    expect(exported).toMatchObject({
      format: 'backprop-service/model@1',
      dtype: 'float32',
      spec: { inputSize: 4, ...irisNetwork },
      features: IRIS_COLUMNS.slice(0, 4),
      targets: ['species'],
      classes: CLASSES,
      preprocessing: { standardize: true, mean: expect.any(Array), std: expect.any(Array) },
    });
    expect(exported.weights).toHaveLength(2);

    const network = deserializeModel(fromModelJson(exported));
    const x = applyPreprocessing(exported.preprocessing, Float32Array.from(holdout.flat()), 4);
    const y = network.predict(x, holdout.length);
    const ours = holdout.map((_, r) => Array.from(y.subarray(r * 3, r * 3 + 3)));
    expect(ours).toEqual((await predict(modelId)).outputs);
  });

  it('loads in TensorFlow.js from the API with tf.loadLayersModel and predicts what POST predict answers, from raw features', async () => {
    const weights = await fetch(`${url}/v1/models/${modelId}/tfjs/weights.bin`, { headers: auth(key) });
    expect(weights.headers.get('content-type')).toBe('application/octet-stream');
    expect((await weights.arrayBuffer()).byteLength).toBe((4 * 16 + 16 + 16 * 3 + 3) * 4);

    const model = await tf.loadLayersModel(`${url}/v1/models/${modelId}/tfjs/model.json`, { requestInit: { headers: auth(key) } });
    const input = tf.tensor2d(holdout);
    const output = model.predict(input) as tf.Tensor;
    const theirs = (await output.array()) as number[][];
    tf.dispose([input, output]);
    const ours = await predict(modelId);
    expect(maxDifference(theirs, ours.outputs)).toBeLessThan(1e-5);
    expect(theirs.map((row) => CLASSES[row.indexOf(Math.max(...row))])).toEqual(ours.labels);

    const metadata = (await (await fetch(`${url}/v1/models/${modelId}/tfjs/model.json`, { headers: auth(key) })).json()) as { userDefinedMetadata: unknown };
    expect(metadata.userDefinedMetadata).toMatchObject({ classes: CLASSES, features: IRIS_COLUMNS.slice(0, 4), targets: ['species'] });
    model.dispose();
  });

  it('imports the JSON document as a new model of the caller that predicts the same', async () => {
    const res = await request(service.app.server).post('/v1/models').set(auth(key)).send(exported);
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ jobId: null, datasetId: null, spec: exported.spec, classes: CLASSES, features: exported.features, metrics: { epochs: 0, loss: null } });
    expect(res.body.id).not.toBe(modelId);
    const imported = await predict(res.body.id);
    const original = await predict(modelId);
    expect(imported).toEqual(original);
    const again = await request(service.app.server).get(`/v1/models/${res.body.id}/export`).set(auth(key));
    expect(again.body).toEqual(exported);
  });

  it('refuses documents whose parts disagree, naming the field: 400 for the shape, 422 for the content', async () => {
    const cases: [string, unknown, number, string][] = [
      ['unknown field', { ...exported, extra: 1 }, 400, 'body'],
      ['wrong format', { ...exported, format: 'keras' }, 400, 'body.format'],
      ['missing weights', { ...exported, weights: undefined }, 400, 'body.weights'],
      ['features vs inputSize', { ...exported, features: ['a', 'b', 'c'] }, 422, 'body.features'],
      ['classes vs output units', { ...exported, classes: ['a', 'b'] }, 422, 'body.classes'],
      ['standardization without std', { ...exported, preprocessing: { standardize: true, mean: [0, 0, 0, 0] } }, 422, 'body.preprocessing.std'],
      ['truncated kernel', { ...exported, weights: [{ ...exported.weights[0], kernel: exported.weights[0].kernel.slice(0, 8) }, exported.weights[1]] }, 422, 'body.weights[0].kernel'],
      ['one layer of weights short', { ...exported, weights: [exported.weights[0]] }, 422, 'body.weights'],
      ['engine refuses the spec', { ...exported, spec: { ...exported.spec, layers: [{ type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'binaryCrossEntropy' } }, 422, 'body.spec'],
      ['too many parameters', { ...exported, spec: { ...exported.spec, layers: [{ type: 'dense', units: 4096, activation: 'relu' }, { type: 'dense', units: 4096, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }] }, weights: [...exported.weights, exported.weights[1]] }, 422, 'body.spec'],
    ];
    for (const [what, body, status, field] of cases) {
      const res = await request(service.app.server).post('/v1/models').set(auth(key)).send(body as object);
      expect(res.status, `${what}: ${res.text}`).toBe(status);
      expect(res.body.error.message, what).toContain(field);
    }
  });

  it("keeps other tenants' models out of reach, and says when a model has no TensorFlow.js form", async () => {
    const other = await createTenant(service.app, 'other');
    for (const path of ['export', 'tfjs/model.json', 'tfjs/weights.bin']) {
      const res = await request(service.app.server).get(`/v1/models/${modelId}/${path}`).set(auth(other.apiKey));
      expect(res.status, path).toBe(404);
      expect(res.body.error.code).toBe('ERR_NOT_FOUND');
    }
    // TensorFlow.js has no leakyRelu activation inside recurrent layers.
    const spec: ModelSpec = { inputSize: 1, sequenceLength: 3, layers: [{ type: 'rnn', units: 2, activation: 'leakyRelu' }, { type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' };
    const { weights } = serializeModel(createNetwork(spec, 1));
    const imported = await request(service.app.server)
      .post('/v1/models')
      .set(auth(other.apiKey))
      .send({ format: 'backprop-service/model@1', dtype: 'float32', spec, weights, features: ['x'], targets: ['y'], preprocessing: { standardize: false } });
    expect(imported.status, imported.text).toBe(201);
    const tfjs = await request(service.app.server).get(`/v1/models/${imported.body.id}/tfjs/model.json`).set(auth(other.apiKey));
    expect(tfjs.status).toBe(422);
    expect(tfjs.body.error.message).toMatch(/leakyRelu/);
    expect((await request(service.app.server).get(`/v1/models/${imported.body.id}`).set(auth(key))).status).toBe(404);
  });
});
