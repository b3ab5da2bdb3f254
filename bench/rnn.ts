/**
 * The recurrent workload of `npm run bench:engine`: sequences of 50 steps x 8 features, one recurrent layer of 32
 * units (simple rnn, then lstm) and a 4-class softmax head, Adam, batch 32. Trained with our engine and with
 * tfjs-layers (tf.layers.simpleRNN / tf.layers.lstm, 'cpu' backend) on the same data in the same process.
 */
import * as tf from '@tensorflow/tfjs';
import { createNetwork, Rng, Trainer, type ModelSpec } from '../src/engine/index.js';
import { markdownTable } from './markdown-table.js';
import type { Float32Dataset } from './training-setup.js';

export const RNN_STEPS = 50;
export const RNN_UNITS = 32;
export const RNN_BATCH = 32;
const FEATURES = 8;
const CLASSES = 4;
const ROWS = 512;
const EPOCHS = 2;
/** One short untimed epoch first, so neither side is timed compiling or allocating its first batch. */
const WARMUP_ROWS = 64;
const LEARNING_RATE = 0.001;
const SEED = 1;

type Cell = 'rnn' | 'lstm';

export interface RecurrentRun {
  cell: Cell;
  ours: number;
  tfjs: number;
}

/** Random sequences labelled by which quarter of the range the sum of their first feature falls in. */
export function sequences(rows: number, seed: number): Float32Dataset {
  const rng = new Rng(seed);
  const inputs = new Float32Array(rows * RNN_STEPS * FEATURES).map(() => rng.next() * 2 - 1);
  const targets = new Float32Array(rows * CLASSES);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let t = 0; t < RNN_STEPS; t++) sum += inputs[(r * RNN_STEPS + t) * FEATURES];
    const z = sum / Math.sqrt(RNN_STEPS / 3); // about unit variance
    targets[r * CLASSES + (z < -0.67 ? 0 : z < 0 ? 1 : z < 0.67 ? 2 : 3)] = 1;
  }
  return { inputs, targets, rows };
}

function trainOurs(cell: Cell, data: Float32Dataset, warmup: Float32Dataset): number {
  const spec: ModelSpec = {
    inputSize: FEATURES,
    sequenceLength: RNN_STEPS,
    layers: [
      { type: cell, units: RNN_UNITS },
      { type: 'dense', units: CLASSES, activation: 'softmax' },
    ],
    loss: 'categoricalCrossEntropy',
  };
  const network = createNetwork(spec, SEED);
  const options = { optimizer: { type: 'adam', learningRate: LEARNING_RATE }, batchSize: RNN_BATCH, seed: SEED } as const;
  new Trainer(network, warmup, { ...options, epochs: 1 }).fit();
  const trainer = new Trainer(network, data, { ...options, epochs: EPOCHS });
  const started = performance.now();
  trainer.fit();
  return (data.rows * EPOCHS) / ((performance.now() - started) / 1000);
}

async function trainTfjs(cell: Cell, data: Float32Dataset, warmup: Float32Dataset): Promise<number> {
  const model = tf.sequential();
  const recurrent = { units: RNN_UNITS, inputShape: [RNN_STEPS, FEATURES] };
  model.add(cell === 'lstm' ? tf.layers.lstm(recurrent) : tf.layers.simpleRNN(recurrent));
  model.add(tf.layers.dense({ units: CLASSES, activation: 'softmax' }));
  model.compile({ optimizer: tf.train.adam(LEARNING_RATE), loss: 'categoricalCrossentropy' });
  const tensors = (d: Float32Dataset) => [tf.tensor3d(d.inputs, [d.rows, RNN_STEPS, FEATURES]), tf.tensor2d(d.targets, [d.rows, CLASSES])];
  const [xs, ys] = tensors(data);
  const [warmXs, warmYs] = tensors(warmup);
  const fit = { batchSize: RNN_BATCH, shuffle: true, verbose: 0, yieldEvery: 'never' } as const;
  try {
    await model.fit(warmXs, warmYs, { ...fit, epochs: 1 });
    const started = performance.now();
    await model.fit(xs, ys, { ...fit, epochs: EPOCHS });
    return (data.rows * EPOCHS) / ((performance.now() - started) / 1000);
  } finally {
    tf.dispose([xs, ys, warmXs, warmYs]);
    model.dispose();
  }
}

/** Runs both cells in both implementations; progress goes to `progress`. */
export async function benchRecurrent(progress: (message: string) => void): Promise<RecurrentRun[]> {
  if (!(await tf.setBackend('cpu'))) throw new Error("tfjs backend 'cpu' failed to initialize");
  await tf.ready();
  const data = sequences(ROWS, SEED);
  const warmup = sequences(WARMUP_ROWS, SEED + 1);
  const runs: RecurrentRun[] = [];
  for (const cell of ['rnn', 'lstm'] as const) {
    progress(`training a ${cell} with our engine`);
    const ours = trainOurs(cell, data, warmup);
    progress(`training a ${cell} with tfjs, backend 'cpu'`);
    const tfjs = await trainTfjs(cell, data, warmup);
    runs.push({ cell, ours, tfjs });
  }
  return runs;
}

/** The markdown section bench/engine.ts prints. */
export function recurrentReport(runs: RecurrentRun[]): string[] {
  const rate = (v: number) => Math.round(v).toLocaleString('en-US');
  return [
    `## Recurrent workload: sequence length ${RNN_STEPS}, ${RNN_UNITS} units, batch ${RNN_BATCH}`,
    '',
    `${ROWS} random sequences of ${RNN_STEPS} steps x ${FEATURES} features, one recurrent layer of ${RNN_UNITS} units ` +
      `(tanh) and a ${CLASSES}-class softmax head, categorical cross-entropy, Adam lr ${LEARNING_RATE}, ${EPOCHS} epochs ` +
      `after one untimed ${WARMUP_ROWS}-row epoch. Ours clips the gradient norm at 5 (the recurrent default); tfjs does not clip. ` +
      `samples/s = rows x epochs / wall time of the fit call.`,
    '',
    ...markdownTable(
      ['layer', 'ours samples/s (float32)', "tfjs 4.22 'cpu' samples/s", 'ratio ours/tfjs'],
      runs.map((r) => [
        r.cell === 'rnn' ? 'simple rnn (tf.layers.simpleRNN)' : 'lstm (tf.layers.lstm)',
        rate(r.ours),
        rate(r.tfjs),
        `${(r.ours / r.tfjs).toFixed(2)}x`,
      ]),
    ),
  ];
}
