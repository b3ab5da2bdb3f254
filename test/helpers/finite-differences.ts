import type { ActivationName, LossName, Network, Rng } from '../../src/engine/index.js';

/** The output activation each loss is defined on; meanSquaredError takes any. */
export const OUTPUT_FOR: Record<LossName, ActivationName | null> = {
  meanSquaredError: null,
  binaryCrossEntropy: 'sigmoid',
  categoricalCrossEntropy: 'softmax',
};

/** Biases uniform in [-0.5, 0.5), so every bias gradient is exercised away from the symmetric start. */
export function randomizeBiases(network: Network, rng: Rng): void {
  for (const layer of network.layers) for (let i = 0; i < layer.bias.length; i++) layer.bias[i] = rng.next() - 0.5;
}

/** Random targets of the kind each loss expects: one-hot rows, 0/1 values, or values in [-1, 1). */
export function targetsFor(loss: LossName, rows: number, width: number, rng: Rng): Float64Array {
  const y = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    if (loss === 'categoricalCrossEntropy') y[r * width + rng.below(width)] = 1;
    else for (let j = 0; j < width; j++) y[r * width + j] = loss === 'binaryCrossEntropy' ? rng.below(2) : rng.next() * 2 - 1;
  }
  return y;
}

/**
 * Non-uniform sample weights, one per row, in [0.25, 3), with row 1 weighted 0: the weighted loss must be
 * differentiated row by row, and a weight-0 row must drop out of it.
 */
export function randomRowWeights(rows: number, rng: Rng): Float64Array {
  const w = new Float64Array(rows).map(() => 0.25 + rng.next() * 2.75);
  if (rows > 1) w[1] = 0;
  return w;
}

/**
 * Central differences in float64 against the analytic gradient of every parameter of the network (the
 * helper_test_op idea from tinygrad: one table-driven checker for every combination). Returns the worst
 * relative error. The step h trades truncation error (h² f''') against rounding: a loss evaluated with
 * ~1e-16 absolute noise gives difference quotients with ~1e-16 / 2h of noise. With weights (one per row), the
 * weighted loss is checked. fivePoint uses the five-point stencil (truncation error ~h⁴ instead of ~h²), for losses
 * whose third derivatives make h² too coarse at a step large enough to stay above rounding. With `masks` (a fresh Rng in one fixed state per call), dropout layers are on and every
 * pass draws the same masks: the gradient is checked with the mask held fixed.
 */
export function worstRelativeError(
  network: Network,
  x: Float64Array,
  y: Float64Array,
  rows: number,
  h = 1e-5,
  weights: Float64Array | null = null,
  masks: (() => Rng) | null = null,
  fivePoint = false,
): number {
  const loss = () => (masks ? network.lossAndGradients(x, y, rows, undefined, weights, masks()) : network.evaluate(x, y, rows, weights));
  network.lossAndGradients(x, y, rows, undefined, weights, masks?.());
  const analytic = network.gradients().map((g) => Float64Array.from(g));
  let worst = 0;
  network.parameters().forEach((p, t) => {
    for (let i = 0; i < p.length; i++) {
      const saved = p[i];
      const at = (d: number) => {
        p[i] = saved + d;
        return loss();
      };
      const numeric = fivePoint ? (8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h) : (at(h) - at(-h)) / (2 * h);
      p[i] = saved;
      const a = analytic[t][i];
      // Gradients below 1e-7 carry no signal at this step size; compare them on an absolute scale.
      const rel = Math.abs(a - numeric) / Math.max(Math.abs(a), Math.abs(numeric), 1e-7);
      worst = Math.max(worst, rel);
    }
  });
  return worst;
}
