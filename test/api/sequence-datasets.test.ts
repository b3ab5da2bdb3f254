// Sequence datasets (JSON and CSV), recurrent model specs and sequence predictions, over HTTP against real Postgres:
// what is stored, and every refusal as a coded 400 or 422 naming the sequence, layer or field at fault.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNetwork, serializeModel, type ModelSpec } from '../../src/engine/index.js';
import { createTenant, useTestService } from '../helpers/app.js';
import { IRIS_COLUMNS, auth, irisNetwork } from '../helpers/fixtures.js';
import { uploadIris } from '../helpers/jobs.js';
import { FREQUENCY_CLASSES, frequencySequences } from '../helpers/sequences.js';

const expectError = (res: request.Response, status: number, code: string, ...fragments: string[]) => {
  expect(res.status, res.text).toBe(status);
  expect(res.body.error.code).toBe(code);
  for (const f of fragments) expect(res.body.error.message).toContain(f);
};

/** Three sequences of four steps of two features (a, b); `y` is a class on the last step, `z` a number on every step. */
const SMALL_CSV = [
  'id,a,b,y,z',
  'p,1,10,,0.5',
  'p,2,20,,0.6',
  'p,3,30,,0.7',
  'p,4,40,up,0.8',
  'q,5,50,,1.5',
  'q,6,60,,1.6',
  'q,7,70,,1.7',
  'q,8,80,down,1.8',
  'r,9,90,,2.5',
  'r,10,100,,2.6',
  'r,11,110,,2.7',
  'r,12,120,up,2.8',
].join('\n');

