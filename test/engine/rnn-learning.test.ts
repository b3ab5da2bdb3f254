import { describe, expect, it } from 'vitest';
import {
  createNetwork,
  DEFAULT_RECURRENT_CLIP_NORM,
  deserializeModel,
  Rng,
  serializeModel,
  Trainer,
  type Dataset,
  type LayerSpec,
  type ModelSpec,
  type Network,
  type TrainingOptions,
} from '../../src/engine/index.js';
import { threeClassData, uninterruptedAndResumed, weightsOf } from '../helpers/determinism.js';

const mse = (out: ArrayLike<number>, y: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += (out[i] - y[i]) ** 2;
  return sum / y.length;
};

function fit(spec: ModelSpec, data: Dataset, options: Partial<TrainingOptions> = {}): Network {
  const network = createNetwork(spec, 7);
  new Trainer(network, data, { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 20, batchSize: 32, seed: 7, ...options }).fit();
  return network;
}

/**
 * Windows of a noisy sine, sin(0.4 t + phase) + N(0, 0.1²), with a random phase per window: the previous 20 values
 * as a sequence, the last of them alone, and the next value as the target. From one value the phase is ambiguous
 * (rising or falling?); from 20 it is not.
 */
function sineWindows(rows: number, seed: number) {
  const window = 20;
  const rng = new Rng(seed);
  const sequences = new Float32Array(rows * window);
  const last = new Float32Array(rows);
  const next = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const phase = rng.next() * 2 * Math.PI;
    for (let t = 0; t <= window; t++) {
      const value = Math.sin(0.4 * t + phase) + 0.1 * rng.normal();
      if (t < window) sequences[r * window + t] = value;
      else next[r] = value;
    }
    last[r] = sequences[r * window + window - 1];
  }
  return { window, sequences: { inputs: sequences, targets: next, rows }, last: { inputs: last, targets: next, rows } };
}

/** Every 8-bit sequence (one bit per step) and whether it holds an even number of ones. */
function parityData(): Dataset {
  const bits = 8;
  const inputs = new Float32Array(256 * bits);
  const targets = new Float32Array(256);
  for (let v = 0; v < 256; v++) {
    let ones = 0;
    for (let b = 0; b < bits; b++) {
      inputs[v * bits + b] = (v >> b) & 1;
      ones += (v >> b) & 1;
    }
    targets[v] = ones % 2 === 0 ? 1 : 0;
  }
  return { inputs, targets, rows: 256 };
}

function subset(data: Dataset, rows: Uint32Array): Dataset {
  const inWidth = data.inputs.length / data.rows;
  const outWidth = data.targets.length / data.rows;
  const inputs = new Float32Array(rows.length * inWidth);
  const targets = new Float32Array(rows.length * outWidth);
  rows.forEach((r, i) => {
    inputs.set(data.inputs.subarray(r * inWidth, (r + 1) * inWidth), i * inWidth);
    targets.set(data.targets.subarray(r * outWidth, (r + 1) * outWidth), i * outWidth);
  });
  return { inputs, targets, rows: rows.length };
}

const PARITY_SPEC: ModelSpec = {
  inputSize: 1,
  sequenceLength: 8,
  layers: [
    { type: 'lstm', units: 8 },
    { type: 'dense', units: 1, activation: 'sigmoid' },
  ],
  loss: 'binaryCrossEntropy',
};

