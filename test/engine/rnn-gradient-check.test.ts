import { describe, expect, it } from 'vitest';
import { createNetwork, Rng, type LayerSpec, type LossName, type ModelSpec, type Network, type RecurrentLayerSpec } from '../../src/engine/index.js';
import { OUTPUT_FOR, randomizeBiases, randomRowWeights, targetsFor, worstRelativeError } from '../helpers/finite-differences.js';

const INPUTS = 3;
const OUTPUTS = 3;
const ROWS = 4;

/** A float64 network with non-zero biases (so every bias gradient is exercised away from the symmetric start). */
function network(recurrent: RecurrentLayerSpec[], steps: number, loss: LossName, hidden: LayerSpec[] = []): Network {
  const spec: ModelSpec = {
    inputSize: INPUTS,
    sequenceLength: steps,
    layers: [...recurrent, ...hidden, { type: 'dense', units: OUTPUTS, activation: OUTPUT_FOR[loss] ?? 'linear' }],
    loss,
  };
  const net = createNetwork(spec, 99, 'float64');
  randomizeBiases(net, new Rng(4321));
  return net;
}

/**
 * A loss summed over many steps carries more rounding noise than a dense network's, and the weight gradients
 * of a long sequence go down to ~1e-6: with h = 1e-5 that noise alone is ~1e-6 of them, so the step is 1e-4
 * (truncation error ~h² = 1e-8 relative).
 */
const STEP = 1e-4;
/**
 * The gru's weights enter the loss through products of two sigmoids and the candidate (u ⊙ h + (1 - u) ⊙ c): at 1e-4
 * the central difference's truncation error on one weight of a 2-step sequence was 7e-6 relative, and at 1e-5 the
 * rounding on gradients of ~1e-6 is as large. The five-point stencil at 1e-3 has both below 1e-7 (3.5e-8 there).
 */
const GRU_STEP = 1e-3;
const isGru = (net: Network) => net.spec.layers.some((l) => l.type === 'gru');

/**
 * Worst relative error over every weight, for a random batch of sequences and targets (per step if seq-to-seq);
 * weighted, with one non-uniform weight per sequence (covering all its steps).
 */
function check(net: Network, weighted = false): number {
  const rng = new Rng(1234);
  const x = new Float64Array(ROWS * net.inputWidth).map(() => rng.next() * 4 - 2);
  const y = targetsFor(net.spec.loss, ROWS * net.outputSteps, OUTPUTS, rng);
  const gru = isGru(net);
  return worstRelativeError(net, x, y, ROWS, gru ? GRU_STEP : STEP, weighted ? randomRowWeights(ROWS, rng) : null, null, gru);
}

describe('gradient check through time (float64, central differences)', () => {
  const lengths = [1, 2, 20];
  const cases = (['rnn', 'lstm', 'gru'] as const).flatMap((type) =>
    lengths.flatMap((steps) => [false, true].map((returnSequences) => [type, steps, returnSequences] as const)),
  );

  it.each(cases)('%s, %i steps, returnSequences %s', (type, steps, returnSequences) => {
    // Sequence-to-one as regression, sequence-to-sequence as per-step classification.
    const loss = returnSequences ? 'categoricalCrossEntropy' : 'meanSquaredError';
    expect(check(network([{ type, units: 4, returnSequences }], steps, loss))).toBeLessThan(1e-6);
  });

  const activations = [
    ['rnn', 'linear'],
    ['rnn', 'sigmoid'],
    ['rnn', 'relu'],
    ['rnn', 'leakyRelu'],
    ['lstm', 'sigmoid'],
    ['lstm', 'linear'],
    ['gru', 'sigmoid'],
    ['gru', 'relu'],
  ] as const;
  it.each(activations)('%s with %s activation, binary cross-entropy', (type, activation) => {
    expect(check(network([{ type, units: 4, activation }], 5, 'binaryCrossEntropy'))).toBeLessThan(1e-6);
  });

  const weightedCases = (['rnn', 'lstm', 'gru'] as const).flatMap((type) =>
    (['meanSquaredError', 'binaryCrossEntropy', 'categoricalCrossEntropy'] as const).flatMap((loss) =>
      [false, true].map((returnSequences) => [type, loss, returnSequences] as const),
    ),
  );
  it.each(weightedCases)('%s, %s with row weights, returnSequences %s', (type, loss, returnSequences) => {
    expect(check(network([{ type, units: 4, returnSequences }], 5, loss), true)).toBeLessThan(1e-6);
  });

  it('rnn feeding an lstm, then a dense hidden layer (input gradients through time)', () => {
    const net = network(
      [{ type: 'rnn', units: 4, returnSequences: true }, { type: 'lstm', units: 3 }],
      6,
      'categoricalCrossEntropy',
      [{ type: 'dense', units: 5, activation: 'tanh' }],
    );
    expect(check(net)).toBeLessThan(1e-6);
  });

  it('gru feeding an lstm, then dropout and a dense hidden layer (masks held fixed)', () => {
    const net = network(
      [{ type: 'gru', units: 4, returnSequences: true }, { type: 'lstm', units: 3 }],
      6,
      'categoricalCrossEntropy',
      [{ type: 'dropout', rate: 0.3 }, { type: 'dense', units: 5, activation: 'tanh' }],
    );
    const rng = new Rng(1234);
    const x = new Float64Array(ROWS * net.inputWidth).map(() => rng.next() * 4 - 2);
    const y = targetsFor(net.spec.loss, ROWS, OUTPUTS, rng);
    expect(worstRelativeError(net, x, y, ROWS, GRU_STEP, null, () => new Rng(3), true)).toBeLessThan(1e-6);
  });

  it('gru returning sequences, dropout, then dense on every step (masks held fixed)', () => {
    const net = network([{ type: 'gru', units: 4, returnSequences: true }], 5, 'binaryCrossEntropy', [{ type: 'dropout', rate: 0.5 }]);
    const rng = new Rng(99);
    const x = new Float64Array(ROWS * net.inputWidth).map(() => rng.next() * 4 - 2);
    const y = targetsFor(net.spec.loss, ROWS * net.outputSteps, OUTPUTS, rng);
    expect(worstRelativeError(net, x, y, ROWS, GRU_STEP, null, () => new Rng(3), true)).toBeLessThan(1e-6);
  });

  it('lstm feeding an rnn, both returning sequences, dense per step', () => {
    const net = network([{ type: 'lstm', units: 3, returnSequences: true }, { type: 'rnn', units: 4, returnSequences: true }], 4, 'binaryCrossEntropy');
    expect(check(net)).toBeLessThan(1e-6);
  });
});

