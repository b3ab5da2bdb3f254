import { describe, expect, it } from 'vitest';
import {
  createNetwork,
  EngineError,
  LOSS_NAMES,
  Rng,
  splitRows,
  Trainer,
  type Dataset,
  type EpochReport,
  type LossName,
  type ModelSpec,
  type Network,
  type TrainingOptions,
} from '../../src/engine/index.js';
import { uninterruptedAndResumed, weightsOf } from '../helpers/determinism.js';
import { OUTPUT_FOR, randomizeBiases, randomRowWeights, targetsFor } from '../helpers/finite-differences.js';
import { irisDataset as iris } from '../helpers/iris.js';

const irisSpec = (loss: LossName): ModelSpec => ({
  inputSize: 4,
  layers: [
    { type: 'dense', units: 8, activation: 'tanh' },
    { type: 'dense', units: 3, activation: OUTPUT_FOR[loss] ?? 'linear' },
  ],
  loss,
});

/** Sequences of 3 steps of 2 values, classified (or regressed) at every step by an LSTM. */
const seqToSeqSpec = (loss: LossName): ModelSpec => ({
  inputSize: 2,
  sequenceLength: 3,
  layers: [
    { type: 'lstm', units: 4, returnSequences: true },
    { type: 'dense', units: 3, activation: OUTPUT_FOR[loss] ?? 'linear' },
  ],
  loss,
});

const ones = (rows: number) => new Float32Array(rows).fill(1);
const withoutTiming = (reports: EpochReport[]) => reports.map(({ ms: _ms, ...rest }) => rest);
const gradientsOf = (network: Network) => network.gradients().map((g) => Array.from(g));

describe('sample weights: the weighted loss', () => {
  // sum_r w_r · l_r / rows, where l_r is the loss of sample r alone (for seq-to-seq: the mean over its steps).
  const cases = LOSS_NAMES.flatMap((loss) => [false, true].map((sequences) => [loss, sequences] as const));
  it.each(cases)('%s, sequence-to-sequence %s: sum of w_r times the loss of row r alone, over rows', (loss, sequences) => {
    const rng = new Rng(11);
    const network = createNetwork(sequences ? seqToSeqSpec(loss) : irisSpec(loss), 5, 'float64');
    randomizeBiases(network, rng);
    const rows = 7;
    const x = new Float64Array(rows * network.inputWidth).map(() => rng.next() * 4 - 2);
    const y = targetsFor(loss, rows * network.outputSteps, network.outputSize, rng);
    const w = randomRowWeights(rows, rng);
    let expected = 0;
    for (let r = 0; r < rows; r++) {
      const xr = x.subarray(r * network.inputWidth, (r + 1) * network.inputWidth);
      const yr = y.subarray(r * network.outputWidth, (r + 1) * network.outputWidth);
      expected += (w[r] * network.evaluate(xr, yr, 1)) / rows;
    }
    expect(network.evaluate(x, y, rows, w)).toBeCloseTo(expected, 13);
    expect(network.lossAndGradients(x, y, rows, undefined, w)).toBe(network.evaluate(x, y, rows, w));
  });
});

