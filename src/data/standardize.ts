// Zero-mean, unit-variance scaling with statistics stored next to the model, so training and prediction agree.
import type { StoredPreprocessing } from '../contracts/training.js';

/** A constant column has std 0; dividing by 1 instead keeps it finite (it carries no information anyway). */
const safeStd = (std: number): number => (std > 1e-12 ? std : 1);

export function preprocessingFor(standardize: boolean, mean: number[], std: number[]): StoredPreprocessing {
  return standardize ? { standardize, mean, std: std.map(safeStd) } : { standardize };
}

/**
 * Applies preprocessing to a row-major rows x width matrix, writing into `out` (in place unless given). Without
 * standardization there is nothing to apply and `data` itself comes back.
 */
export function applyPreprocessing(p: StoredPreprocessing, data: Float32Array, width: number, out: Float32Array = data): Float32Array {
  if (!p.standardize || !p.mean || !p.std) return data;
  const { mean, std } = p;
  for (let row = 0; row < data.length; row += width) {
    for (let c = 0; c < width; c++) out[row + c] = (data[row + c] - mean[c]) / std[c];
  }
  return out;
}
