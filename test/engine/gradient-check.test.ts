import { describe, expect, it } from 'vitest';
import {
  ACTIVATION_NAMES,
  createNetwork,
  LOSS_NAMES,
  Rng,
  type ActivationName,
  type LossName,
  type ModelSpec,
  type Network,
} from '../../src/engine/index.js';

/** The output activation each loss is defined on; meanSquaredError takes any. */
const OUTPUT_FOR: Record<LossName, ActivationName | null> = {
  meanSquaredError: null,
  binaryCrossEntropy: 'sigmoid',
  categoricalCrossEntropy: 'softmax',
};

function targetsFor(loss: LossName, rows: number, width: number, rng: Rng): Float64Array {
  const y = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    if (loss === 'categoricalCrossEntropy') y[r * width + rng.below(width)] = 1;
    else for (let j = 0; j < width; j++) y[r * width + j] = loss === 'binaryCrossEntropy' ? rng.below(2) : rng.next() * 2 - 1;
  }
  return y;
}

/**
 * Central differences in float64 against the analytic gradient of every weight and bias
 * (the helper_test_op idea from tinygrad: one table-driven checker for every combination).
 */
function worstRelativeError(network: Network, x: Float64Array, y: Float64Array, rows: number): number {
  network.lossAndGradients(x, y, rows);
  const analytic = network.gradients().map((g) => Float64Array.from(g));
  const h = 1e-5;
  let worst = 0;
  network.parameters().forEach((p, t) => {
    for (let i = 0; i < p.length; i++) {
      const saved = p[i];
      p[i] = saved + h;
      const plus = network.evaluate(x, y, rows);
      p[i] = saved - h;
      const minus = network.evaluate(x, y, rows);
      p[i] = saved;
      const numeric = (plus - minus) / (2 * h);
      const a = analytic[t][i];
      // Gradients below 1e-7 carry no signal at this step size; compare them on an absolute scale.
      const rel = Math.abs(a - numeric) / Math.max(Math.abs(a), Math.abs(numeric), 1e-7);
      worst = Math.max(worst, rel);
    }
  });
  return worst;
}

describe('gradient check (float64, central differences)', () => {
  const cases: [LossName, ActivationName][] = LOSS_NAMES.flatMap((loss) => ACTIVATION_NAMES.map((act) => [loss, act] as [LossName, ActivationName]));

  it.each(cases)('%s with a %s hidden layer', (loss, activation) => {
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
    // Non-zero biases so every bias gradient is exercised away from the symmetric start.
    for (const layer of network.layers) for (let i = 0; i < layer.bias.length; i++) layer.bias[i] = rng.next() - 0.5;
    const rows = 6;
    const x = new Float64Array(rows * 3).map(() => rng.next() * 4 - 2);
    const y = targetsFor(loss, rows, 3, rng);
    expect(worstRelativeError(network, x, y, rows)).toBeLessThan(1e-6);
  });
});
