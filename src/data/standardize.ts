// Zero-mean, unit-variance scaling with statistics stored next to the model, so training and prediction agree.
import type { StoredPreprocessing } from '../contracts/training.js';

/** A constant column has std 0; dividing by 1 instead keeps it finite (it carries no information anyway). */
const safeStd = (std: number): number => (std > 1e-12 ? std : 1);

export function preprocessingFor(standardize: boolean, mean: number[], std: number[]): StoredPreprocessing {
  return standardize ? { standardize, mean, std: std.map(safeStd) } : { standardize };
}

/** Applies preprocessing in place to a row-major rows x width matrix. */
export function applyPreprocessing(p: StoredPreprocessing, data: Float32Array, width: number): Float32Array {
  if (!p.standardize || !p.mean || !p.std) return data;
  for (let i = 0; i < data.length; i++) {
    const c = i % width;
    data[i] = (data[i] - p.mean[c]) / p.std[c];
  }
  return data;
}
