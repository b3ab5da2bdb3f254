// Exported models must predict in TensorFlow.js exactly what the engine predicts (float32 rounding aside).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyPreprocessing } from '../../src/data/standardize.js';
import { createNetwork, deserializeModel, Rng, serializeModel, type ActivationName, type DType, type ModelSpec, type Network } from '../../src/engine/index.js';
import { fromModelJson, toModelJson } from '../../src/export/model-json.js';
import { ExportError, toTfjsLayers, type TfjsExportMeta, type TfjsLayersExport } from '../../src/export/tfjs-layers.js';

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

  it('folds standardization into the first layer, so the exported model takes raw features like POST predict', async () => {
    const net = network({ inputSize: 4, layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' });
    const preprocessing = { standardize: true, mean: [5.8, 3.1, 3.8, 1.2], std: [0.8, 0.4, 1.8, 0.75] };
    const model = await loadTfjs(toTfjsLayers(serializeModel(net), { preprocessing }));
    const raw = Float32Array.from(inputs(net), (v, i) => preprocessing.mean[i % 4] + 2 * v);
    const expected = net.predict(applyPreprocessing(preprocessing, raw.slice(), 4), ROWS);
    const actual = await tfjsPredict(model, net, raw);
    expect(Math.max(...expected.map((v, i) => Math.abs(v - actual[i])))).toBeLessThan(1e-5);
    model.dispose();
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

  it('refuses a recurrent layer with leakyRelu, which TensorFlow.js has no activation for', () => {
    const net = network({ inputSize: 2, sequenceLength: 3, layers: [{ type: 'rnn', units: 3, activation: 'leakyRelu' }, { type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' });
    expect(() => toTfjsLayers(serializeModel(net))).toThrow(ExportError);
    expect(() => toTfjsLayers(serializeModel(net))).toThrow(/layer 0 \(rnn\).*leakyRelu/);
  });
});

describe('JSON export', () => {
  it('carries spec, weights, preprocessing and classes, and rebuilds the same network', () => {
    const net = network({ inputSize: 4, layers: [{ type: 'dense', units: 6, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' });
    const meta = { features: ['a', 'b', 'c', 'd'], targets: ['species'], classes: ['x', 'y', 'z'], preprocessing: { standardize: false } };
    const exported = JSON.parse(JSON.stringify(toModelJson(serializeModel(net), meta)));
    expect(exported).toMatchObject({ format: 'backprop-service/model@1', dtype: 'float32', spec: net.spec, ...meta });
    const rebuilt = deserializeModel(fromModelJson(exported));
    const x = inputs(net);
    expect(rebuilt.predict(x, ROWS)).toEqual(net.predict(x, ROWS));
  });
});
