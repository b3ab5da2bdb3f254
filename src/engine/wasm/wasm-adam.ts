import { currentCompanion, type AdamConstants } from '../companion.js';
import type { FloatArray, Optimizer } from '../types.js';
import { SharedAdamArena } from './shared-adam.js';
import { WasmGemm } from './wasm-gemm.js';

/**
 * From this many parameters, when the host lent this thread a companion, the update is split with it: half of an
 * MNIST-sized network's update is about 35 µs, handing it over about 1 µs.
 */
const COMPANION_MIN_PARAMETERS = 32_768;

export interface AdamSettings {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** The rate before any schedule changes it. */
  learningRate: number;
  /** The step size at step t for the rate lr, bias correction included. */
  stepSize(t: number, lr: number): number;
}

/** The four blocks of `total` floats Adam works on, and the update over all of them. */
interface Arena {
  w: Float32Array;
  g: Float32Array;
  m: Float32Array;
  v: Float32Array;
  update(constants: AdamConstants): void;
}

/** The blocks in a wasm instance of their own; the update on this thread. */
function privateArena(total: number): Arena {
  const memory = new WasmGemm();
  const all = memory.alloc(4 * total).view();
  const [w, g, m, v] = [0, 1, 2, 3].map((i) => all.subarray(i * total, (i + 1) * total));
  return { w, g, m, v, update: (c) => memory.adam(w, g, m, v, c.beta1, c.beta2, c.stepSize, c.epsilon) };
}

/** Where a network's tensors can move: Network.relocateParameters. */
export interface ParameterHome {
  relocateParameters(values: Float32Array, grads: Float32Array): boolean;
}

/**
 * Adam for float32 networks with the update in WebAssembly SIMD. The moments live in the memory of an instance of
 * their own (a shared one when the host lent this thread a companion, which then takes half of each update),
 * allocated once, so their views never move and no other network's allocation can detach them; the instance goes
 * away with the optimizer. Given the network (`home`), it moves the network's tensors and gradients
 * into that memory too, and each step updates them where they are. Otherwise, and whenever the arrays it is handed
 * are not the ones it placed (another optimizer has since taken the network), each step copies weights and
 * gradients in (one memcpy each) and the weights back out: on the MNIST network about 100 µs a step more (171 µs
 * against 72 in one measurement).
 */
export function createWasmAdam(shapes: number[], settings: AdamSettings, home?: ParameterHome): Optimizer {
  const total = shapes.reduce((sum, n) => sum + n, 0);
  const arena: Arena = currentCompanion() !== null && total >= COMPANION_MIN_PARAMETERS ? new SharedAdamArena(total) : privateArena(total);
  const { w, g, m, v } = arena;
  const offsets = shapes.map((_, i) => shapes.slice(0, i).reduce((sum, n) => sum + n, 0));
  const tensorsOf = (block: Float32Array) => shapes.map((n, i) => block.subarray(offsets[i], offsets[i] + n));
  const weights = tensorsOf(w);
  const gradients = tensorsOf(g);
  const placed = home?.relocateParameters(w, g) ?? false;
  // The same memory, not equal values: only then is the update in place the update of the caller's tensors. (The
  // network's views of that memory are its own objects, made by relocateParameters: compare where they point.)
  const inPlace = (params: FloatArray[], grads: FloatArray[]) => {
    if (!placed || params.length !== weights.length) return false;
    for (let t = 0; t < params.length; t++) if (!sameMemory(params[t], weights[t]) || !sameMemory(grads[t], gradients[t])) return false;
    return true;
  };
  return {
    step: 0,
    learningRate: settings.learningRate,
    // First moments of every tensor, then second moments: the order of the TypeScript Adam's slots.
    slots: [...tensorsOf(m), ...tensorsOf(v)],
    apply(params, grads) {
      this.step++;
      const constants = { beta1: settings.beta1, beta2: settings.beta2, stepSize: settings.stepSize(this.step, this.learningRate), epsilon: settings.epsilon };
      if (inPlace(params, grads)) {
        arena.update(constants);
        return;
      }
      for (let t = 0; t < params.length; t++) {
        w.set(params[t], offsets[t]);
        g.set(grads[t], offsets[t]);
      }
      arena.update(constants);
      for (let t = 0; t < params.length; t++) params[t].set(weights[t]);
    },
  };
}

function sameMemory(a: FloatArray, b: Float32Array): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.length === b.length;
}
