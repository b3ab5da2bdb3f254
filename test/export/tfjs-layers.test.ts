// Exported models must predict in TensorFlow.js exactly what the engine predicts (float32 rounding aside), and their
// userDefinedMetadata.encoding must be enough to encode a raw row exactly as the service does: the encodeRow of
// docs/tables-export.md, run here as it is written there, is held to the service's RowEncoder on penguins rows.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StoredPreprocessing } from '../../src/contracts/preprocessing.js';
import { isMissing, type Cell } from '../../src/data/cells.js';
import { RowEncoder } from '../../src/data/encode-inputs.js';
import { encodingOf, storedEncoding } from '../../src/data/encoding.js';
import { createNetwork, deserializeModel, Rng, serializeModel, type ActivationName, type DType, type ModelSpec, type Network } from '../../src/engine/index.js';
import { fromModelJson, toModelJson } from '../../src/export/model-json.js';
import { ExportError, toTfjsLayers, type EncodingMetadata, type TfjsExportMeta, type TfjsLayersExport } from '../../src/export/tfjs-layers.js';

const ROWS = 9;

/** Uniform in [lo, hi) from the engine's seeded generator. */
const uniform = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng.next();

/** A network with seeded weights and non-zero biases, so every tensor's placement is checked. */
function network(spec: ModelSpec, dtype: DType = 'float32'): Network {
  const net = createNetwork(spec, 11, dtype);
  const rng = new Rng(5);
  for (const layer of net.layers) for (let i = 0; i < layer.bias.length; i++) layer.bias[i] = uniform(rng, -0.5, 0.5);
  return net;
}

function inputs(net: Network, rows = ROWS): Float32Array {
  const rng = new Rng(3);
  return Float32Array.from({ length: rows * net.inputWidth }, () => uniform(rng, -2, 2));
}

