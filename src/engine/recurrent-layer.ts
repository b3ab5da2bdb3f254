import { type Activation, getActivation } from './activations.js';
import { gemm, wasmAvailable } from './gemm.js';
import { initializers, orthogonal } from './initializers.js';
import { repeatRow, sumRows, type Layer, type Parameter } from './layer.js';
import type { Rng } from './rng.js';
import type { FloatArray, FloatArrayConstructor, Gemm, RecurrentLayerSpec } from './types.js';
import { activationCode, type RecurrentKernels } from './wasm/recurrent-kernels.js';
import { RecurrentSpace } from './wasm/recurrent-space.js';

/**
 * What rnn, lstm and gru layers share: the unrolled loop over steps and backpropagation through time.
 *
 * Inputs and outputs are sample-major (rows x steps x width, the dataset layout); inside, every sequence is kept
 * time-major (steps x rows x width) so each step is one contiguous rows x width block and every product is one
 * batched gemm. Forward projects the inputs of all steps at once, Z = X·W_x + b, then walks the steps adding
 * h_(t-1)·W_h and letting the subclass turn z_t into h_t. Backward is one sweep from the last step to the first:
 * dL/dh_t is what step t outputs receive plus what step t+1 sends back, the subclass turns it into dL/dz_t, and
 * dL/dz_t·W_hᵀ goes on to step t-1. Only then are the weight gradients formed, each by a single gemm over every
 * step: the gradient of a shared weight is the sum of its contributions from all steps.
 *
 * float32 layers keep their buffers in a WebAssembly instance of their own (`space`) and run each step as its
 * product (native or wasm, in place) and one fused kernel call for the bias, the gates and the state update
 * (assembly/recurrent.ts; the gru's candidate product sits between two), forward and backward; weights are copied
 * in once per batch, gradients out once. float64 layers (the gradient checks) run the TypeScript steps, as do
 * float32 ones where WebAssembly does not instantiate.
 */
export abstract class RecurrentLayer implements Layer {
  readonly kernel: FloatArray;
  readonly recurrentKernel: FloatArray;
  readonly bias: FloatArray;
  readonly kernelGrad: FloatArray;
  readonly recurrentKernelGrad: FloatArray;
  readonly biasGrad: FloatArray;
  readonly parameters: readonly Parameter[];
  readonly activation: Activation;
  /** Columns of z per step: gates x units. */
  protected readonly width: number;
  /**
   * The first columns of W_h, those the base class multiplies h_(t-1) by (forward, carry and their gradient): all of
   * them, except in the gru, whose candidate reads r ⊙ h_(t-1) and handles its own block.
   */
  protected readonly recurrentColumns: number;
  protected capacity = 0;
  /** Inputs, time-major. */
  private xs: FloatArray;
  /** Pre-activations in forward; overwritten with dL/dz in backward (forward recomputes them). */
  protected zs: FloatArray;
  /** Hidden states, time-major. */
  protected hs: FloatArray;
  private sequenceOut: FloatArray;
  /** dL/dh of the step being processed in the backward sweep. */
  private dh: FloatArray;
  private dx: FloatArray;
  /** The WebAssembly instance holding this layer's buffers, when its steps run fused; else null. */
  protected readonly space: RecurrentSpace | null;
  /** With a space: the activation's kernel code, and the parameters and their gradients as copies in the space. */
  protected readonly code: number;
  private local: { kernel: FloatArray; recurrent: FloatArray; bias: FloatArray; kernelGrad: FloatArray; recurrentGrad: FloatArray; biasGrad: FloatArray; dOut: FloatArray };

