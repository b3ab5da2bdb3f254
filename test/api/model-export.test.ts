// Models out and in, end to end: a model trained by a real worker is exported as JSON and in the TensorFlow.js
// layers format; tf.loadLayersModel() loads it straight from the API (Authorization header on both files) and, fed
// rows encoded from its userDefinedMetadata alone, predicts what POST predict answers; the JSON, fitted encoding
// included, imports back as a model of the caller's that predicts the same. Iris, and penguins (vega-datasets) for
// categorical columns, missing cells and a regression target trained standardized.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Cell } from '../../src/data/cells.js';
import { RowEncoder } from '../../src/data/encode-inputs.js';
import { storedEncoding } from '../../src/data/encoding.js';
import { createNetwork, deserializeModel, serializeModel, type ModelSpec } from '../../src/engine/index.js';
import { fromModelJson, type ModelJsonExport } from '../../src/export/model-json.js';
import type { EncodingMetadata } from '../../src/export/tfjs-layers.js';
import { createTenant, useTestService } from '../helpers/app.js';
import { IRIS_COLUMNS, auth, irisNetwork, irisSplit } from '../helpers/fixtures.js';
import { postJob, uploadDataset, uploadIris, waitForJob } from '../helpers/jobs.js';

const CLASSES = ['setosa', 'versicolor', 'virginica'];
const maxDifference = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, r) => row.map((v, c) => Math.abs(v - b[r][c]))));

type Row = Record<string, Cell>;
type Predictions = { outputs: number[][]; labels?: string[]; warnings?: { row: number; column: string; value: string }[] };

/**
 * A keyed row -> the vector the TensorFlow.js export takes, reading nothing but userDefinedMetadata.encoding: what a
 * user of the exported model writes (docs/tables-export.md has the complete version).
 */
function encodeFromMetadata(encoding: EncodingMetadata, row: Row): number[] {
  const x = new Array<number>(encoding.width).fill(0);
  const missing = (v: Cell | undefined) => v === null || v === undefined || (typeof v === 'string' && encoding.missingText.includes(v.trim().toLowerCase()));
  for (const column of encoding.columns) {
    const value = row[column.name];
    if (column.type === 'categorical') {
      const slot = missing(value) ? column.missingSlot : column.categories.indexOf(String(value).trim());
      x[column.offset + (slot < 0 ? column.otherSlot : slot)] = 1;
    } else {
      x[column.offset] = ((missing(value) ? column.fill : Math.fround(Number(value))) - column.center) / column.scale;
      if (column.indicator) x[column.offset + 1] = missing(value) ? 1 : 0;
    }
  }
  return x;
}

/** Palmer penguins as vega-datasets ships them: Island, Sex (and ".") categorical, null cells. */
const PENGUINS = JSON.parse(readFileSync(new URL('../../node_modules/vega-datasets/data/penguins.json', import.meta.url), 'utf8')) as Row[];
const PENGUIN_COLUMNS = Object.keys(PENGUINS[0]);
/** Every fifth penguin is held out of the uploads; predict rows add the ones with missing cells and unseen values. */
const penguinsTrain = PENGUINS.filter((_, i) => i % 5 !== 0);
const penguinRows: Row[] = [
  ...PENGUINS.filter((_, i) => i % 5 === 0),
  ...PENGUINS.filter((row) => Object.values(row).includes(null)),
  { Island: 'Atlantis', 'Beak Length (mm)': 45, 'Beak Depth (mm)': null, 'Flipper Length (mm)': 200, 'Body Mass (g)': 4000, Sex: '.' },
  { Species: 'Gentoo', 'Beak Length (mm)': 47.3, 'Flipper Length (mm)': 215, Sex: 'NA' },
];

const uploadPenguins = (app: Parameters<typeof uploadDataset>[0], key: string, target: string) =>
  uploadDataset(app, key, { name: `penguins-${target}`, columns: PENGUIN_COLUMNS, rows: penguinsTrain.map((r) => PENGUIN_COLUMNS.map((c) => r[c])), target });

const TRAINING = { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 30, batchSize: 16, seed: 7 };

