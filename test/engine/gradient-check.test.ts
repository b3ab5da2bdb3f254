import { describe, expect, it } from 'vitest';
import {
  ACTIVATION_NAMES,
  createNetwork,
  LOSS_NAMES,
  Rng,
  type ActivationName,
  type LossName,
  type ModelSpec,
} from '../../src/engine/index.js';
import { OUTPUT_FOR, randomizeBiases, randomRowWeights, targetsFor, worstRelativeError } from '../helpers/finite-differences.js';

describe('gradient check (float64, central differences)', () => {
  // Every loss x hidden activation, unweighted and with non-uniform sample weights (one of them 0).
  const cases: [LossName, ActivationName, boolean][] = LOSS_NAMES.flatMap((loss) =>
    ACTIVATION_NAMES.flatMap((act) => [false, true].map((weighted) => [loss, act, weighted] as [LossName, ActivationName, boolean])),
  );

  it.each(cases)('%s with a %s hidden layer, row weights %s', (loss, activation, weighted) => {
    const rng = new Rng(1234);
    const output = OUTPUT_FOR[loss] ?? activation;
    const spec: ModelSpec = {
      inputSize: 3,
      layers: [
        { type: 'dense', units: 5, activation },
        { type: 'dense', units: 4, activation: 'tanh' },
        { type: 'dense', units: 3, activation: output },
      ],
      loss,
    };
    const network = createNetwork(spec, 99, 'float64');
    randomizeBiases(network, rng);
    const rows = 6;
    const x = new Float64Array(rows * 3).map(() => rng.next() * 4 - 2);
    const y = targetsFor(loss, rows, 3, rng);
    const weights = weighted ? randomRowWeights(rows, rng) : null;
    expect(worstRelativeError(network, x, y, rows, undefined, weights)).toBeLessThan(1e-6);
  });

  // Dropout between dense layers, each loss, with the masks held fixed (the same seeded draws for every pass).
  it.each(LOSS_NAMES)('%s with dropout after each hidden layer, masks held fixed', (loss) => {
    const rng = new Rng(1234);
    const spec: ModelSpec = {
      inputSize: 3,
      layers: [
        { type: 'dense', units: 6, activation: 'tanh' },
        { type: 'dropout', rate: 0.5 },
        { type: 'dense', units: 5, activation: 'relu' },
        { type: 'dropout', rate: 0.2 },
        { type: 'dense', units: 3, activation: OUTPUT_FOR[loss] ?? 'linear' },
      ],
      loss,
    };
    const network = createNetwork(spec, 99, 'float64');
    randomizeBiases(network, rng);
    const rows = 6;
    const x = new Float64Array(rows * 3).map(() => rng.next() * 4 - 2);
    const y = targetsFor(loss, rows, 3, rng);
    expect(worstRelativeError(network, x, y, rows, undefined, randomRowWeights(rows, rng), () => new Rng(7))).toBeLessThan(1e-6);
  });
});
