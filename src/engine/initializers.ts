import type { Rng } from './rng.js';
import type { ActivationName, FloatArray, InitializerName } from './types.js';

/** Glorot & Bengio (2010): uniform in ±sqrt(6 / (fanIn + fanOut)), keeps variance through sigmoid/tanh. */
function glorotUniform(w: FloatArray, fanIn: number, fanOut: number, rng: Rng): void {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < w.length; i++) w[i] = (rng.next() * 2 - 1) * limit;
}

/** He et al. (2015): normal with std sqrt(2 / fanIn), keeps variance through relu. */
function heNormal(w: FloatArray, fanIn: number, _fanOut: number, rng: Rng): void {
  const std = Math.sqrt(2 / fanIn);
  for (let i = 0; i < w.length; i++) w[i] = rng.normal() * std;
}

export const initializers: Record<InitializerName, typeof glorotUniform> = { glorotUniform, heNormal };

export function defaultInitializer(activation: ActivationName): InitializerName {
  return activation === 'relu' || activation === 'leakyRelu' ? 'heNormal' : 'glorotUniform';
}

/**
 * Saxe et al. (2014), Keras' default for recurrent kernels: orthonormal rows (rows <= cols), so repeated products
 * with the kernel neither shrink nor inflate the state early in training. Gram-Schmidt on a normal draw, in float64.
 */
export function orthogonal(w: FloatArray, rows: number, cols: number, rng: Rng): void {
  const m = new Float64Array(rows * cols);
  for (let i = 0; i < m.length; i++) m[i] = rng.normal();
  for (let i = 0; i < rows; i++) {
    const ri = i * cols;
    for (let j = 0; j < i; j++) {
      const rj = j * cols;
      let dot = 0;
      for (let k = 0; k < cols; k++) dot += m[ri + k] * m[rj + k];
      for (let k = 0; k < cols; k++) m[ri + k] -= dot * m[rj + k];
    }
    let norm = 0;
    for (let k = 0; k < cols; k++) norm += m[ri + k] * m[ri + k];
    norm = Math.sqrt(norm);
    for (let k = 0; k < cols; k++) m[ri + k] /= norm;
  }
  w.set(m);
}