describe('sequence datasets, recurrent specs and sequence predictions', () => {
  const service = useTestService();
  let key: string;
  let tenantId: string;
  let classesId: string;
  let irisId: string;

  const json = (body: object) => request(service.app.server).post('/v1/datasets').set(auth(key)).send(body);
  const csv = (body: string, query: Record<string, string>) =>
    request(service.app.server).post('/v1/datasets').query({ name: 'csv', ...query }).set(auth(key)).set('content-type', 'text/csv').send(body);
  const job = (body: object) => request(service.app.server).post('/v1/jobs').set(auth(key)).send(body);
  const lstm = (units: number, extra: object = {}) => ({ type: 'lstm', units, ...extra });
  const dense = (units: number, activation: string) => ({ type: 'dense', units, activation });
  const classifier = { layers: [lstm(8), dense(3, 'softmax')], loss: 'categoricalCrossEntropy' };
  const trainingData = (id: string) => service.app.repos.datasets.getTrainingData(tenantId, id);

  beforeAll(async () => {
    const tenant = await createTenant(service.app);
    key = tenant.apiKey;
    tenantId = tenant.id;
    const { sequences, labels } = frequencySequences(30, 12, 1);
    const res = await json({ name: 'frequencies', sequences, targets: labels });
    expect(res.status, res.text).toBe(201);
    classesId = res.body.id;
    irisId = await uploadIris(service.app, key);
  });

  describe('uploads', () => {
    it('JSON with class labels: kind, steps, features per step, one-hot classes, statistics over every step', async () => {
      const { sequences } = frequencySequences(30, 12, 1);
      const detail = await request(service.app.server).get(`/v1/datasets/${classesId}`).set(auth(key));
      expect(detail.status).toBe(200);
      expect(detail.body).toMatchObject({
        name: 'frequencies',
        kind: 'sequence',
        rows: 30,
        sequenceLength: 12,
        perStepTargets: false,
        features: ['x0'],
        targets: ['y'],
        classes: FREQUENCY_CLASSES,
      });
      expect(detail.body.stats.y).toEqual({ kind: 'categorical', counts: { slow: 10, medium: 10, fast: 10 } });
      const values = sequences.flat(2);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      expect(detail.body.stats.x0.kind).toBe('numeric');
      expect(detail.body.stats.x0.mean).toBeCloseTo(mean, 5);
      expect(detail.body.stats.x0.min).toBeCloseTo(Math.min(...values), 5);
      expect(detail.body.stats.x0.max).toBeCloseTo(Math.max(...values), 5);
      const stored = (await trainingData(classesId))!;
      expect(stored.inputs).toHaveLength(30 * 12);
      expect(stored.inputs[12 + 3]).toBeCloseTo(sequences[1][3][0], 6);
      expect(Array.from(stored.outputs.subarray(0, 6))).toEqual([0, 0, 1, 0, 1, 0]); // slow, medium in sorted class order
      const list = await request(service.app.server).get('/v1/datasets').set(auth(key));
      expect(list.body.items.find((d: { id: string }) => d.id === irisId)).toMatchObject({ kind: 'tabular' });
      expect(list.body.items.find((d: { id: string }) => d.id === irisId).sequenceLength).toBeUndefined();
    });

    it('JSON with named features, several outputs per sequence, or numbers per step', async () => {
      const sequences = [
        [[1, 2], [3, 4], [5, 6]],
        [[7, 8], [9, 10], [11, 12]],
      ];
      const multi = await json({ name: 'multi', sequences, targets: [[1, 2], [3, 4]], featureNames: ['u', 'v'], targetNames: ['p', 'q'] });
      expect(multi.status, multi.text).toBe(201);
      expect(multi.body).toMatchObject({ kind: 'sequence', rows: 2, sequenceLength: 3, perStepTargets: false, features: ['u', 'v'], targets: ['p', 'q'] });
      const stored = (await trainingData(multi.body.id))!;
      expect(Array.from(stored.inputs)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(Array.from(stored.outputs)).toEqual([1, 2, 3, 4]);

      const perStep = await json({ name: 'per-step', sequences, targets: [[[1], [2], [3]], [[4], [5], [6]]] });
      expect(perStep.status, perStep.text).toBe(201);
      expect(perStep.body).toMatchObject({ perStepTargets: true, features: ['x0', 'x1'], targets: ['y'] });
      expect(Array.from((await trainingData(perStep.body.id))!.outputs)).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it('CSV with a sequence id column: consecutive rows form a sequence, the target comes from its last row (or every row)', async () => {
      const last = await csv(SMALL_CSV, { target: 'y', sequence: 'id' });
      expect(last.status, last.text).toBe(201);
      // z is neither the id nor the target, so it is a feature like a and b.
      expect(last.body).toMatchObject({ kind: 'sequence', rows: 3, sequenceLength: 4, features: ['a', 'b', 'z'], targets: ['y'], classes: ['down', 'up'] });
      const stored = (await trainingData(last.body.id))!;
      expect(Array.from(stored.inputs.subarray(0, 6))).toEqual([1, 10, 0.5, 2, 20, 0.6].map(Math.fround));
      expect(Array.from(stored.outputs)).toEqual([0, 1, 1, 0, 0, 1]);

      const perStep = await csv(SMALL_CSV.replace(/,(up|down),/g, ',,').replace(/,,/g, ',0,'), { target: 'z', sequence: 'id', perStepTargets: 'true' });
      expect(perStep.status, perStep.text).toBe(201);
      expect(perStep.body).toMatchObject({ rows: 3, sequenceLength: 4, perStepTargets: true, features: ['a', 'b', 'y'], targets: ['z'] });
      expect(Array.from((await trainingData(perStep.body.id))!.outputs)).toEqual([0.5, 0.6, 0.7, 0.8, 1.5, 1.6, 1.7, 1.8, 2.5, 2.6, 2.7, 2.8].map(Math.fround));
    });
  });

  describe('refused uploads', () => {
    const seq = (steps: number, features = 1) => Array.from({ length: steps }, (_, t) => Array.from({ length: features }, (_, f) => t + f));

    it('400 for ragged or empty sequences, naming the sequence, its length and the expected one', async () => {
      const ragged = await json({ name: 'r', sequences: [seq(4), seq(4), seq(3)], targets: [1, 2, 3] });
      expectError(ragged, 400, 'ERR_INVALID_DATASET', 'sequences[2] has 3 steps, expected 4 like sequences[0]', 'same number of steps');
      expect(ragged.body.error.details).toMatchObject({ field: 'sequences[2]', sequence: 2 });
      expectError(await json({ name: 'r', sequences: [seq(4), [], seq(4)], targets: [1, 2, 3] }), 400, 'ERR_INVALID_DATASET', 'sequences[1] is empty, expected 4');
      expectError(await json({ name: 'r', sequences: [], targets: [] }), 400, 'ERR_INVALID_DATASET', 'sequences is empty');
      expectError(await json({ name: 'r', sequences: [[], []], targets: [1, 2] }), 400, 'ERR_INVALID_DATASET', 'sequences[0] is empty');
      expectError(await json({ name: 'r', sequences: [[[]]], targets: [1] }), 400, 'ERR_INVALID_DATASET', 'sequences[0][0] has no values');
      const features = await json({ name: 'r', sequences: [seq(3, 2), [[1, 2], [3], [5, 6]]], targets: [1, 2] });
      expectError(features, 400, 'ERR_INVALID_DATASET', 'sequences[1][1] has 1 values, expected 2 features per step (x0, x1)');

      const raggedCsv = await csv('id,a,y\ns,1,\ns,2,3\nt,1,\nt,2,\nt,3,4\n', { target: 'y', sequence: 'id' });
      expectError(raggedCsv, 400, 'ERR_INVALID_DATASET', 'sequence 1 ("t", rows 3 to 5) has 3 steps, expected 2 like the first sequence ("s")');
      expect(raggedCsv.body.error.details).toMatchObject({ sequence: 1, sequenceId: 't', row: 3 });
      const split = await csv('id,a,y\ns,1,1\nt,2,2\ns,3,3\n', { target: 'y', sequence: 'id' });
      expectError(split, 400, 'ERR_INVALID_DATASET', 'row 3: sequence "s" starts again', 'consecutive');
      expectError(await csv('id,a,y\n', { target: 'y', sequence: 'id' }), 400, 'ERR_INVALID_DATASET', 'no data rows');
      expectError(await csv('id,a,y\n,1,2\n', { target: 'y', sequence: 'id' }), 400, 'ERR_INVALID_DATASET', 'row 1, column "id": the sequence id is empty');
    });

    it('400 for targets that do not match the sequences or each other, and for bad values', async () => {
      expectError(await json({ name: 't', sequences: [seq(2), seq(2)], targets: [1] }), 400, 'ERR_INVALID_DATASET', 'targets has 1 entries, expected one per sequence (2)');
      expectError(await json({ name: 't', sequences: [seq(2), seq(2)], targets: [1, 'cat'] }), 400, 'ERR_INVALID_DATASET', 'targets[1]: expected a number like targets[0], got "cat"');
      expectError(await json({ name: 't', sequences: [seq(2), seq(2)], targets: [[1, 2], [3]] }), 400, 'ERR_INVALID_DATASET', 'targets[1] has 1 values, expected 2');
      const steps = await json({ name: 't', sequences: [seq(2), seq(2)], targets: [[[1], [2]], [[3]]] });
      expectError(steps, 400, 'ERR_INVALID_DATASET', 'targets[1] has 1 steps, expected 2');
      expectError(await json({ name: 't', sequences: [seq(2)], targets: [1e39] }), 400, 'ERR_INVALID_DATASET', 'targets[0]: expected a finite number');
      expectError(await json({ name: 't', sequences: [[[1e39], [1]]], targets: [1] }), 400, 'ERR_INVALID_DATASET', 'sequences[0][0][0] (feature "x0")');
      expectError(await json({ name: 't', sequences: [seq(2, 2)], targets: [1], featureNames: ['a'] }), 400, 'ERR_INVALID_DATASET', 'featureNames has 1 names, expected 2');
      expectError(await json({ name: 't', sequences: [seq(2)], targets: [1], featureNames: ['y'] }), 400, 'ERR_INVALID_DATASET', '"y" appears twice');

      const perStepLabels = await csv('id,a,y\ns,1,up\ns,2,down\n', { target: 'y', sequence: 'id', perStepTargets: 'true' });
      expectError(perStepLabels, 400, 'ERR_INVALID_DATASET', 'row 1, column "y": per-step targets must be numbers');
      expectError(await csv('id,a,y\ns,1,2\n', { target: 'y', sequence: 'nope' }), 400, 'ERR_INVALID_DATASET', 'sequence column "nope" is not one of the columns');
      expectError(await csv('id,a,y\ns,1,2\n', { target: 'y', sequence: 'y' }), 400, 'ERR_INVALID_DATASET', 'both the sequence id and a target');
      expectError(await csv('id,y\ns,2\n', { target: 'y', sequence: 'id' }), 400, 'ERR_INVALID_DATASET', 'no feature column');
      expectError(await csv('id,a,y\ns,x,2\n', { target: 'y', sequence: 'id' }), 400, 'ERR_INVALID_DATASET', 'row 1, column "a": expected a finite number');
      expectError(await csv('a,y\n1,2\n', { target: 'y', perStepTargets: 'true' }), 400, 'ERR_VALIDATION', 'querystring.perStepTargets');
    });

    it('400 from the schema names the field inside the sequence body, not the tabular one', async () => {
      expectError(await json({ name: 't', sequences: [[[1], ['x']]], targets: [1] }), 400, 'ERR_VALIDATION', 'body.sequences[0][1][0]');
      expectError(await json({ name: 't', sequences: [[[1]]] }), 400, 'ERR_VALIDATION', 'body.targets');
      // The tabular body keeps its own messages.
      expectError(await json({ name: 'd', columns: ['a', 'y'], rows: [[1, 2]] }), 400, 'ERR_VALIDATION', 'body.target');
    });
  });

  describe('recurrent model specs', () => {
    it('422 for a dense layer before a recurrent one, naming the layer', async () => {
      const res = await job({ datasetId: classesId, model: { layers: [dense(8, 'relu'), lstm(8), dense(3, 'softmax')], loss: 'categoricalCrossEntropy' } });
      expectError(res, 422, 'ERR_UNPROCESSABLE', 'model.layers[1].type', 'recurrent layers (rnn, lstm, gru) come before every dense layer', 'got "lstm"');
      expect(res.body.error.details).toMatchObject({ field: 'model.layers[1].type' });
    });

    it('422 for stacks that cannot read the dataset or that the engine refuses', async () => {
      const onTabular = await job({ datasetId: irisId, model: { layers: [{ type: 'rnn', units: 4 }, dense(3, 'softmax')], loss: 'categoricalCrossEntropy' } });
      expectError(onTabular, 422, 'ERR_UNPROCESSABLE', 'model.layers[0].type', 'the dataset is tabular');
      expectError(await job({ datasetId: classesId, model: irisNetwork }), 422, 'ERR_UNPROCESSABLE', 'model.layers[0].type: expected "rnn" or "lstm"', '12 steps of 1 feature)');
      const stacked = await job({ datasetId: classesId, model: { layers: [lstm(4), lstm(4), dense(3, 'softmax')], loss: 'categoricalCrossEntropy' } });
      expectError(stacked, 422, 'ERR_UNPROCESSABLE', 'model.layers[0].returnSequences', 'layers[1] is a recurrent layer');
      const softmax = await job({ datasetId: classesId, model: { layers: [lstm(4, { activation: 'softmax' }), dense(3, 'softmax')], loss: 'categoricalCrossEntropy' } });
      expectError(softmax, 422, 'ERR_UNPROCESSABLE', 'model.layers[0].activation');
      const lastRecurrent = await job({ datasetId: classesId, model: { layers: [lstm(3)], loss: 'meanSquaredError' } });
      expectError(lastRecurrent, 422, 'ERR_UNPROCESSABLE', 'model.layers[0].type', 'ends in a dense output layer');
      const perSequence = await job({ datasetId: classesId, model: { ...classifier, layers: [lstm(8, { returnSequences: true }), dense(3, 'softmax')] } });
      expectError(perSequence, 422, 'ERR_UNPROCESSABLE', 'model.layers[0].returnSequences: expected false', 'one target per sequence');
      expectError(await job({ datasetId: classesId, model: { ...classifier, layers: [lstm(8), dense(2, 'softmax')] } }), 422, 'ERR_UNPROCESSABLE', 'model.layers[1].units: expected 3');
      expectError(await job({ datasetId: irisId, model: irisNetwork, training: { bpttSteps: 4 } }), 422, 'ERR_UNPROCESSABLE', 'training.bpttSteps');
      expectError(await job({ datasetId: classesId, model: { ...classifier, layers: [{ type: 'transformer', units: 4 }, dense(3, 'softmax')] } }), 400, 'ERR_VALIDATION', 'body.model.layers[0].type');
      expectError(await job({ datasetId: classesId, model: classifier, training: { bpttSteps: 0 } }), 400, 'ERR_VALIDATION', 'body.training.bpttSteps');

      const sequences = [[[1], [2], [3]], [[4], [5], [6]]];
      const perStepId = (await json({ name: 'p', sequences, targets: [[[1], [2], [3]], [[4], [5], [6]]] })).body.id;
      const needsSequences = await job({ datasetId: perStepId, model: { layers: [{ type: 'rnn', units: 4 }, dense(1, 'linear')], loss: 'meanSquaredError' }, training: { validationSplit: 0 } });
      expectError(needsSequences, 422, 'ERR_UNPROCESSABLE', 'model.layers[0].returnSequences: expected true', 'one target per step');
    });

    it('202 for a valid recurrent job: the dataset decides inputSize and sequenceLength, bpttSteps is kept', async () => {
      const res = await job({ datasetId: classesId, model: classifier, training: { epochs: 3, bpttSteps: 5, seed: 1 }, preprocessing: { standardize: true } });
      expect(res.status, res.text).toBe(202);
      const stored = await service.app.db.job.findUniqueOrThrow({ where: { id: res.body.id } });
      expect(stored.model).toEqual({ inputSize: 1, sequenceLength: 12, ...classifier });
      expect(stored.training).toMatchObject({ bpttSteps: 5 });
      // The options until the job's first run fits them on its training rows.
      expect(stored.preprocessing).toEqual({ standardize: true, impute: 'mean', maxCategories: 50, standardizeTargets: true });
    });
  });

  describe('sequence predictions', () => {
    /** Stores a model for a dataset directly (training is not what these tests are about) and returns its id. */
    async function storeModel(datasetId: string, spec: ModelSpec, preprocessing: object, features: string[], classes?: string[]) {
      const created = await job({ datasetId, model: { layers: spec.layers, loss: spec.loss }, training: { epochs: 1, validationSplit: 0 } });
      expect(created.status, created.text).toBe(202);
      const network = createNetwork(spec, 3);
      const model = await service.app.db.model.create({
        data: {
          id: crypto.randomUUID(),
          tenantId,
          jobId: created.body.id,
          spec: JSON.parse(JSON.stringify(spec)),
          preprocessing,
          features,
          targets: ['y'],
          ...(classes ? { classes } : {}),
          metrics: { epochs: 1, loss: 1, valLoss: null, accuracy: null, valAccuracy: null },
          weights: JSON.parse(JSON.stringify(serializeModel(network))),
        },
      });
      return { id: model.id, network };
    }
    const predict = (id: string, inputs: unknown) => request(service.app.server).post(`/v1/models/${id}/predict`).set(auth(key)).send({ inputs });

    it('standardizes per feature over the steps, answers one output per sequence with labels, and names wrong shapes', async () => {
      const csvId = (await csv(SMALL_CSV, { target: 'y', sequence: 'id' })).body.id;
      const spec: ModelSpec = { inputSize: 3, sequenceLength: 4, layers: [{ type: 'lstm', units: 5 }, { type: 'dense', units: 2, activation: 'softmax' }], loss: 'categoricalCrossEntropy' };
      const mean = [6.5, 65, 1.65];
      const std = [3, 30, 0.8];
      const { id, network } = await storeModel(csvId, spec, { standardize: true, mean, std }, ['a', 'b', 'z'], ['down', 'up']);
      const sequences = [
        [[1, 10, 0.5], [2, 20, 0.6], [3, 30, 0.7], [4, 40, 0.8]],
        [[12, 120, 2.8], [11, 110, 2.7], [10, 100, 2.6], [9, 90, 2.5]],
      ];
      const res = await predict(id, sequences);
      expect(res.status, res.text).toBe(200);
      const x = Float32Array.from(sequences.flat(2), (v, i) => (v - mean[i % 3]) / std[i % 3]);
      const y = network.predict(x, 2);
      expect(res.body.outputs).toHaveLength(2);
      res.body.outputs.forEach((out: number[], r: number) => {
        expect(out).toHaveLength(2);
        out.forEach((v, k) => expect(v).toBeCloseTo(y[r * 2 + k], 6));
        expect(res.body.labels[r]).toBe(['down', 'up'][out[0] > out[1] ? 0 : 1]);
      });

      expectError(await predict(id, [sequences[0].slice(1)]), 400, 'ERR_INVALID_INPUT', 'inputs[0]: expected a sequence of 4 steps, each an array of 3 features (a, b, z); got 3 steps');
      expectError(await predict(id, [sequences[0], [[1, 2, 3], [1, 2], [1, 2, 3], [1, 2, 3]]]), 400, 'ERR_INVALID_INPUT', 'inputs[1][1]: expected 3 features (a, b, z), got 2 values');
      expectError(await predict(id, [[1, 2, 3]]), 400, 'ERR_INVALID_INPUT', 'inputs[0]: expected a sequence of 4 steps', 'got an array of 3 values');
      expectError(await predict(id, [{ a: 1, b: 2, z: 3 }]), 400, 'ERR_INVALID_INPUT', 'got an object');
      expectError(await predict(id, [[[1, 2, 3], [1, 'x', 3]]]), 400, 'ERR_VALIDATION', 'body.inputs[0][1][1]');
    });

    it('answers one output per step for a model that returns sequences; a tabular model refuses sequences', async () => {
      const sequences = [[[1], [2], [3]], [[4], [5], [6]]];
      const perStepId = (await json({ name: 'p', sequences, targets: [[[1], [2], [3]], [[4], [5], [6]]] })).body.id;
      const spec: ModelSpec = { inputSize: 1, sequenceLength: 3, layers: [{ type: 'rnn', units: 4, returnSequences: true }, { type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' };
      const { id, network } = await storeModel(perStepId, spec, { standardize: false }, ['x0']);
      const res = await predict(id, sequences);
      expect(res.status, res.text).toBe(200);
      const y = network.predict(Float32Array.from(sequences.flat(2)), 2);
      expect(res.body.labels).toBeUndefined();
      expect(res.body.outputs).toHaveLength(2);
      res.body.outputs.forEach((steps: number[][], r: number) => {
        expect(steps).toHaveLength(3);
        steps.forEach((out, t) => expect(out[0]).toBeCloseTo(y[r * 3 + t], 6));
      });

      const irisSpec: ModelSpec = { inputSize: 4, ...irisNetwork, layers: irisNetwork.layers.map((l) => ({ ...l })) };
      const iris = await storeModel(irisId, irisSpec, { standardize: false }, IRIS_COLUMNS.slice(0, 4), ['setosa', 'versicolor', 'virginica']);
      expectError(await predict(iris.id, [[[5.1], [3.5], [1.4], [0.2]]]), 400, 'ERR_INVALID_INPUT', 'inputs[0]: expected 4 features', 'this model reads rows, not sequences');
      expect((await predict(iris.id, [[5.1, 3.5, 1.4, 0.2]])).status).toBe(200);
    });
  });
});
