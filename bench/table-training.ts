/**
 * One prepared table (bench/real-tables.ts) trained by our engine as the worker trains it, by tfjs with the same
 * layers, initializers, optimizer, learning rate, batch size, epochs, split and per-epoch validation loss, and
 * answered by the baseline a model must beat; every one judged on the same held-out rows with the service's figures.
 */
import * as tf from '@tensorflow/tfjs';
import type { Evaluation } from '../src/contracts/evaluation.js';
import { createNetwork, outputUnits, Trainer, type DenseLayerSpec } from '../src/engine/index.js';
import { evaluateClassification } from '../src/evaluation/classification.js';
import { judge } from '../src/evaluation/judge.js';
import { evaluateRegression } from '../src/evaluation/regression.js';
import type { PreparedTable } from './real-tables.js';

export interface TableRun {
  /** Held-out accuracy (classification) or RMSE in the target's units (regression). */
  metric: number;
  /** Wall time of the training call alone (fit), validation loss per epoch included. */
  trainMs: number;
}

/** Accuracy, or the first target's RMSE. */
function metricOf(evaluation: Evaluation | null): number {
  if (!evaluation) throw new Error('nothing to judge: the validation split is empty');
  return evaluation.kind === 'classification' ? evaluation.accuracy : evaluation.targets[0].rmse;
}

/** The trainer and figures of src/worker/processor.ts: a fresh network, Trainer.fit, judged on the validation split. */
export function trainOurs(table: PreparedTable): TableRun {
  const network = createNetwork(table.spec, table.training.seed);
  const trainer = new Trainer(network, table.dataset, table.training);
  const started = performance.now();
  trainer.fit();
  const trainMs = performance.now() - started;
  return { metric: metricOf(judge(network, table.dataset, table.evaluation, table.split.validation, 'validation')), trainMs };
}

/** rows of a row-major matrix `width` wide, gathered in order. */
function gather(values: Float32Array, width: number, rows: Uint32Array): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((row, i) => out.set(values.subarray(row * width, (row + 1) * width), i * width));
  return out;
}

/** Held-out figures of outputs for the validation rows, as judge computes them (regression back in target units). */
function judgeOutputs(table: PreparedTable, predictions: Float32Array): Evaluation {
  const width = outputUnits(table.spec.layers);
  const targets = gather(table.dataset.targets, width, table.split.validation);
  const context = table.evaluation;
  if (context.kind === 'classification') return evaluateClassification(predictions, targets, context.labels, 'validation');
  if (context.scale) {
    const { center, scale } = context.scale;
    for (let i = 0; i < predictions.length; i++) {
      predictions[i] = predictions[i] * scale[i % width] + center[i % width];
      targets[i] = targets[i] * scale[i % width] + center[i % width];
    }
  }
  return evaluateRegression(predictions, targets, context.names, 'validation');
}

/**
 * The same network in tfjs-layers on its pure-JS 'cpu' backend: He-normal relu kernels and Glorot-uniform output
 * kernels as our defaults, zero biases, Adam with our beta1, beta2 and epsilon, shuffled every epoch (tfjs shuffles
 * with Math.random, so its runs differ), the validation rows passed as validationData so both compute a
 * validation loss per epoch, as the service's training does.
 */
export async function trainTfjs(table: PreparedTable): Promise<TableRun> {
  await tf.setBackend('cpu');
  const { spec, training, split, dataset } = table;
  const inputs = spec.inputSize;
  const [hidden, output] = spec.layers as DenseLayerSpec[];
  const outputs = output.units;
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [inputs], units: hidden.units, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: training.seed }) }),
      tf.layers.dense({
        units: outputs,
        activation: spec.loss === 'categoricalCrossEntropy' ? 'softmax' : 'linear',
        kernelInitializer: tf.initializers.glorotUniform({ seed: training.seed }),
      }),
    ],
  });
  model.compile({
    optimizer: tf.train.adam(training.optimizer.learningRate, 0.9, 0.999, 1e-7),
    loss: spec.loss === 'categoricalCrossEntropy' ? 'categoricalCrossentropy' : 'meanSquaredError',
  });
  const tensor = (values: Float32Array, rows: Uint32Array, width: number) => tf.tensor2d(gather(values, width, rows), [rows.length, width]);
  const xs = tensor(dataset.inputs, split.train, inputs);
  const ys = tensor(dataset.targets, split.train, outputs);
  const validationXs = tensor(dataset.inputs, split.validation, inputs);
  const validationYs = tensor(dataset.targets, split.validation, outputs);
  try {
    const started = performance.now();
    await model.fit(xs, ys, {
      epochs: training.epochs,
      batchSize: training.batchSize,
      shuffle: true,
      validationData: [validationXs, validationYs],
      verbose: 0,
      yieldEvery: 'never',
    });
    const trainMs = performance.now() - started;
    const predicted = model.predict(validationXs) as tf.Tensor;
    const predictions = Float32Array.from(await predicted.data());
    predicted.dispose();
    return { metric: metricOf(judgeOutputs(table, predictions)), trainMs };
  } finally {
    tf.dispose([xs, ys, validationXs, validationYs]);
    model.dispose();
  }
}

/**
 * The answer a model must beat, from the training rows alone: the majority class, or the training mean of the
 * target; judged on the validation rows with the same figures.
 */
export function baseline(table: PreparedTable): number {
  const width = outputUnits(table.spec.layers);
  const { targets } = table.dataset;
  const constant = new Float32Array(width);
  for (const row of table.split.train) {
    for (let k = 0; k < width; k++) constant[k] += targets[row * width + k];
  }
  if (table.evaluation.kind === 'classification') {
    const majority = constant.indexOf(Math.max(...constant));
    constant.fill(0);
    constant[majority] = 1;
  } else {
    for (let k = 0; k < width; k++) constant[k] /= table.split.train.length;
  }
  const predictions = new Float32Array(table.split.validation.length * width);
  for (let i = 0; i < table.split.validation.length; i++) predictions.set(constant, i * width);
  return metricOf(judgeOutputs(table, predictions));
}
