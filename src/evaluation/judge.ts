// A trained network judged on a set of its dataset's rows (the validation split, or the training rows when there is
// none, or a whole dataset at POST /v1/models/:id/evaluate): predictions in chunks, then the figures of
// classification.ts or regression.ts. Regression figures are in the target's own units: scaled targets are turned
// back first. Pure: engine and contracts only, so the training thread can run it.
import type { EvaluatedRows, Evaluation } from '../contracts/evaluation.js';
import type { EvaluationContext } from '../contracts/job-data.js';
import type { Network } from '../engine/index.js';
import { evaluateClassification } from './classification.js';
import { evaluateRegression } from './regression.js';

/** Rows per forward pass; a cached model's layer buffers grow to it when POST /v1/models/:id/evaluate judges it. */
export const EVALUATION_CHUNK = 1024;

export interface JudgedData {
  /** Encoded network inputs, rows x network.inputWidth. */
  inputs: Float32Array;
  /** As trained: one-hot classes, or (scaled) regression targets, rows x network.outputWidth. */
  targets: Float32Array;
}

/** Evaluates `network` on dataset rows `rows` (all rows when null); null when there is nothing to judge. */
export function judge(network: Network, data: JudgedData, context: EvaluationContext, rows: Uint32Array | null, on: EvaluatedRows): Evaluation | null {
  const count = rows ? rows.length : data.inputs.length / network.inputWidth;
  if (count === 0) return null;
  const inW = network.inputWidth;
  const outW = network.outputWidth;
  const predictions = new Float32Array(count * outW);
  const targets = new Float32Array(count * outW);
  const x = new Float32Array(Math.min(EVALUATION_CHUNK, count) * inW);
  for (let start = 0; start < count; start += EVALUATION_CHUNK) {
    const n = Math.min(EVALUATION_CHUNK, count - start);
    for (let i = 0; i < n; i++) {
      const row = rows ? rows[start + i] : start + i;
      x.set(data.inputs.subarray(row * inW, (row + 1) * inW), i * inW);
      targets.set(data.targets.subarray(row * outW, (row + 1) * outW), (start + i) * outW);
    }
    predictions.set(network.predict(x.subarray(0, n * inW), n), start * outW);
  }
  if (context.kind === 'classification') {
    return evaluateClassification(predictions, targets, context.labels, on);
  }
  const width = context.names.length;
  if (context.scale) {
    const { center, scale } = context.scale;
    for (let i = 0; i < predictions.length; i++) {
      predictions[i] = predictions[i] * scale[i % width] + center[i % width];
      targets[i] = targets[i] * scale[i % width] + center[i % width];
    }
  }
  return evaluateRegression(predictions, targets, context.names, on);
}
