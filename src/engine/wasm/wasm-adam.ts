import type { FloatArray, Optimizer } from '../types.js';
import { WasmGemm } from './wasm-gemm.js';

export interface AdamSettings {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** The rate before any schedule changes it. */
  learningRate: number;
  /** The step size at step t for the rate lr, bias correction included. */
  stepSize(t: number, lr: number): number;
}

/** Where a network's tensors can move: Network.relocateParameters. */
export interface ParameterHome {
  relocateParameters(values: Float32Array, grads: Float32Array): boolean;
}

/**
 * Adam for float32 networks with the update in WebAssembly SIMD. The moments live in the memory of an instance of
 * their own, allocated once, so their views never move and no other network's allocation can detach them; the
 * instance goes away with the optimizer. Given the network (`home`), it moves the network's tensors and gradients
 * into that memory too, and each step updates them where they are. Otherwise, and whenever the arrays it is handed
 * are not the ones it placed (another optimizer has since taken the network), each step copies weights and
 * gradients in (one memcpy each) and the weights back out: about 30 µs a step of an MNIST-sized network's 130.
 */
export function createWasmAdam(shapes: number[], settings: AdamSettings, home?: ParameterHome): Optimizer {
  const total = shapes.reduce((sum, n) => sum + n, 0);
  const memory = new WasmGemm();
  const all = memory.alloc(4 * total).view();
  const w = all.subarray(0, total);
  const g = all.subarray(total, 2 * total);
  const m = all.subarray(2 * total, 3 * total);
  const v = all.subarray(3 * total, 4 * total);
  const offsets = shapes.map((_, i) => shapes.slice(0, i).reduce((sum, n) => sum + n, 0));
  const tensorsOf = (block: Float32Array) => shapes.map((n, i) => block.subarray(offsets[i], offsets[i] + n));
  const weights = tensorsOf(w);
  const gradients = tensorsOf(g);
  const placed = home?.relocateParameters(w, g) ?? false;
  // The same arrays, not equal values: only then is the update in place the update of the caller's tensors.
  const inPlace = (params: FloatArray[], grads: FloatArray[]) => {
    if (!placed || params.length !== weights.length) return false;
    for (let t = 0; t < params.length; t++) if (params[t] !== weights[t] || grads[t] !== gradients[t]) return false;
    return true;
  };
  return {
    step: 0,
    learningRate: settings.learningRate,
    // First moments of every tensor, then second moments: the order of the TypeScript Adam's slots.
    slots: [...tensorsOf(m), ...tensorsOf(v)],
    apply(params, grads) {
      this.step++;
      const size = settings.stepSize(this.step, this.learningRate);
      if (inPlace(params, grads)) {
        memory.adam(w, g, m, v, settings.beta1, settings.beta2, size, settings.epsilon);
        return;
      }
      for (let t = 0; t < params.length; t++) {
        w.set(params[t], offsets[t]);
        g.set(grads[t], offsets[t]);
      }
      memory.adam(w, g, m, v, settings.beta1, settings.beta2, size, settings.epsilon);
      for (let t = 0; t < params.length; t++) params[t].set(weights[t]);
    },
  };
}
