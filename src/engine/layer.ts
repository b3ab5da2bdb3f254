import { wasmAvailable } from './gemm.js';
import type { Rng } from './rng.js';
import { sharedWasmGemm } from './wasm/wasm-gemm.js';
import type { FloatArray } from './types.js';

/** A trainable tensor: its serialization name, its values and the gradient backward writes. */
export interface Parameter {
  readonly name: 'kernel' | 'recurrentKernel' | 'bias';
  readonly value: FloatArray;
  readonly grad: FloatArray;
}

/**
 * What the network needs from every kind of layer. Work arrays are reused between passes: a returned array is
 * valid until the next call. `rows` counts the rows this layer sees: samples for a recurrent layer, samples x
 * steps for a dense layer running on every step of a sequence.
 */
export interface Layer {
  readonly units: number;
  readonly kernel: FloatArray;
  readonly bias: FloatArray;
  /** In optimizer-slot and serialization order; weight decay applies to every one but the bias. */
  readonly parameters: readonly Parameter[];
  /** Draws the weights from the layer's initializers (in a fixed order, so a seed fixes them). */
  initialize(rng: Rng): void;
  /** `masks` is the training pass's Rng, given only while training, for the layers that draw from it (dropout). */
  forward(x: FloatArray, rows: number, masks?: Rng): FloatArray;
  /**
   * dOut holds dL/d(output) and may be overwritten. Writes every parameter gradient and returns dL/dx, or null
   * when the caller does not need it (the first layer). bpttSteps truncates backpropagation through time.
   */
  backward(dOut: FloatArray, rows: number, needInputGrad: boolean, bpttSteps?: number): FloatArray | null;
  /**
   * Moves the layer's tensors into the given arrays (one value and one gradient array per parameter, in
   * `parameters` order, each as long as the tensor it replaces), values copied. Absent on layers whose tensors
   * must stay where they are (recurrent layers keep theirs beside their own kernels).
   */
  relocate?(values: Float32Array[], grads: Float32Array[]): void;
}

/** Writes `row` into each of the first `rows` rows of `out` (the bias seeding of z = x·W + b). */
export function repeatRow(row: FloatArray, out: FloatArray, rows: number): void {
  const n = row.length;
  if (rows * n < REPEAT_COPY_MIN) {
    // Plain loops: for a few narrow rows they beat the calls below.
    for (let r = 0; r < rows; r++) for (let j = 0, o = r * n; j < n; j++) out[o + j] = row[j];
    return;
  }
  // The first row, then copies of what is written so far, doubling: log2(rows) memmoves instead of a loop at about
  // 2 ns a value (an MNIST-sized batch's biases took 20 µs a step that way).
  out.set(row);
  for (let done = 1; done < rows; done *= 2) out.copyWithin(done * n, 0, Math.min(done, rows - done) * n);
}

/** Values from which sumRows runs in WebAssembly. */
const SUM_ROWS_WASM_MIN = 1024;

/** Values from which repeatRow copies by doubling. */
const REPEAT_COPY_MIN = 512;

/** out = the column sums of the first `rows` rows of m (the bias gradient, Σ over rows of dL/dz). */
export function sumRows(m: FloatArray, rows: number, out: FloatArray): void {
  const n = out.length;
  if (rows === 0) {
    out.fill(0);
    return;
  }
  // The same additions in the same order in WebAssembly SIMD, for blocks big enough to repay the staging copy.
  if (rows * n >= SUM_ROWS_WASM_MIN && m instanceof Float32Array && out instanceof Float32Array && wasmAvailable()) {
    sharedWasmGemm().sumRows(m, rows, n, out);
    return;
  }
  // Starting from the first row rather than from zeros saves a pass (and a fill() call, costly on tiny rows).
  for (let j = 0; j < n; j++) out[j] = m[j];
  for (let r = 1; r < rows; r++) {
    const o = r * n;
    for (let j = 0; j < n; j++) out[j] += m[o + j];
  }
}
