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
