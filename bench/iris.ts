/**
 * Iris 4-16-3 (sigmoid hidden layer, softmax output): the small-network case, where per-step overhead rather
 * than arithmetic decides. Our engine at batch 1 and batch 16 against brain.js (which trains one sample at a
 * time) and tfjs 'cpu', same data, same epochs, in one run.
 */
import * as tf from '@tensorflow/tfjs';
import brain from 'brain.js';
import { createNetwork, Trainer } from '../src/engine/index.js';
import { irisRows } from '../test/helpers/iris.js';
import { argmaxAccuracy } from './argmax-accuracy.js';

const EPOCHS = 200;
const HIDDEN = 16;
const LEARNING_RATE = 0.1;

export interface IrisRun {
  name: string;
  samplesPerSecond: number;
  accuracy: number;
}

export function irisData() {
  const { features, species } = irisRows();
  const classes = [...new Set(species)];
  const mean = [0, 1, 2, 3].map((j) => features.reduce((s, r) => s + r[j], 0) / features.length);
  const std = [0, 1, 2, 3].map((j) => Math.sqrt(features.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / features.length));
  const x = features.map((r) => r.map((v, j) => (v - mean[j]) / std[j]));
  const y = species.map((s) => classes.map((c) => (c === s ? 1 : 0)));
  return { x, y, rows: x.length };
}

/** Argmax accuracy of `predict`, called row by row, against the one-hot species. */
function accuracyOf(predict: (row: number[]) => ArrayLike<number>, x: number[][], y: number[][]): number {
  return argmaxAccuracy(x.flatMap((row) => Array.from(predict(row))), y.flat(), x.length, y[0].length);
}

function ours(batchSize: number): IrisRun {
  const { x, y, rows } = irisData();
  const network = createNetwork(
    {
      inputSize: 4,
      layers: [
        { type: 'dense', units: HIDDEN, activation: 'sigmoid' },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      loss: 'categoricalCrossEntropy',
    },
    1,
  );
  const data = { inputs: Float32Array.from(x.flat()), targets: Float32Array.from(y.flat()), rows };
  const trainer = new Trainer(network, data, {
    optimizer: { type: 'sgd', learningRate: LEARNING_RATE, momentum: 0.9 },
    epochs: EPOCHS,
    batchSize,
    seed: 1,
  });
  const started = performance.now();
  trainer.fit();
  const seconds = (performance.now() - started) / 1000;
  return {
    name: `ours, batch ${batchSize}`,
    samplesPerSecond: (rows * EPOCHS) / seconds,
    accuracy: accuracyOf((row) => network.predict(Float32Array.from(row), 1), x, y),
  };
}

function brainJs(): IrisRun {
  const { x, y, rows } = irisData();
  const net = new brain.NeuralNetwork({ hiddenLayers: [HIDDEN], activation: 'sigmoid' });
  const samples = x.map((input, i) => ({ input, output: y[i] }));
  const started = performance.now();
  net.train(samples, { iterations: EPOCHS, errorThresh: 1e-9, learningRate: LEARNING_RATE, momentum: 0.9 });
  const seconds = (performance.now() - started) / 1000;
  return {
    name: 'brain.js 1.6 (batch 1)',
    samplesPerSecond: (rows * EPOCHS) / seconds,
    accuracy: accuracyOf((row) => net.run(row) as ArrayLike<number>, x, y),
  };
}

async function tfjsCpu(batchSize: number): Promise<IrisRun> {
  await tf.setBackend('cpu');
  const { x, y, rows } = irisData();
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: HIDDEN, activation: 'sigmoid' }),
      tf.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.momentum(LEARNING_RATE, 0.9), loss: 'categoricalCrossentropy' });
  const xs = tf.tensor2d(x);
  const ys = tf.tensor2d(y);
  // tfjs at batch 1 is far too slow for 200 epochs; 20 epochs give a stable rate.
  const epochs = batchSize === 1 ? 5 : 40;
  const started = performance.now();
  await model.fit(xs, ys, { epochs, batchSize, shuffle: true, verbose: 0, yieldEvery: 'never' });
  const seconds = (performance.now() - started) / 1000;
  const predictions = (await (model.predict(xs) as tf.Tensor).array()) as number[][];
  xs.dispose();
  ys.dispose();
  return {
    name: `tfjs 'cpu', batch ${batchSize} (${epochs} epochs)`,
    samplesPerSecond: (rows * epochs) / seconds,
    accuracy: accuracyOf((_row) => predictions.shift()!, x, y),
  };
}

/** Rounds of ours and brain.js, interleaved: a run lasts a fraction of a second, so one noisy moment moves one. */
const ROUNDS = 7;

/** The run with the median rate among runs of the same implementation. */
function median(runs: IrisRun[]): IrisRun {
  return [...runs].sort((a, b) => a.samplesPerSecond - b.samplesPerSecond)[runs.length >> 1];
}

export async function benchIris(): Promise<{ runs: IrisRun[]; rounds: number }> {
  // Warm-up so the JIT has seen every path before anything is timed.
  ours(1);
  ours(16);
  brainJs();
  const rounds: IrisRun[][] = [[], [], []];
  for (let round = 0; round < ROUNDS; round++) {
    rounds[0].push(ours(1));
    rounds[1].push(ours(16));
    rounds[2].push(brainJs());
  }
  return { runs: [...rounds.map(median), await tfjsCpu(1), await tfjsCpu(16)], rounds: ROUNDS };
}
