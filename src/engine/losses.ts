import { getActivation } from './activations.js';
import { invalid } from './errors.js';
import type { ActivationName, FloatArray, LossName } from './types.js';

/**
 * A loss returns the batch mean of the per-sample loss and writes the gradient of that mean into grad.
 * When it is fused with the output activation (`wrt: 'z'`), it reads the pre-activations and writes
 * dL/dz directly; otherwise it reads the outputs and writes dL/da for the activation's backward.
 *
 * Per-sample weights (Keras' sample_weight, reduced over the batch size) give sum_r w_r · l_r / rows, and each
 * row's gradient scaled by its w_r; one weight covers `steps` consecutive rows (the output steps of a
 * sequence-to-sequence sample). Without weights every row's weight is an exact 1, which leaves each product
 * unchanged, so an unweighted batch gives the same bits as before weights existed, in the same loop.
 */
export interface Loss {
  wrt: 'z' | 'a';
  compute(
    input: FloatArray,
    targets: FloatArray,
    grad: FloatArray | null,
    rows: number,
    cols: number,
    weights: FloatArray | null,
    steps: number,
  ): number;
}

/** The weight of row r: one check per row, never one per value. */
function rowWeight(weights: FloatArray | null, r: number, steps: number): number {
  return weights === null ? 1 : weights[Math.floor(r / steps)];
}

/** Keras' convention: the mean over the output units, then the mean over the batch. */
const meanSquaredError: Loss = {
  wrt: 'a',
  compute(a, y, grad, rows, cols, weights, steps) {
    let sum = 0;
    const scale = 2 / (rows * cols);
    for (let r = 0; r < rows; r++) {
      const w = rowWeight(weights, r, steps);
      for (let i = r * cols, end = i + cols; i < end; i++) {
        const d = a[i] - y[i];
        const wd = w * d;
        sum += wd * d;
        if (grad) grad[i] = scale * wd;
      }
    }
    return sum / (rows * cols);
  },
};

/**
 * Binary cross-entropy fused with sigmoid and computed from the logits z, as TensorFlow's
 * sigmoid_cross_entropy_with_logits does: max(z, 0) - z·y + log(1 + exp(-|z|)). It never takes the log
 * of 0, and its gradient is simply sigmoid(z) - y.
 */
const binaryCrossEntropy: Loss = {
  wrt: 'z',
  compute(z, y, grad, rows, cols, weights, steps) {
    let sum = 0;
    const scale = 1 / (rows * cols);
    for (let r = 0; r < rows; r++) {
      const w = rowWeight(weights, r, steps);
      const wScale = w * scale;
      for (let i = r * cols, end = i + cols; i < end; i++) {
        const x = z[i];
        sum += w * (Math.max(x, 0) - x * y[i] + Math.log1p(Math.exp(-Math.abs(x))));
        if (grad) {
          const s = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
          grad[i] = wScale * (s - y[i]);
        }
      }
    }
    return sum / (rows * cols);
  },
};

/**
 * Categorical cross-entropy fused with softmax, from the logits: -sum_j y_j log softmax(z)_j
 * = sum_j y_j (logsumexp(z) - z_j), with logsumexp taken around the row maximum so it cannot overflow.
 * Gradient: softmax(z)_j · sum(y) - y_j (sum(y) is 1 for one-hot targets).
 */
const categoricalCrossEntropy: Loss = {
  wrt: 'z',
  compute(z, y, grad, rows, cols, weights, steps) {
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const w = rowWeight(weights, r, steps);
      const o = r * cols;
      let max = -Infinity;
      for (let j = 0; j < cols; j++) if (z[o + j] > max) max = z[o + j];
      let sumExp = 0;
      // The exponentials are kept in grad (when there is one) so the gradient does not compute them again.
      for (let j = 0; j < cols; j++) {
        const e = Math.exp(z[o + j] - max);
        if (grad) grad[o + j] = e;
        sumExp += e;
      }
      const lse = max + Math.log(sumExp);
      let ySum = 0;
      for (let j = 0; j < cols; j++) {
        total += w * y[o + j] * (lse - z[o + j]);
        ySum += y[o + j];
      }
      if (grad) {
        const scale = (w * ySum) / (sumExp * rows);
        for (let j = 0; j < cols; j++) grad[o + j] = grad[o + j] * scale - (w * y[o + j]) / rows;
      }
    }
    return total / rows;
  },
};
const losses: Record<LossName, Loss> = { meanSquaredError, binaryCrossEntropy, categoricalCrossEntropy };

export const LOSS_NAMES = Object.keys(losses) as LossName[];

/** The output activation each fused loss is defined on. */
const requiredOutput: Partial<Record<LossName, ActivationName>> = {
  binaryCrossEntropy: 'sigmoid',
  categoricalCrossEntropy: 'softmax',
};

export function getLoss(name: string): Loss {
  if (!Object.hasOwn(losses, name)) throw invalid('loss', `one of ${LOSS_NAMES.join(', ')}`, name);
  return losses[name as LossName];
}

/** Fails loudly when a loss is paired with an output activation it is not defined for. */
export function checkLossOutput(loss: LossName, outputActivation: ActivationName, field: string): void {
  getActivation(outputActivation, field);
  const required = requiredOutput[loss];
  if (required && outputActivation !== required) {
    throw invalid(field, `"${required}" because loss is ${loss}`, outputActivation);
  }
}