async function loadTfjs(exported: TfjsLayersExport): Promise<tf.LayersModel> {
  // The path a browser takes: model.json, then the weights its manifest names.
  const artifacts = await tf.io.getModelArtifactsForJSON(exported.modelJson as unknown as tf.io.ModelJSON, async (manifest) => {
    expect(manifest[0].paths).toEqual(['weights.bin']);
    const { buffer, byteOffset, byteLength } = exported.weightData;
    return [manifest[0].weights, buffer.slice(byteOffset, byteOffset + byteLength) as ArrayBuffer];
  });
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

async function tfjsPredict(model: tf.LayersModel, net: Network, x: Float32Array, rows = ROWS): Promise<Float32Array> {
  const shape = net.spec.sequenceLength ? [rows, net.spec.sequenceLength, net.inputSize] : [rows, net.inputSize];
  const input = tf.tensor(x, shape);
  const output = model.predict(input) as tf.Tensor;
  const values = (await output.data()) as Float32Array;
  tf.dispose([input, output]);
  return values;
}

async function expectSamePredictions(net: Network, meta?: TfjsExportMeta): Promise<void> {
  const model = await loadTfjs(toTfjsLayers(serializeModel(net), meta));
  const x = inputs(net);
  const expected = net.predict(x, ROWS);
  const actual = await tfjsPredict(model, net, x);
  expect(actual.length).toBe(expected.length);
  const worst = Math.max(...expected.map((v, i) => Math.abs(v - actual[i])));
  expect(worst).toBeLessThan(1e-5);
  model.dispose();
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('TensorFlow.js layers export: dense networks', () => {
  const activations: ActivationName[] = ['linear', 'sigmoid', 'tanh', 'relu', 'leakyRelu', 'softmax'];

  it.each(activations)('5-7-4-3 with %s hidden and output layers predicts like the engine', async (activation) => {
    const loss = activation === 'softmax' ? 'categoricalCrossEntropy' : 'meanSquaredError';
    const net = network({
      inputSize: 5,
      layers: [
        { type: 'dense', units: 7, activation },
        { type: 'dense', units: 4, activation },
        { type: 'dense', units: 3, activation },
      ],
      loss,
    });
    await expectSamePredictions(net);
  });

  it('dropout between dense layers (leakyRelu before it) exports as a Dropout layer and predicts like the engine', async () => {
    const net = network({
      inputSize: 5,
      layers: [
        { type: 'dense', units: 7, activation: 'leakyRelu' },
        { type: 'dropout', rate: 0.5 },
        { type: 'dense', units: 4, activation: 'relu' },
        { type: 'dropout', rate: 0.1 },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      loss: 'categoricalCrossEntropy',
    });
    await expectSamePredictions(net);
  });

  it('writes a Sequential of Dense layers, leakyRelu as a linear Dense plus LeakyReLU(alpha 0.01), kernel then bias', () => {
    const net = network({
      inputSize: 4,
      layers: [
        { type: 'dense', units: 16, activation: 'leakyRelu' },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      loss: 'categoricalCrossEntropy',
    });
    const { modelJson, weightSpecs, weightData } = toTfjsLayers(serializeModel(net), { classes: ['a', 'b', 'c'], features: ['w', 'x', 'y', 'z'] });
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.modelTopology.class_name).toBe('Sequential');
    expect(modelJson.modelTopology.config.layers.map((l) => [l.class_name, l.config.activation ?? l.config.alpha])).toEqual([
      ['Dense', 'linear'],
      ['LeakyReLU', 0.01],
      ['Dense', 'softmax'],
    ]);
    expect(modelJson.modelTopology.config.layers[0].config.batch_input_shape).toEqual([null, 4]);
    expect(weightSpecs).toEqual([
      { name: 'dense_1/kernel', shape: [4, 16], dtype: 'float32' },
      { name: 'dense_1/bias', shape: [16], dtype: 'float32' },
      { name: 'dense_2/kernel', shape: [16, 3], dtype: 'float32' },
      { name: 'dense_2/bias', shape: [3], dtype: 'float32' },
    ]);
    expect(modelJson.weightsManifest).toEqual([{ paths: ['weights.bin'], weights: weightSpecs }]);
    expect(weightData.byteLength).toBe((4 * 16 + 16 + 16 * 3 + 3) * 4);
    // The first float of the file is kernel[0][0].
    expect(new DataView(weightData.buffer).getFloat32(0, true)).toBe(net.layers[0].kernel[0]);
    expect(modelJson.userDefinedMetadata).toMatchObject({ classes: ['a', 'b', 'c'], features: ['w', 'x', 'y', 'z'], loss: 'categoricalCrossEntropy' });
  });

  it('loads over HTTP as two routes, model.json and weights.bin beside it, with the Authorization header on both', async () => {
    const net = network({ inputSize: 4, layers: [{ type: 'dense', units: 8, activation: 'tanh' }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' });
    const { modelJson, weightData } = toTfjsLayers(serializeModel(net));
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(`${req.url} ${req.headers.authorization}`);
      if (req.url === '/v1/models/m1/tfjs/model.json') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(modelJson));
      else if (req.url === '/v1/models/m1/tfjs/weights.bin') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(weightData);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/models/m1/tfjs/model.json`;
      const model = await tf.loadLayersModel(url, { requestInit: { headers: { authorization: 'Bearer k' } } });
      const x = inputs(net);
      const actual = await tfjsPredict(model, net, x);
      expect(Math.max(...net.predict(x, ROWS).map((v, i) => Math.abs(v - actual[i])))).toBeLessThan(1e-5);
      expect(requests).toEqual(['/v1/models/m1/tfjs/model.json Bearer k', '/v1/models/m1/tfjs/weights.bin Bearer k']);
      model.dispose();
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('exports float64 models as float32', async () => {
    const net = network({ inputSize: 3, layers: [{ type: 'dense', units: 5, activation: 'tanh' }, { type: 'dense', units: 1, activation: 'sigmoid' }], loss: 'binaryCrossEntropy' }, 'float64');
    await expectSamePredictions(net);
  });

});

type Row = Record<string, Cell>;
type EncodeRow = (encoding: EncodingMetadata, row: Row) => Float32Array;

/** The encodeRow function of docs/tables-export.md, as a reader would copy it (the js block starting "// encode-row.js"). */
function docsEncodeRow(): EncodeRow {
  const doc = readFileSync(new URL('../../docs/tables-export.md', import.meta.url), 'utf8');
  const code = /```js\n(\/\/ encode-row\.js[\s\S]*?)```/.exec(doc);
  if (!code) throw new Error('docs/tables-export.md has no js block starting "// encode-row.js"');
  return new Function(`${code[1]}\nreturn encodeRow;`)() as EncodeRow;
}

/**
 * Palmer penguins (vega-datasets) as predict rows: nulls as they come, a derived boolean column written every way a
 * row may write one, and missing values spelled as text or left out, so every branch of the encoding is taken.
 */
function penguinRows(): Row[] {
  const rows = JSON.parse(readFileSync(new URL('../../node_modules/vega-datasets/data/penguins.json', import.meta.url), 'utf8')) as Row[];
  const spellings: Cell[][] = [
    [true, 'yes', 'TRUE', 1],
    [false, 'no', ' False ', 0],
  ];
  const missing: (Cell | undefined)[] = [null, 'NA', '', ' na ', '?', 'NaN', 'Null', undefined];
  return rows.map((penguin, i) => {
    const mass = penguin['Body Mass (g)'] as number | null;
    const row: Row = { ...penguin, Heavy: mass === null ? missing[i % missing.length] ?? null : spellings[mass > 4200 ? 0 : 1][i % 4] };
    if (i % 7 === 0) row.Sex = missing[i % missing.length] ?? null;
    if (i % 19 === 0) row.Sex = i % 2 === 0;
    if (i % 13 === 0) row.Island = ` ${row.Island} `;
    if (i % 17 === 0) row.Island = [4.5, ' 4.50', 4, '4.0', 1e39][i % 5];
    if (i % 11 === 0) delete row.Island;
    if (mass === null && i % 2 === 1) delete row.Heavy;
    return row;
  });
}

/**
 * A fitted encoding for penguins, regression on beak depth: Torgersen is left to "(other)", and so are "." and the
 * booleans of Sex; Island has a category "4.5" that a number or its text in any form matches.
 */
const PENGUIN_PREPROCESSING: StoredPreprocessing = {
  standardize: true,
  ...encodingOf(
    [
      { name: 'Island', type: 'categorical', categories: ['Biscoe', 'Dream', '4.5'] },
      { name: 'Beak Length (mm)', type: 'numeric', fill: 43.92, indicator: true, center: 43.92, scale: 5.45 },
      { name: 'Flipper Length (mm)', type: 'numeric', fill: 197, indicator: false, center: 200.9, scale: 14.04 },
      { name: 'Heavy', type: 'boolean', fill: 0.4, indicator: true, center: 0, scale: 1 },
      { name: 'Sex', type: 'categorical', categories: ['MALE', 'FEMALE'] },
    ],
    { center: [17.15], scale: [1.97] },
  ),
  ignored: ['Species', 'Body Mass (g)'],
};
const PENGUIN_FEATURES = ['Island', 'Beak Length (mm)', 'Flipper Length (mm)', 'Heavy', 'Sex'];

describe('TensorFlow.js layers export: the encoding in userDefinedMetadata', () => {
  const encoding = storedEncoding(PENGUIN_PREPROCESSING, PENGUIN_FEATURES)!;
  const service = new RowEncoder(encoding, ['Beak Depth (mm)', ...PENGUIN_PREPROCESSING.ignored!]);
  const rows = penguinRows();
  const net = network({ inputSize: encoding.inputs.length, layers: [{ type: 'dense', units: 8, activation: 'tanh' }, { type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' });
  const exported = toTfjsLayers(serializeModel(net), { features: PENGUIN_FEATURES, targets: ['Beak Depth (mm)'], preprocessing: PENGUIN_PREPROCESSING });
  const metadata = exported.modelJson.userDefinedMetadata.encoding as EncodingMetadata;

  it('lays out every column: offset and width, fill, indicator, center and scale, categories with the other and missing slots', () => {
    expect(metadata).toMatchObject({
      width: 14,
      columns: [
        { name: 'Island', type: 'categorical', offset: 0, width: 5, categories: ['Biscoe', 'Dream', '4.5'], otherSlot: 3, missingSlot: 4 },
        { name: 'Beak Length (mm)', type: 'numeric', offset: 5, width: 2, fill: 43.92, indicator: true, center: 43.92, scale: 5.45 },
        { name: 'Flipper Length (mm)', type: 'numeric', offset: 7, width: 1, fill: 197, indicator: false, center: 200.9, scale: 14.04 },
        { name: 'Heavy', type: 'boolean', offset: 8, width: 2, fill: 0.4, indicator: true, center: 0, scale: 1 },
        { name: 'Sex', type: 'categorical', offset: 10, width: 4, categories: ['MALE', 'FEMALE'], otherSlot: 2, missingSlot: 3 },
      ],
      inputs: encoding.inputs,
      ignored: ['Species', 'Body Mass (g)'],
      target: { center: [17.15], scale: [1.97] },
    });
    expect(metadata.inputs.slice(0, 5)).toEqual(['Island=Biscoe', 'Island=Dream', 'Island=4.5', 'Island=(other)', 'Island=(missing)']);
    expect(metadata.howTo.join('\n')).toMatch(/prediction\[k\] = output\[k\] \* target\.scale\[k\] \+ target\.center\[k\]/);
    expect(exported.modelJson.modelTopology.config.layers[0].config.batch_input_shape).toEqual([null, 14]);
  });

  it('lists as missingText exactly the text the service reads as missing', () => {
    // Padded only up to 4 characters in all: src/data/cells.ts isMissing() does not trim longer text (" null ").
    for (const text of metadata.missingText) {
      for (const spelling of [text, text.toUpperCase(), ...(text.length < 4 ? [` ${text}`] : [])]) expect(isMissing(spelling), JSON.stringify(spelling)).toBe(true);
    }
    for (const text of ['0', '-', 'none', 'n.a.', 'missing', 'undefined']) expect(isMissing(text), text).toBe(false);
  });

  it("encodes every penguin exactly as the service does with docs/tables-export.md's encodeRow, which reads only the metadata", () => {
    const encodeRow = docsEncodeRow();
    const plain = JSON.parse(JSON.stringify(metadata)) as EncodingMetadata; // what tf.loadLayersModel hands back
    const expected = new Float32Array(service.width);
    for (const [r, row] of rows.entries()) {
      service.encodeObject(row, expected.fill(0), 0, `rows[${r}]`);
      expect(encodeRow(plain, row), `rows[${r}] ${JSON.stringify(row)}`).toEqual(expected);
    }
  });

  it('takes the encoded vector: fed what the metadata encodes, the loaded model predicts what the engine does, in target units', async () => {
    const model = await loadTfjs(exported);
    const encodeRow = docsEncodeRow();
    const x = new Float32Array(rows.length * service.width);
    rows.forEach((row, r) => service.encodeObject(row, x, r * service.width, `rows[${r}]`));
    const { center, scale } = encoding.target!;
    const expected = Array.from(net.predict(x, rows.length), (y) => y * scale[0] + center[0]);
    const input = tf.tensor2d(rows.map((row) => Array.from(encodeRow(metadata, row))));
    const output = model.predict(input) as tf.Tensor;
    const actual = Array.from(await output.data(), (y) => y * metadata.target!.scale[0] + metadata.target!.center[0]);
    tf.dispose([input, output]);
    expect(Math.max(...expected.map((v, i) => Math.abs(v - actual[i])))).toBeLessThan(1e-4);
    expect(model.getUserDefinedMetadata()).toEqual(JSON.parse(JSON.stringify(exported.modelJson.userDefinedMetadata)));
    model.dispose();
  });

  it('describes models from before the encoding as numeric columns centred on their mean and scaled by their std', async () => {
    const net = network({ inputSize: 4, layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' });
    const features = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
    const preprocessing = { standardize: true, mean: [5.8, 3.1, 3.8, 1.2], std: [0.8, 0.4, 1.8, 0.75] };
    const exported = toTfjsLayers(serializeModel(net), { features, preprocessing });
    const legacy = exported.modelJson.userDefinedMetadata.encoding as EncodingMetadata;
    expect(legacy.columns[2]).toEqual({ name: 'petal_length', type: 'numeric', offset: 2, width: 1, fill: 3.8, indicator: false, center: 3.8, scale: 1.8 });
    const raw = Array.from({ length: ROWS }, (_, r) => Object.fromEntries(features.map((f, c) => [f, preprocessing.mean[c] + (r - 4) * preprocessing.std[c] * 0.7])));
    const encoder = new RowEncoder(storedEncoding(preprocessing, features)!, null);
    const x = new Float32Array(ROWS * 4);
    raw.forEach((row, r) => encoder.encodeObject(row, x, r * 4, `rows[${r}]`));
    const encodeRow = docsEncodeRow();
    expect(Float32Array.from(raw.flatMap((row) => Array.from(encodeRow(legacy, row))))).toEqual(x);
    const model = await loadTfjs(exported);
    const actual = await tfjsPredict(model, net, x);
    const expected = net.predict(x, ROWS);
    expect(Math.max(...expected.map((v, i) => Math.abs(v - actual[i])))).toBeLessThan(1e-5);
    model.dispose();
  });

  it('refuses an encoding that does not fit the network, and one never fitted', () => {
    const narrow = network({ inputSize: 4, layers: [{ type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' });
    expect(() => toTfjsLayers(serializeModel(narrow), { features: PENGUIN_FEATURES, preprocessing: PENGUIN_PREPROCESSING })).toThrow(
      /the columns encode to 14 inputs, but the network takes 4/,
    );
    expect(() => toTfjsLayers(serializeModel(narrow), { features: ['a', 'b', 'c', 'd'], preprocessing: { standardize: true, impute: 'mean' } })).toThrow(ExportError);
  });
});

describe('TensorFlow.js layers export: recurrent networks', () => {
  it.each([
    ['rnn tanh -> dense', { inputSize: 3, sequenceLength: 6, layers: [{ type: 'rnn', units: 5 }, { type: 'dense', units: 2, activation: 'linear' }], loss: 'meanSquaredError' }],
    ['rnn relu -> dense sigmoid', { inputSize: 3, sequenceLength: 4, layers: [{ type: 'rnn', units: 4, activation: 'relu' }, { type: 'dense', units: 1, activation: 'sigmoid' }], loss: 'binaryCrossEntropy' }],
    ['lstm -> dense softmax', { inputSize: 2, sequenceLength: 7, layers: [{ type: 'lstm', units: 6 }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' }],
    ['lstm sigmoid (sequences) -> rnn -> dense', {
      inputSize: 3,
      sequenceLength: 5,
      layers: [{ type: 'lstm', units: 4, activation: 'sigmoid', returnSequences: true }, { type: 'rnn', units: 3 }, { type: 'dense', units: 2, activation: 'tanh' }],
      loss: 'meanSquaredError',
    }],
    ['gru -> dense softmax', { inputSize: 2, sequenceLength: 7, layers: [{ type: 'gru', units: 6 }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' }],
    ['gru relu (sequences) -> lstm -> dropout -> dense', {
      inputSize: 3,
      sequenceLength: 5,
      layers: [
        { type: 'gru', units: 4, activation: 'relu', returnSequences: true },
        { type: 'lstm', units: 3 },
        { type: 'dropout', rate: 0.5 },
        { type: 'dense', units: 2, activation: 'tanh' },
      ],
      loss: 'meanSquaredError',
    }],
    ['sequence to sequence: gru (sequences) -> dropout -> dense on every step', {
      inputSize: 2,
      sequenceLength: 4,
      layers: [{ type: 'gru', units: 5, returnSequences: true }, { type: 'dropout', rate: 0.25 }, { type: 'dense', units: 3, activation: 'softmax' }],
      loss: 'categoricalCrossEntropy',
    }],
    ['sequence to sequence: lstm (sequences) -> dense on every step', {
      inputSize: 2,
      sequenceLength: 4,
      layers: [{ type: 'lstm', units: 5, returnSequences: true }, { type: 'dense', units: 3, activation: 'softmax' }],
      loss: 'categoricalCrossEntropy',
    }],
  ] as [string, ModelSpec][])('%s predicts like the engine', async (_, spec) => {
    await expectSamePredictions(network(spec));
  });

  it('names recurrent weights as Keras does and gives the LSTM sigmoid gates', () => {
    const net = network({ inputSize: 3, sequenceLength: 5, layers: [{ type: 'lstm', units: 4 }, { type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' });
    const { modelJson, weightSpecs } = toTfjsLayers(serializeModel(net));
    expect(modelJson.modelTopology.config.layers[0]).toMatchObject({
      class_name: 'LSTM',
      config: { units: 4, activation: 'tanh', recurrent_activation: 'sigmoid', batch_input_shape: [null, 5, 3], return_sequences: false },
    });
    expect(weightSpecs.slice(0, 3)).toEqual([
      { name: 'lstm_1/kernel', shape: [3, 16], dtype: 'float32' },
      { name: 'lstm_1/recurrent_kernel', shape: [4, 16], dtype: 'float32' },
      { name: 'lstm_1/bias', shape: [16], dtype: 'float32' },
    ]);
  });

  it('writes a GRU with sigmoid gates and reset_after false, its weights named as Keras does, and dropout as a Dropout layer', () => {
    const net = network({
      inputSize: 3,
      sequenceLength: 5,
      layers: [{ type: 'gru', units: 4 }, { type: 'dropout', rate: 0.3 }, { type: 'dense', units: 1, activation: 'linear' }],
      loss: 'meanSquaredError',
    });
    const { modelJson, weightSpecs } = toTfjsLayers(serializeModel(net));
    const [gru, dropout] = modelJson.modelTopology.config.layers;
    expect(gru).toMatchObject({
      class_name: 'GRU',
      config: { units: 4, activation: 'tanh', recurrent_activation: 'sigmoid', reset_after: false, batch_input_shape: [null, 5, 3] },
    });
    expect(dropout).toEqual({ class_name: 'Dropout', config: { name: 'dropout_2', trainable: true, dtype: 'float32', rate: 0.3 } });
    expect(weightSpecs.map((w) => [w.name, w.shape])).toEqual([
      ['gru_1/kernel', [3, 12]],
      ['gru_1/recurrent_kernel', [4, 12]],
      ['gru_1/bias', [12]],
      ['dense_3/kernel', [4, 1]],
      ['dense_3/bias', [1]],
    ]);
  });

  it('refuses a recurrent layer with leakyRelu, which TensorFlow.js has no activation for', () => {
    const net = network({ inputSize: 2, sequenceLength: 3, layers: [{ type: 'rnn', units: 3, activation: 'leakyRelu' }, { type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' });
    expect(() => toTfjsLayers(serializeModel(net))).toThrow(ExportError);
    expect(() => toTfjsLayers(serializeModel(net))).toThrow(/layer 0 \(rnn\).*leakyRelu/);
  });
});

describe('JSON export', () => {
  it('carries spec, weights, the fitted preprocessing and classes, and rebuilds the same network', () => {
    const net = network({ inputSize: 14, layers: [{ type: 'dense', units: 6, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' });
    const { target: _target, ...preprocessing } = PENGUIN_PREPROCESSING;
    const meta = { features: PENGUIN_FEATURES, targets: ['Species'], classes: ['Adelie', 'Chinstrap', 'Gentoo'], preprocessing, evaluation: null };
    const exported = JSON.parse(JSON.stringify(toModelJson(serializeModel(net), meta)));
    expect(exported).toEqual({ format: 'backprop-service/model@1', dtype: 'float32', spec: net.spec, weights: serializeModel(net).weights, ...meta });
    const rebuilt = deserializeModel(fromModelJson(exported));
    const x = inputs(net);
    expect(rebuilt.predict(x, ROWS)).toEqual(net.predict(x, ROWS));
  });

  it('keeps the older form of preprocessing as it was', () => {
    const net = network({ inputSize: 4, layers: [{ type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' });
    const preprocessing = { standardize: true, mean: [5.8, 3.1, 3.8, 1.2], std: [0.8, 0.4, 1.8, 0.75] };
    const exported = toModelJson(serializeModel(net), { features: ['a', 'b', 'c', 'd'], targets: ['species'], classes: ['x', 'y', 'z'], preprocessing });
    expect(exported.preprocessing).toEqual(preprocessing);
    expect(exported).not.toHaveProperty('evaluation');
  });
});