describe('truncated backpropagation through time', () => {
  /** h_t = w_x x_t + w_h h_(t-1) + b, one unit, read out unchanged: every gradient has a closed form. */
  function linearRnn(steps: number): Network {
    const net = createNetwork(
      {
        inputSize: 1,
        sequenceLength: steps,
        layers: [
          { type: 'rnn', units: 1, activation: 'linear' },
          { type: 'dense', units: 1, activation: 'linear' },
        ],
        loss: 'meanSquaredError',
      },
      1,
      'float64',
    );
    const [wx, wh, b, readout, readoutBias] = net.parameters();
    wx[0] = 0.7;
    wh[0] = 0.9;
    b[0] = 0.1;
    readout[0] = 1;
    readoutBias[0] = 0;
    return net;
  }

  it('gradients flow back exactly bpttSteps steps from the last one', () => {
    const steps = 8;
    const k = 3;
    const x = Float64Array.of(0.5, -1, 2, 0.3, -0.7, 1.1, 0.2, -0.4);
    const y = Float64Array.of(0.25);
    const [wx, wh, b] = [0.7, 0.9, 0.1];
    const h: number[] = [];
    for (let t = 0; t < steps; t++) h.push(wx * x[t] + wh * (t > 0 ? h[t - 1] : 0) + b);
    const g = 2 * (h[steps - 1] - y[0]);
    const expected = { wx: 0, wh: 0, b: 0 };
    for (let t = steps - k; t < steps; t++) {
      const decay = wh ** (steps - 1 - t);
      expected.wx += g * decay * x[t];
      expected.wh += g * decay * (t > 0 ? h[t - 1] : 0);
      expected.b += g * decay;
    }
    const net = linearRnn(steps);
    net.lossAndGradients(x, y, 1, k);
    const [dwx, dwh, db] = net.gradients();
    expect(dwx[0]).toBeCloseTo(expected.wx, 12);
    expect(dwh[0]).toBeCloseTo(expected.wh, 12);
    expect(db[0]).toBeCloseTo(expected.b, 12);
  });

  it.each(['lstm', 'gru'] as const)('%s: bpttSteps >= sequenceLength is the full gradient, bit for bit; fewer steps change it', (type) => {
    const steps = 10;
    const gradientsWith = (bpttSteps?: number) => {
      const net = network([{ type, units: 4, returnSequences: true }, { type: 'rnn', units: 3 }], steps, 'meanSquaredError');
      const rng = new Rng(7);
      const x = new Float64Array(ROWS * net.inputWidth).map(() => rng.next() * 2 - 1);
      const y = targetsFor('meanSquaredError', ROWS, OUTPUTS, rng);
      net.lossAndGradients(x, y, ROWS, bpttSteps);
      return net.gradients().map((g) => Array.from(g));
    };
    const full = gradientsWith(undefined);
    expect(gradientsWith(steps)).toEqual(full);
    expect(gradientsWith(1000)).toEqual(full);
    expect(gradientsWith(4)).not.toEqual(full);
  });
});
