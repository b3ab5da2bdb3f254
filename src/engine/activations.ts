import { invalid } from './errors.js';
import { wasmAvailable } from './gemm.js';
import { sharedWasmGemm } from './wasm/wasm-gemm.js';
import type { ActivationName, FloatArray } from './types.js';

/**
 * An activation maps pre-activations z to outputs a in place over a rows x cols block, and turns the
 * gradient with respect to a into the gradient with respect to z. Backward needs only the outputs a
 * (every derivative here can be written in terms of a), so the forward pass saves nothing else.
 */
export interface Activation {
  forward(z: FloatArray, a: FloatArray, rows: number, cols: number): void;
  /** grad holds dL/da on entry and dL/dz on return. */
  backward(a: FloatArray, grad: FloatArray, rows: number, cols: number): void;
}

/** Slope for negative inputs of leakyRelu (PyTorch's default). */
export const LEAKY_RELU_SLOPE = 0.01;

const linear: Activation = {
  forward(z, a, rows, cols) {
    if (z !== a) a.set(z.subarray(0, rows * cols));
  },
  backward() {},
};

const sigmoid: Activation = {
  forward(z, a, rows, cols) {
    // No branch on the sign: exp(-x) overflowing to Infinity for x < -709 still gives the right limit, 0, and an
    // unpredictable branch per element costs more than the exp on small networks.
    for (let i = 0, n = rows * cols; i < n; i++) a[i] = 1 / (1 + Math.exp(-z[i]));
  },
  backward(a, grad, rows, cols) {
    for (let i = 0, n = rows * cols; i < n; i++) grad[i] *= a[i] * (1 - a[i]);
  },
};

const tanh: Activation = {
  forward(z, a, rows, cols) {
    for (let i = 0, n = rows * cols; i < n; i++) a[i] = Math.tanh(z[i]);
  },
  backward(a, grad, rows, cols) {
    for (let i = 0, n = rows * cols; i < n; i++) grad[i] *= 1 - a[i] * a[i];
  },
};

/**
 * From this many float32 values on, relu runs in WebAssembly SIMD (assembly/elementwise.ts, the same bits): in
 * TypeScript its branch mispredicts on about a third of a hidden layer's values, which made relu's two passes a
 * sixth of an MNIST-sized training step; below it, the staging copies would not pay.
 */
const RELU_WASM_MIN = 1024;

const useWasm = (n: number, x: FloatArray, y: FloatArray): boolean =>
  n >= RELU_WASM_MIN && x instanceof Float32Array && y instanceof Float32Array && wasmAvailable();

const relu: Activation = {
  forward(z, a, rows, cols) {
    const n = rows * cols;
    if (useWasm(n, z, a)) {
      sharedWasmGemm().reluForward(z as Float32Array, a as Float32Array, n);
      return;
    }
    for (let i = 0; i < n; i++) a[i] = z[i] > 0 ? z[i] : 0;
  },
  backward(a, grad, rows, cols) {
    const n = rows * cols;
    if (useWasm(n, a, grad)) {
      sharedWasmGemm().reluBackward(a as Float32Array, grad as Float32Array, n);
      return;
    }
    for (let i = 0; i < n; i++) if (!(a[i] > 0)) grad[i] = 0;
  },
};

const leakyRelu: Activation = {
  forward(z, a, rows, cols) {
    for (let i = 0, n = rows * cols; i < n; i++) a[i] = z[i] > 0 ? z[i] : LEAKY_RELU_SLOPE * z[i];
  },
  // The slope is positive, so the sign of a is the sign of z.
  backward(a, grad, rows, cols) {
    for (let i = 0, n = rows * cols; i < n; i++) if (!(a[i] > 0)) grad[i] *= LEAKY_RELU_SLOPE;
  },
};

const softmax: Activation = {
  forward(z, a, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      // Subtracting the row maximum keeps exp from overflowing without changing the result.
      let max = -Infinity;
      for (let j = 0; j < cols; j++) if (z[o + j] > max) max = z[o + j];
      let sum = 0;
      for (let j = 0; j < cols; j++) {
        const e = Math.exp(z[o + j] - max);
        a[o + j] = e;
        sum += e;
      }
      for (let j = 0; j < cols; j++) a[o + j] /= sum;
    }
  },
  // Jacobian-vector product: dz_j = a_j (g_j - sum_k g_k a_k).
  backward(a, grad, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += grad[o + j] * a[o + j];
      for (let j = 0; j < cols; j++) grad[o + j] = a[o + j] * (grad[o + j] - dot);
    }
  },
};

const activations: Record<ActivationName, Activation> = { linear, sigmoid, tanh, relu, leakyRelu, softmax };

export const ACTIVATION_NAMES = Object.keys(activations) as ActivationName[];

export function getActivation(name: string, field = 'activation'): Activation {
  if (!Object.hasOwn(activations, name)) throw invalid(field, `one of ${ACTIVATION_NAMES.join(', ')}`, name);
  return activations[name as ActivationName];
}