  constructor(
    readonly spec: RecurrentLayerSpec,
    readonly inputs: number,
    readonly steps: number,
    gates: number,
    protected readonly Float: FloatArrayConstructor,
  ) {
    const units = spec.units;
    this.width = gates * units;
    this.recurrentColumns = (spec.type === 'gru' ? gates - 1 : gates) * units;
    this.kernel = new Float(inputs * this.width);
    this.recurrentKernel = new Float(units * this.width);
    this.bias = new Float(this.width);
    this.kernelGrad = new Float(inputs * this.width);
    this.recurrentKernelGrad = new Float(units * this.width);
    this.biasGrad = new Float(this.width);
    this.parameters = [
      { name: 'kernel', value: this.kernel, grad: this.kernelGrad },
      { name: 'recurrentKernel', value: this.recurrentKernel, grad: this.recurrentKernelGrad },
      { name: 'bias', value: this.bias, grad: this.biasGrad },
    ];
    this.activation = getActivation(spec.activation ?? 'tanh');
    this.xs = this.zs = this.hs = this.sequenceOut = this.dh = this.dx = new Float(0);
    const fused = Float === Float32Array && wasmAvailable();
    this.space = fused ? new RecurrentSpace() : null;
    this.code = fused ? activationCode(spec.activation ?? 'tanh') : -1;
    const none = new Float(0);
    this.local = { kernel: none, recurrent: none, bias: none, kernelGrad: none, recurrentGrad: none, biasGrad: none, dOut: none };
  }

  get units(): number {
    return this.spec.units;
  }

  /** Whether the steps run fused in WebAssembly (float32 layers, where wasm instantiates). */
  get fused(): boolean {
    return this.space !== null;
  }

  /** Keras' defaults: glorotUniform kernel, orthogonal recurrent kernel, zero bias. */
  initialize(rng: Rng): void {
    initializers.glorotUniform(this.kernel, this.inputs, this.width, rng);
    orthogonal(this.recurrentKernel, this.units, this.width, rng);
    this.bias.fill(0);
  }

  /** x is rows x steps x inputs; returns rows x steps x units with returnSequences, else rows x units (the last step). */
  forward(x: FloatArray, rows: number): FloatArray {
    this.ensure(rows);
    const { steps, units, width } = this;
    const block = rows * width;
    transpose(x, this.xs, rows, steps, this.inputs);
    const z = this.zs.subarray(0, steps * block);
    if (this.space) {
      // The fused steps add the bias themselves; the weights are copied into the space once per batch.
      const local = this.local;
      local.kernel.set(this.kernel);
      local.recurrent.set(this.recurrentKernel);
      local.bias.set(this.bias);
      const product = this.product;
      product(false, false, steps * rows, width, this.inputs, 1, this.xs, this.inputs, local.kernel, width, 0, z, width);
      for (let t = 0; t < steps; t++) {
        const zt = z.subarray(t * block, (t + 1) * block);
        if (t > 0) product(false, false, rows, this.recurrentColumns, units, 1, this.state(t - 1, rows), units, local.recurrent, width, 1, zt, width);
        this.fusedStepForward(t, rows);
      }
    } else {
      repeatRow(this.bias, z, steps * rows);
      gemm(false, false, steps * rows, width, this.inputs, 1, this.xs, this.inputs, this.kernel, width, 1, z, width);
      for (let t = 0; t < steps; t++) {
        const zt = z.subarray(t * block, (t + 1) * block);
        if (t > 0) gemm(false, false, rows, this.recurrentColumns, units, 1, this.state(t - 1, rows), units, this.recurrentKernel, width, 1, zt, width);
        this.stepForward(t, rows);
      }
    }
    if (!this.spec.returnSequences) return this.state(steps - 1, rows);
    const out = this.sequenceOut.subarray(0, rows * steps * units);
    transpose(this.hs, out, steps, rows, units);
    return out;
  }