describe('model export and import', () => {
  const service = useTestService({ worker: true });
  let url: string;
  let key: string;
  let modelId: string;
  let exported: ModelJsonExport;
  /** Penguin models: species from the rest (classification), body mass from the rest (regression). */
  let speciesId: string;
  let massId: string;
  let species: ModelJsonExport;
  const holdout = irisSplit().holdout.map((r) => r.slice(0, 4) as number[]);

  const predict = async (id: string, inputs: (number[] | Row)[] = holdout): Promise<Predictions> => {
    const res = await request(service.app.server).post(`/v1/models/${id}/predict`).set(auth(key)).send({ inputs });
    expect(res.status, res.text).toBe(200);
    return res.body;
  };
  const exportJson = async (id: string): Promise<ModelJsonExport> => {
    const res = await request(service.app.server).get(`/v1/models/${id}/export`).set(auth(key));
    expect(res.status, res.text).toBe(200);
    return res.body;
  };
  const importJson = async (document: object): Promise<string> => {
    const res = await request(service.app.server).post('/v1/models').set(auth(key)).send(document);
    expect(res.status, res.text).toBe(201);
    return res.body.id;
  };

  beforeAll(async () => {
    await tf.setBackend('cpu');
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(service.app.server.address() as { port: number }).port}`;
    key = (await createTenant(service.app)).apiKey;
    const datasetId = await uploadIris(service.app, key);
    const [irisJob, speciesJob, massJob] = [
      await postJob(service.app, key, { datasetId, model: irisNetwork, training: TRAINING, preprocessing: { standardize: true } }),
      await postJob(service.app, key, { datasetId: await uploadPenguins(service.app, key, 'Species'), model: irisNetwork, training: TRAINING }),
      await postJob(service.app, key, {
        datasetId: await uploadPenguins(service.app, key, 'Body Mass (g)'),
        model: { layers: [{ type: 'dense', units: 16, activation: 'tanh' }, { type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' },
        training: TRAINING,
      }),
    ];
    const succeeded = (id: string) => waitForJob(service.app, key, id, (j) => j.status === 'succeeded', `job ${id} to succeed`).then((j) => j.modelId!);
    [modelId, speciesId, massId] = [await succeeded(irisJob), await succeeded(speciesJob), await succeeded(massJob)];
  });

  it('exports spec, weights, the fitted preprocessing, features, class labels and evaluation as JSON that rebuilds the same model', async () => {
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
      preprocessing: { standardize: true, impute: 'mean', columns: expect.any(Array), inputs: IRIS_COLUMNS.slice(0, 4), ignored: [] },
      evaluation: { kind: 'classification', on: 'validation', accuracy: expect.any(Number) },
    });
    expect(exported.preprocessing.columns![0]).toEqual({ name: 'sepal_length', type: 'numeric', fill: expect.any(Number), indicator: false, center: expect.any(Number), scale: expect.any(Number) });
    expect(exported.preprocessing).not.toHaveProperty('target');
    expect(exported.weights).toHaveLength(2);

    // Everything predict uses is in the document: the network, and the encoding that turns rows into its inputs.
    const network = deserializeModel(fromModelJson(exported));
    const encoder = new RowEncoder(storedEncoding(exported.preprocessing, exported.features)!, []);
    const x = new Float32Array(holdout.length * 4);
    holdout.forEach((row, r) => encoder.encodeArray(row, x, r * 4, () => `holdout[${r}]`));
    const y = network.predict(x, holdout.length);
    const ours = holdout.map((_, r) => Array.from(y.subarray(r * 3, r * 3 + 3)));
    expect(ours).toEqual((await predict(modelId)).outputs);
  });

  it('loads in TensorFlow.js from the API with tf.loadLayersModel and, fed rows encoded from its metadata, predicts what POST predict answers', async () => {
    const weights = await fetch(`${url}/v1/models/${modelId}/tfjs/weights.bin`, { headers: auth(key) });
    expect(weights.headers.get('content-type')).toBe('application/octet-stream');
    expect((await weights.arrayBuffer()).byteLength).toBe((4 * 16 + 16 + 16 * 3 + 3) * 4);

    const model = await tf.loadLayersModel(`${url}/v1/models/${modelId}/tfjs/model.json`, { requestInit: { headers: auth(key) } });
    const metadata = model.getUserDefinedMetadata() as { encoding: EncodingMetadata };
    expect(metadata).toMatchObject({ classes: CLASSES, features: IRIS_COLUMNS.slice(0, 4), targets: ['species'], encoding: { width: 4, inputs: IRIS_COLUMNS.slice(0, 4) } });
    const rows = holdout.map((values) => Object.fromEntries(values.map((v, c) => [IRIS_COLUMNS[c], v])));
    const input = tf.tensor2d(rows.map((row) => encodeFromMetadata(metadata.encoding, row)));
    const output = model.predict(input) as tf.Tensor;
    const theirs = (await output.array()) as number[][];
    tf.dispose([input, output]);
    const ours = await predict(modelId, rows);
    expect(maxDifference(theirs, ours.outputs)).toBeLessThan(1e-5);
    expect(theirs.map((row) => CLASSES[row.indexOf(Math.max(...row))])).toEqual(ours.labels);
    model.dispose();
  });

  it('imports the JSON document as a new model of the caller that predicts the same', async () => {
    const res = await request(service.app.server).post('/v1/models').set(auth(key)).send(exported);
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ jobId: null, datasetId: null, spec: exported.spec, classes: CLASSES, features: exported.features, metrics: { epochs: 0, loss: null } });
    expect(res.body.id).not.toBe(modelId);
    expect(res.body.evaluation).toBeNull();
    const imported = await predict(res.body.id);
    const original = await predict(modelId);
    expect(imported).toEqual(original);
    // The same document back, but for the evaluation, which belongs to the original's training run.
    expect(await exportJson(res.body.id)).toEqual({ ...exported, evaluation: null });
  });

  it('exports the encoding fitted on penguins (categorical columns, missing cells) and imports a model that predicts exactly the same on keyed rows', async () => {
    species = await exportJson(speciesId);
    const { columns, inputs, ignored, target } = species.preprocessing;
    expect(species.features).toEqual(PENGUIN_COLUMNS.filter((c) => c !== 'Species'));
    expect(columns!.map((c) => c.name)).toEqual(species.features);
    expect(columns!.find((c) => c.name === 'Island')).toEqual({ name: 'Island', type: 'categorical', categories: expect.arrayContaining(['Biscoe', 'Dream', 'Torgersen']) });
    expect(columns!.find((c) => c.name === 'Sex')).toEqual({ name: 'Sex', type: 'categorical', categories: expect.arrayContaining(['MALE', 'FEMALE']) });
    // Two penguins have no measurements at all; both are among the training rows of this split (seed 7).
    const measured = columns!.flatMap((c) => (c.type === 'numeric' ? [[c.name, c.indicator]] : []));
    expect(measured).toEqual(['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'].map((n) => [n, true]));
    expect(inputs).toHaveLength(species.spec.inputSize);
    expect(inputs).toEqual(expect.arrayContaining(['Island=Dream', 'Island=(other)', 'Island=(missing)', 'Sex=(missing)']));
    expect([ignored, target]).toEqual([[], undefined]);

    const copy = await importJson(species);
    const original = await predict(speciesId, penguinRows);
    expect(original.warnings).toContainEqual(expect.objectContaining({ row: penguinRows.length - 2, column: 'Island', value: 'Atlantis' }));
    expect(await predict(copy, penguinRows)).toEqual(original);
  });

  it('regression on penguins: the export carries the target scale; the import and the TensorFlow.js model answer in grams like predict', async () => {
    const mass = await exportJson(massId);
    expect(mass.preprocessing.target).toEqual({ center: [expect.any(Number)], scale: [expect.any(Number)] });
    expect(mass.preprocessing.target!.center[0]).toBeGreaterThan(3500);
    const ours = await predict(massId, penguinRows);
    expect(await predict(await importJson(mass), penguinRows)).toEqual(ours);

    const model = await tf.loadLayersModel(`${url}/v1/models/${massId}/tfjs/model.json`, { requestInit: { headers: auth(key) } });
    const { encoding, targets } = model.getUserDefinedMetadata() as { encoding: EncodingMetadata; targets: string[] };
    expect(targets).toEqual(['Body Mass (g)']);
    expect(encoding.target).toEqual(mass.preprocessing.target);
    expect(encoding.inputs).toEqual(mass.preprocessing.inputs);
    const input = tf.tensor2d(penguinRows.map((row) => encodeFromMetadata(encoding, row)));
    const output = model.predict(input) as tf.Tensor;
    const { center, scale } = encoding.target!;
    const grams = Array.from(await output.data(), (y) => y * scale[0] + center[0]);
    tf.dispose([input, output]);
    model.dispose();
    expect(Math.max(...grams.map((g, r) => Math.abs(g - ours.outputs[r][0])))).toBeLessThan(0.01);
  });

  it('still imports documents from before the encoding: standardize with mean and std predicts like the fitted columns they amount to', async () => {
    const columns = exported.preprocessing.columns as { center: number; scale: number }[];
    const older = { ...exported, preprocessing: { standardize: true, mean: columns.map((c) => c.center), std: columns.map((c) => c.scale) } };
    expect(await predict(await importJson(older))).toEqual(await predict(modelId));
  });

  it('refuses documents whose parts disagree, naming the field: 400 for the shape, 422 for the content', async () => {
    /** The penguin species document with one part changed: the fitted encoding checked field by field. */
    const encodingCases = async (): Promise<[string, unknown, number, string][]> => {
      const p = species.preprocessing;
      const columns = p.columns!;
      const island = columns.findIndex((c) => c.name === 'Island');
      const numeric = columns.findIndex((c) => c.type === 'numeric');
      const categories = (columns[island] as { categories: string[] }).categories;
      const last = categories.length - 1;
      const withPreprocessing = (patch: object) => ({ ...species, preprocessing: { ...p, ...patch } });
      const withColumn = (at: number, patch: object) => withPreprocessing({ columns: columns.map((c, i) => (i === at ? { ...c, ...patch } : c)) });
      const withCategory = (category: string) => withColumn(island, { categories: [...categories.slice(0, last), category] });
      const mass = await exportJson(massId);
      const field = `body.preprocessing.columns[${island}]`;
      return [
        ['a category dropped: the columns encode to fewer inputs than spec.inputSize', withColumn(island, { categories: categories.slice(1) }), 422, 'body.preprocessing.columns: encode to'],
        ['an empty category', withCategory(''), 400, `${field}.categories[${last}]`],
        ['a category twice', withCategory(categories[0]), 422, `${field}.categories[${last}]`],
        ['a category no value can match', withCategory(` ${categories[0]}`), 422, `${field}.categories[${last}]`],
        ['a category that reads as missing', withCategory('NA'), 422, `${field}.categories[${last}]`],
        ['a zero scale', withColumn(numeric, { scale: 0 }), 400, `body.preprocessing.columns[${numeric}].scale`],
        ['an infinite scale (null in JSON)', withColumn(numeric, { scale: Infinity }), 400, `body.preprocessing.columns[${numeric}].scale`],
        ['a numeric column without its center', withColumn(numeric, { center: undefined }), 400, `body.preprocessing.columns[${numeric}].center`],
        ['an unknown column field', withColumn(island, { slots: 3 }), 400, field],
        ['inputs one short', withPreprocessing({ inputs: p.inputs!.slice(1) }), 422, 'body.preprocessing.inputs:'],
        ['an input renamed', withPreprocessing({ inputs: ['island', ...p.inputs!.slice(1)] }), 422, 'body.preprocessing.inputs[0]'],
        ['features that are not the columns', { ...species, features: [...species.features].reverse() }, 422, 'body.features'],
        ['a target scale on a classification model', withPreprocessing({ target: { center: [0], scale: [1] } }), 422, 'body.preprocessing.target'],
        ['a target scale per missing target', { ...mass, preprocessing: { ...mass.preprocessing, target: { center: [1, 2], scale: [1, 1] } } }, 422, 'body.preprocessing.target.center'],
        ['mean beside the columns', withPreprocessing({ mean: [0] }), 422, 'body.preprocessing.mean'],
        ['fitted options without the columns', { ...species, preprocessing: { standardize: true, impute: 'mean' } }, 422, 'body.preprocessing.columns'],
      ];
    };
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
      ...(await encodingCases()),
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
