import type { Optimizer } from '../types.js';
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

/**
 * Adam for float32 networks with the update in WebAssembly SIMD. The moments live in the memory of an instance of
 * their own, allocated once, so their views never move and no other network's allocation can detach them; the
 * instance goes away with the optimizer. Each step copies weights and gradients in (one memcpy each) and the
 * weights back out: on MNIST-sized networks that is about a quarter of what the update costs in JavaScript.
 */
export function createWasmAdam(shapes: number[], settings: AdamSettings): Optimizer {
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
  return {
    step: 0,
    learningRate: settings.learningRate,
    // First moments of every tensor, then second moments: the order of the TypeScript Adam's slots.
    slots: [...tensorsOf(m), ...tensorsOf(v)],
    apply(params, grads) {
      this.step++;
      for (let t = 0; t < params.length; t++) {
        w.set(params[t], offsets[t]);
        g.set(grads[t], offsets[t]);
      }
      memory.adam(w, g, m, v, settings.beta1, settings.beta2, settings.stepSize(this.step, this.learningRate), settings.epsilon);
      for (let t = 0; t < params.length; t++) params[t].set(weights[t]);
    },
  };
}