  /**
   * dOut is dL/d(output) in forward's output layout. With bpttSteps = k, gradients cross from step t to t-1 only
   * inside chunks of k steps counted back from the last step: the state still flows forward through every step,
   * but the backward sweep treats the state entering each chunk as a constant.
   */
  backward(dOut: FloatArray, rows: number, needInputGrad: boolean, bpttSteps = Infinity): FloatArray | null {
    const { steps, units, width, space } = this;
    const block = rows * width;
    const dz = this.zs.subarray(0, steps * block);
    const dh = this.dh.subarray(0, rows * units);
    dh.fill(0);
    const sequences = this.spec.returnSequences;
    const local = this.local;
    if (space && sequences) local.dOut.set(dOut.subarray(0, rows * steps * units));
    for (let t = steps - 1; t >= 0; t--) {
      if (sequences && space) {
        space.kernels.addRows(dh.byteOffset, local.dOut.byteOffset + 4 * t * units, rows, units, steps * units);
      } else if (sequences) {
        for (let r = 0; r < rows; r++) {
          const from = (r * steps + t) * units;
          for (let j = 0; j < units; j++) dh[r * units + j] += dOut[from + j];
        }
      } else if (t === steps - 1) {
        dh.set(dOut.subarray(0, rows * units));
      }
      const carry = t > 0 && (steps - t) % bpttSteps !== 0;
      const dzt = dz.subarray(t * block, (t + 1) * block);
      if (space) this.fusedStepBackward(t, rows, dh, carry);
      else this.stepBackward(t, rows, dh, carry);
      if (carry) {
        this.product(false, true, rows, units, this.recurrentColumns, 1, dzt, width, space ? local.recurrent : this.recurrentKernel, width, 0, dh, units);
        this.addCarry(dh);
      } else {
        dh.fill(0);
      }
    }
    // Sums over every step, one gemm each: dW_x = Σ x_tᵀ·dz_t, dW_h = Σ h_(t-1)ᵀ·dz_t (h_(-1) = 0), db = Σ dz_t.
    // With a space they are formed there (products in place) and copied out.
    const product = this.product;
    const kernelGrad = space ? local.kernelGrad : this.kernelGrad;
    const recurrentGrad = space ? local.recurrentGrad : this.recurrentKernelGrad;
    product(true, false, this.inputs, width, steps * rows, 1, this.xs, this.inputs, dz, width, 0, kernelGrad, width);
    if (steps > 1) {
      const columns = this.recurrentColumns;
      product(true, false, units, columns, (steps - 1) * rows, 1, this.hs, units, dz.subarray(block), width, 0, recurrentGrad, width);
    } else {
      recurrentGrad.fill(0);
    }
    this.addRecurrentGradient(product, recurrentGrad, rows);
    if (space) {
      space.kernels.sumRows(dz.byteOffset, steps * rows, width, local.biasGrad.byteOffset);
      this.kernelGrad.set(kernelGrad);
      this.recurrentKernelGrad.set(recurrentGrad);
      this.biasGrad.set(local.biasGrad);
    } else {
      sumRows(dz, steps * rows, this.biasGrad);
    }
    if (!needInputGrad) return null;
    // The time-major inputs are no longer needed: they take dL/dx before it is put back in sample order.
    product(false, true, steps * rows, this.inputs, width, 1, dz, width, space ? local.kernel : this.kernel, width, 0, this.xs, this.inputs);
    const dx = this.dx.subarray(0, rows * steps * this.inputs);
    transpose(this.xs, dx, steps, rows, this.inputs);
    return dx;
  }

  /** h_t of every row: rows x units, contiguous. */
  protected state(t: number, rows: number): FloatArray {
    const n = rows * this.units;
    return this.hs.subarray(t * n, (t + 1) * n);
  }

  /** z_t (rows x width) of every row, contiguous. */
  protected preActivation(t: number, rows: number): FloatArray {
    const n = rows * this.width;
    return this.zs.subarray(t * n, (t + 1) * n);
  }

  /** z_t holds x_t·W_x + h_(t-1)·W_h + b; writes h_t and saves whatever stepBackward needs. */
  protected abstract stepForward(t: number, rows: number): void;

  /**
   * dh holds dL/dh_t (read only); writes dL/dz_t over z_t. carry says whether gradients go on to step t-1, for
   * state the subclass carries itself (the lstm cell).
   */
  protected abstract stepBackward(t: number, rows: number, dh: FloatArray, carry: boolean): void;

  /** Products on this layer's buffers: the space's (native or wasm in place) when there is one, else the engine's. */
  protected get product(): Gemm {
    return this.space ? this.space.gemm : gemm;
  }