describe('sample weights of 1', () => {
  it.each(LOSS_NAMES)('%s: the loss and every gradient are bit-identical to no weights (Iris, float32)', (loss) => {
    const data = iris();
    const network = createNetwork(irisSpec(loss), 3);
    const unweighted = network.lossAndGradients(data.inputs, data.targets, data.rows);
    const gradients = gradientsOf(network);
    expect(network.lossAndGradients(data.inputs, data.targets, data.rows, undefined, ones(data.rows))).toBe(unweighted);
    expect(gradientsOf(network)).toEqual(gradients);
    expect(network.evaluate(data.inputs, data.targets, data.rows, ones(data.rows))).toBe(unweighted);
  });

  it.each(LOSS_NAMES)('%s, sequence-to-sequence: the loss and every gradient are bit-identical to no weights', (loss) => {
    const rng = new Rng(8);
    const network = createNetwork(seqToSeqSpec(loss), 3);
    const rows = 20;
    const x = new Float32Array(rows * network.inputWidth).map(() => rng.next() * 2 - 1);
    const y = Float32Array.from(targetsFor(loss, rows * network.outputSteps, network.outputSize, rng));
    const unweighted = network.lossAndGradients(x, y, rows);
    const gradients = gradientsOf(network);
    expect(network.lossAndGradients(x, y, rows, undefined, ones(rows))).toBe(unweighted);
    expect(gradientsOf(network)).toEqual(gradients);
  });

  it('training Iris gives bit-identical reports and weights to training without weights', () => {
    const options: TrainingOptions = {
      optimizer: { type: 'adam', learningRate: 0.01 },
      epochs: 15,
      batchSize: 16,
      validationSplit: 0.2,
      seed: 21,
      weightDecay: 1e-4,
      earlyStopping: { patience: 100, restoreBestWeights: true },
    };
    const data = iris();
    const plain = new Trainer(createNetwork(irisSpec('categoricalCrossEntropy'), 4), data, options);
    const weighted = new Trainer(createNetwork(irisSpec('categoricalCrossEntropy'), 4), { ...data, weights: ones(150) }, options);
    expect(withoutTiming(weighted.fit())).toEqual(withoutTiming(plain.fit()));
    expect(weightsOf(weighted.network)).toBe(weightsOf(plain.network));
  });
});

describe('sample weights of 0', () => {
  const fullBatch = (rows: number): TrainingOptions => ({
    optimizer: { type: 'sgd', learningRate: 0.1, momentum: 0.9 },
    epochs: 30,
    batchSize: rows,
    shuffle: false,
    seed: 2,
  });

  it('training on Iris with half its rows weighted 0 (the others 2) equals training on the other half alone', () => {
    // The loss divides by every row of the batch, weight 0 or not: a weight of 2 on the 75 kept rows of 150 makes
    // sum_r w_r · l_r / 150 the mean loss of those 75 rows. Powers of two scale exactly and weight-0 rows add exact
    // zeros to the sums over rows (accumulated in row order), so the runs agree bit for bit.
    const kept = [...Array(150).keys()].filter((r) => r % 2 === 0);
    const weights = new Float32Array(150).map((_, r) => (r % 2 === 0 ? 2 : 0));
    const spec = irisSpec('categoricalCrossEntropy');
    const withZeros = new Trainer(createNetwork(spec, 6, 'float64'), { ...iris(), weights }, fullBatch(150));
    const withoutRows = new Trainer(createNetwork(spec, 6, 'float64'), iris(kept), fullBatch(75));
    const losses = withZeros.fit().map((r) => r.loss);
    expect(losses).toEqual(withoutRows.fit().map((r) => r.loss));
    expect(weightsOf(withZeros.network)).toBe(weightsOf(withoutRows.network));
    expect(losses.at(-1)!).toBeLessThan(losses[0] / 2);
  });

  it('what a weight-0 row holds does not matter: other inputs and targets train to the same weights', () => {
    const data = iris();
    const weights = new Float32Array(150).map((_, r) => (r % 3 === 1 ? 0 : 1));
    const scrambled = { inputs: data.inputs.slice(), targets: data.targets.slice(), rows: 150, weights };
    for (let r = 1; r < 150; r += 3) {
      scrambled.inputs.set([9, -9, 9, -9], r * 4);
      scrambled.targets.set([0, 0, 1], r * 3);
    }
    const spec = irisSpec('categoricalCrossEntropy');
    const a = new Trainer(createNetwork(spec, 6), { ...data, weights }, fullBatch(150));
    const b = new Trainer(createNetwork(spec, 6), scrambled, fullBatch(150));
    expect(a.fit().map((r) => r.loss)).toEqual(b.fit().map((r) => r.loss));
    expect(weightsOf(a.network)).toBe(weightsOf(b.network));
  });
});