describe('recurrent networks learn tasks that need memory', () => {
  it('noisy sine, next value from the previous 20: an rnn beats the best dense network given only the last value', () => {
    const train = sineWindows(1000, 1);
    const test = sineWindows(500, 2);
    const rnn = fit(
      {
        inputSize: 1,
        sequenceLength: train.window,
        layers: [
          { type: 'rnn', units: 16 },
          { type: 'dense', units: 1, activation: 'linear' },
        ],
        loss: 'meanSquaredError',
      },
      train.sequences,
    );
    const rnnMse = mse(rnn.predict(test.sequences.inputs, test.sequences.rows), test.sequences.targets);
    const denseHeads: LayerSpec[][] = [[], [{ type: 'dense', units: 16, activation: 'tanh' }], [{ type: 'dense', units: 32, activation: 'relu' }]];
    const denseMse = denseHeads.map((hidden) => {
      const spec: ModelSpec = { inputSize: 1, layers: [...hidden, { type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' };
      const dense = fit(spec, train.last, { epochs: 60 });
      return mse(dense.predict(test.last.inputs, test.last.rows), test.last.targets);
    });
    const bestDense = Math.min(...denseMse);
    // The noise alone costs 0.01; from one value, about sin²(0.4)/2 + noise ≈ 0.09 is the best possible.
    expect(rnnMse).toBeLessThan(0.02);
    expect(bestDense).toBeGreaterThan(0.07);
    expect(rnnMse).toBeLessThan(bestDense / 4);
  });

  it('even parity of 8 bits: >= 95% accuracy on 64 sequences never seen in training', () => {
    const data = parityData();
    const order = new Uint32Array(256).map((_, i) => i);
    new Rng(8).shuffle(order);
    const train = subset(data, order.subarray(0, 192));
    const test = subset(data, order.subarray(192));
    const network = createNetwork(PARITY_SPEC, 1);
    const reports = new Trainer(network, train, { optimizer: { type: 'adam', learningRate: 0.02 }, epochs: 100, batchSize: 16, seed: 1 }).fit();
    const out = network.predict(test.inputs, test.rows);
    let correct = 0;
    for (let r = 0; r < test.rows; r++) if (out[r] > 0.5 === test.targets[r] > 0.5) correct++;
    expect(correct / test.rows).toBeGreaterThanOrEqual(0.95);
    expect(reports.at(-1)!.accuracy).toBe(1);
  });

  it('sequence to sequence: returnSequences with a dense layer on every step echoes the input two steps late', () => {
    const steps = 10;
    const echo = (rows: number, seed: number): Dataset => {
      const rng = new Rng(seed);
      const inputs = new Float32Array(rows * steps).map(() => rng.below(2));
      const targets = new Float32Array(rows * steps).map((_, i) => (i % steps >= 2 ? inputs[i - 2] : 0));
      return { inputs, targets, rows };
    };
    const spec: ModelSpec = {
      inputSize: 1,
      sequenceLength: steps,
      layers: [
        { type: 'rnn', units: 8, returnSequences: true },
        { type: 'dense', units: 1, activation: 'sigmoid' },
      ],
      loss: 'binaryCrossEntropy',
    };
    const network = fit(spec, echo(512, 1), { optimizer: { type: 'adam', learningRate: 0.02 } });
    const test = echo(256, 2);
    const out = network.predict(test.inputs, test.rows);
    expect(out.length).toBe(256 * steps);
    let correct = 0;
    for (let i = 0; i < out.length; i++) if (out[i] > 0.5 === test.targets[i] > 0.5) correct++;
    expect(correct / out.length).toBeGreaterThanOrEqual(0.99);
  });
});

describe('recurrent determinism', () => {
  const spec: ModelSpec = {
    inputSize: 2,
    sequenceLength: 6,
    layers: [
      { type: 'lstm', units: 6, returnSequences: true },
      { type: 'rnn', units: 5 },
      { type: 'dense', units: 3, activation: 'softmax' },
    ],
    loss: 'categoricalCrossEntropy',
  };
  // 6 steps x 2 inputs; the class depends on the first and the last value of the sequence.
  const data = threeClassData(120, 12, 11, (x, o) => x[o] + x[o + 11]);
  const options: TrainingOptions = {
    optimizer: { type: 'adam', learningRate: 0.01 },
    epochs: 8,
    batchSize: 16,
    validationSplit: 0.2,
    seed: 5,
    weightDecay: 1e-4,
    bpttSteps: 4,
    earlyStopping: { patience: 20, restoreBestWeights: true },
  };

  it('the same seed gives byte-identical weights; another seed does not', () => {
    const run = (seed: number) => {
      const network = createNetwork(spec, seed);
      new Trainer(network, data, options).fit();
      return weightsOf(network);
    };
    expect(run(1)).toBe(run(1));
    expect(run(2)).not.toBe(run(1));
  });

  for (const optimizer of [options.optimizer, { type: 'sgd', learningRate: 0.1, momentum: 0.9 }] as const) {
    it(`checkpoint at epoch k + resume equals the uninterrupted run (${optimizer.type})`, () => {
      const { full, fullReports, resumed } = uninterruptedAndResumed(spec, data, { ...options, optimizer }, 3);
      const rest = resumed.fit();
      expect(weightsOf(resumed.network)).toBe(weightsOf(full.network));
      expect(rest.map((r) => r.loss)).toEqual(fullReports.slice(3).map((r) => r.loss));
    });
  }

  it('serializes kernel, recurrentKernel and bias bit for bit in float32 and float64', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const network = createNetwork(spec, 9, dtype);
      const json = JSON.parse(JSON.stringify(serializeModel(network)));
      expect(Object.keys(json.weights[0])).toEqual(['kernel', 'recurrentKernel', 'bias']);
      expect(Object.keys(json.weights[2])).toEqual(['kernel', 'bias']);
      const copy = deserializeModel(json);
      expect(JSON.stringify(serializeModel(copy))).toBe(JSON.stringify(serializeModel(network)));
      const x = data.inputs.subarray(0, 7 * 12);
      expect(Array.from(copy.predict(x, 7))).toEqual(Array.from(network.predict(x, 7)));
    }
  });

  it(`clips the global gradient norm at ${DEFAULT_RECURRENT_CLIP_NORM} unless clipNorm is set`, () => {
    // Targets 100 times too large: gradient norms far above the default threshold.
    const regression: ModelSpec = { ...spec, layers: [...spec.layers.slice(0, 2), { type: 'dense', units: 3, activation: 'linear' }], loss: 'meanSquaredError' };
    const big = { ...data, targets: data.targets.map((v) => v * 100) };
    const run = (clipNorm?: number) => {
      const network = createNetwork(regression, 1);
      new Trainer(network, big, { optimizer: { type: 'sgd', learningRate: 0.001 }, epochs: 1, batchSize: 16, seed: 1, clipNorm }).fit();
      return weightsOf(network);
    };
    expect(run()).toBe(run(DEFAULT_RECURRENT_CLIP_NORM));
    expect(run()).not.toBe(run(1e9));
  });
});