  /** The fused kernels (only fused steps call this, and they run only with a space). */
  protected get kernels(): RecurrentKernels {
    if (!this.space) throw new Error('fused steps without a space');
    return this.space.kernels;
  }

  /** The bias as copied into the space for this batch. */
  protected get localBias(): FloatArray {
    return this.local.bias;
  }

  /** W_h as copied into the space for this batch. */
  protected get localRecurrentKernel(): FloatArray {
    return this.local.recurrent;
  }

  /**
   * Forms the columns of dL/dW_h past recurrentColumns (the gru's candidate block) in `grad`, with `product` (the
   * space's when there is one, whose operands live there).
   */
  protected addRecurrentGradient(_product: Gemm, _grad: FloatArray, _rows: number): void {}

  /** stepForward's work as one kernel call on the space; z_t holds x_t·W_x + h_(t-1)·W_h, without the bias. */
  protected abstract fusedStepForward(t: number, rows: number): void;

  /** stepBackward's work as one kernel call on the space. */
  protected abstract fusedStepBackward(t: number, rows: number, dh: FloatArray, carry: boolean): void;

  /** Adds to dL/dh_(t-1) what reaches it besides dz_t·W_hᵀ over recurrentColumns (the gru's direct and reset paths). */
  protected addCarry(_dh: FloatArray): void {}

  /** Grows the buffers to `rows` sequences, in the space when there is one. */
  protected ensure(rows: number): boolean {
    if (rows <= this.capacity) return false;
    this.capacity = rows;
    if (this.space) this.space.allocate(() => this.allocate(rows));
    else this.allocate(rows);
    return true;
  }

  /** A zero-filled buffer: in the space when there is one (called from allocate only). */
  protected floats(length: number): FloatArray {
    return this.space ? this.space.floats(length) : new this.Float(length);
  }

  /** Takes every buffer for `rows` sequences through floats(); subclasses add theirs. */
  protected allocate(rows: number): void {
    const { steps, units, width, inputs } = this;
    this.xs = this.floats(steps * rows * inputs);
    this.zs = this.floats(steps * rows * width);
    this.hs = this.floats(steps * rows * units);
    this.sequenceOut = this.floats(this.spec.returnSequences ? rows * steps * units : 0);
    this.dh = this.floats(rows * units);
    this.dx = this.floats(rows * steps * inputs);
    if (!this.space) return;
    this.local = {
      kernel: this.floats(this.kernel.length),
      recurrent: this.floats(this.recurrentKernel.length),
      bias: this.floats(this.bias.length),
      kernelGrad: this.floats(this.kernel.length),
      recurrentGrad: this.floats(this.recurrentKernel.length),
      biasGrad: this.floats(this.bias.length),
      dOut: this.floats(this.spec.returnSequences ? rows * steps * units : 0),
    };
  }
}

/** Rows of z side by side per gate ([z_0 z_1 ...], rows x gates·units) -> one contiguous rows x units block per gate. */
export function splitGates(z: FloatArray, blocks: FloatArray, rows: number, units: number, gates: number): void {
  const n = rows * units;
  for (let r = 0, from = 0; r < rows; r++) {
    for (let k = 0; k < gates; k++) {
      const to = k * n + r * units;
      for (let j = 0; j < units; j++) blocks[to + j] = z[from++];
    }
  }
}

/** The inverse of splitGates: one block per gate -> rows with the gates side by side. */
export function joinGates(blocks: FloatArray, z: FloatArray, rows: number, units: number, gates: number): void {
  const n = rows * units;
  for (let r = 0, to = 0; r < rows; r++) {
    for (let k = 0; k < gates; k++) {
      const from = k * n + r * units;
      for (let j = 0; j < units; j++) z[to++] = blocks[from + j];
    }
  }
}

/** Swaps the two outer axes of an a x b x width block: sample-major <-> time-major. */
function transpose(src: FloatArray, dst: FloatArray, a: number, b: number, width: number): void {
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      const from = (i * b + j) * width;
      const to = (j * a + i) * width;
      for (let k = 0; k < width; k++) dst[to + k] = src[from + k];
    }
  }
}