describe('sample weights in validation, early stopping and resume', () => {
  const options: TrainingOptions = { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 8, batchSize: 32, validationSplit: 0.2, seed: 9 };
  const spec = irisSpec('categoricalCrossEntropy');

  it('the validation loss is weighted: doubling the validation rows (splitRows) doubles it, exactly', () => {
    const { validation } = splitRows(150, 0.2, 9);
    const weights = ones(150);
    for (const r of validation) weights[r] = 2;
    const plain = new Trainer(createNetwork(spec, 1), iris(), options).fit();
    const weighted = new Trainer(createNetwork(spec, 1), { ...iris(), weights }, options).fit();
    expect(weighted.map((r) => r.loss)).toEqual(plain.map((r) => r.loss));
    expect(weighted.map((r) => r.valLoss)).toEqual(plain.map((r) => 2 * r.valLoss!));
  });

  it('early stopping watches the weighted validation loss: validation rows of weight 0 never improve on 0', () => {
    const { validation } = splitRows(150, 0.2, 9);
    const weights = ones(150);
    for (const r of validation) weights[r] = 0;
    const trainer = new Trainer(createNetwork(spec, 1), { ...iris(), weights }, { ...options, epochs: 50, earlyStopping: { patience: 3 } });
    const reports = trainer.fit();
    expect(reports.map((r) => r.valLoss)).toEqual([0, 0, 0, 0]);
  });

  it('checkpoint and resume with the weights passed again continue bit for bit', () => {
    const weights = new Float32Array(150).map((_, r) => 0.5 + (r % 5) / 2);
    const data = { ...iris(), weights };
    const { full, fullReports, resumed } = uninterruptedAndResumed(spec, data, options, 3);
    expect(withoutTiming(resumed.fit())).toEqual(withoutTiming(fullReports.slice(3)));
    expect(weightsOf(resumed.network)).toBe(weightsOf(full.network));
  });
});

describe('splitRows', () => {
  it('splits every row once, the same way for the same seed', () => {
    const { train, validation } = splitRows(150, 0.2, 9);
    expect(train.length).toBe(120);
    expect(validation.length).toBe(30);
    expect([...train, ...validation].sort((a, b) => a - b)).toEqual([...Array(150).keys()]);
    expect(splitRows(150, 0.2, 9)).toEqual({ train, validation });
    expect(splitRows(150, 0.2, 10).validation).not.toEqual(validation);
    expect(splitRows(4, 0, 9)).toEqual({ train: Uint32Array.of(0, 1, 2, 3), validation: new Uint32Array(0) });
  });
});

describe('bad sample weights', () => {
  const options: TrainingOptions = { optimizer: { type: 'sgd', learningRate: 0.1 }, epochs: 1, batchSize: 8 };
  const attempt = (weights: unknown) => {
    try {
      new Trainer(createNetwork(irisSpec('categoricalCrossEntropy'), 1), { ...iris(), weights } as Dataset, options);
    } catch (err) {
      expect(err).toBeInstanceOf(EngineError);
      return { field: (err as EngineError).field, message: (err as EngineError).message };
    }
    throw new Error('expected an EngineError');
  };
  const at = (r: number, v: number) => new Float32Array(150).fill(1).fill(v, r, r + 1);

  it('refuses a length other than one weight per row', () => {
    expect(attempt(ones(149))).toEqual({ field: 'weights', message: 'weights: expected 150 numbers, one per row, got 149' });
    expect(attempt(null)).toEqual({ field: 'weights', message: 'weights: expected 150 numbers, one per row, got null' });
  });

  it.each([
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [-1, '-1'],
  ])('refuses a weight of %s, naming the row', (value, shown) => {
    expect(attempt(at(7, value))).toEqual({ field: 'weights[7]', message: `weights[7]: expected a finite number >= 0, got ${shown}` });
  });
});
