import { type Activation, getActivation } from './activations.js';
import { gemm } from './gemm.js';
import { invalid } from './errors.js';
import { defaultInitializer, initializers } from './initializers.js';
import { repeatRow, sumRows, type Layer, type Parameter } from './layer.js';
import type { Rng } from './rng.js';
import type { DenseLayerSpec, FloatArray, FloatArrayConstructor } from './types.js';

/**
 * A dense layer: a = act(x · W + b), W stored inputs x units row-major. Forward saves its input and
 * output (all backward needs); backward turns dL/da (or dL/dz, from a fused loss) into dL/dW, dL/db and,
 * unless this is the first layer, dL/dx, the error handed to the layer before.
 */
export class DenseLayer implements Layer {
  // Not readonly: relocate() may move them (into an optimizer's memory); read them afresh, never keep them.
  kernel: FloatArray;
  bias: FloatArray;
  kernelGrad: FloatArray;
  biasGrad: FloatArray;
  parameters: readonly Parameter[];
  readonly activation: Activation;
  private capacity = 0;
  private zBuf: FloatArray;
  private aBuf: FloatArray;
  private dxBuf: FloatArray;
  private viewRows = -1;
  private zView: FloatArray;
  private aView: FloatArray;
  private dxView: FloatArray;
  private input: FloatArray | null = null;

  constructor(
    readonly spec: DenseLayerSpec,
    readonly inputs: number,
    private readonly Float: FloatArrayConstructor,
  ) {
    this.kernel = new Float(inputs * spec.units);
    this.bias = new Float(spec.units);
    this.kernelGrad = new Float(inputs * spec.units);
    this.biasGrad = new Float(spec.units);
    this.parameters = this.describeParameters();
    this.activation = getActivation(spec.activation);
    this.zBuf = this.aBuf = this.dxBuf = new Float(0);
    this.zView = this.aView = this.dxView = this.zBuf;
  }

  relocate([kernel, bias]: Float32Array[], [kernelGrad, biasGrad]: Float32Array[]): void {
    if (kernel.length !== this.kernel.length || bias.length !== this.bias.length || kernelGrad.length !== kernel.length || biasGrad.length !== bias.length) {
      throw invalid('relocate', `a kernel and its gradient of ${this.kernel.length} floats, a bias and its gradient of ${this.bias.length}`);
    }
    kernel.set(this.kernel);
    bias.set(this.bias);
    this.kernel = kernel;
    this.bias = bias;
    this.kernelGrad = kernelGrad;
    this.biasGrad = biasGrad;
    this.parameters = this.describeParameters();
  }

  private describeParameters(): Parameter[] {
    return [
      { name: 'kernel', value: this.kernel, grad: this.kernelGrad },
      { name: 'bias', value: this.bias, grad: this.biasGrad },
    ];
  }

  get units(): number {
    return this.spec.units;
  }

  /** The kernel from its initializer; the bias starts at zero. */
  initialize(rng: Rng): void {
    const name = this.spec.kernelInitializer ?? defaultInitializer(this.spec.activation);
    initializers[name](this.kernel, this.inputs, this.units, rng);
    this.bias.fill(0);
  }

  /** Returns the outputs a (rows x units); the pre-activations stay in `z` for fused losses. */
  forward(x: FloatArray, rows: number): FloatArray {
    const z = this.forwardLogits(x, rows);
    this.activation.forward(z, this.aView, rows, this.units);
    return this.aView;
  }

  /**
   * z = x·W + b without the activation: the training pass of an output layer whose loss is fused with its
   * activation (the loss computes the activation from z itself). output() is left stale.
   */
  forwardLogits(x: FloatArray, rows: number): FloatArray {
    this.ensure(rows);
    const n = this.units;
    const z = this.zView;
    // Seed z with the bias row, then let gemm accumulate x·W onto it (beta = 1): one pass fewer.
    repeatRow(this.bias, z, rows);
    gemm(false, false, rows, n, this.inputs, 1, x, this.inputs, this.kernel, n, 1, z, n);
    this.input = x;
    return z;
  }

  /** Pre-activations of the last forward pass. */
  z(rows: number): FloatArray {
    this.ensure(rows);
    return this.zView;
  }

  /** Output buffer of the last forward pass; fused losses may overwrite it with dL/dz. */
  output(rows: number): FloatArray {
    this.ensure(rows);
    return this.aView;
  }

  /** da holds dL/da (rows x units); it is turned into dL/dz in place. */
  backward(da: FloatArray, rows: number, needInputGrad: boolean): FloatArray | null {
    this.activation.backward(this.output(rows), da, rows, this.units);
    return this.backwardFromZ(da, rows, needInputGrad);
  }

  /**
   * dz holds dL/dz (rows x units), as fused losses deliver it. Writes the parameter gradients and returns
   * dL/dx, or null when the caller does not need it (the first layer).
   */
  backwardFromZ(dz: FloatArray, rows: number, needInputGrad: boolean): FloatArray | null {
    const n = this.units;
    const x = this.input!;
    gemm(true, false, this.inputs, n, rows, 1, x, this.inputs, dz, n, 0, this.kernelGrad, n);
    sumRows(dz, rows, this.biasGrad);
    if (!needInputGrad) return null;
    this.ensure(rows);
    const dx = this.dxView;
    gemm(false, true, rows, this.inputs, n, 1, dz, n, this.kernel, n, 0, dx, this.inputs);
    return dx;
  }

  /**
   * Buffers grow to the largest batch seen; views of the current batch's rows are cached so a training step
   * allocates nothing (small networks are dominated by such per-step costs).
   */
  private ensure(rows: number): void {
    if (rows === this.viewRows) return;
    if (rows > this.capacity) {
      this.capacity = rows;
      this.zBuf = new this.Float(rows * this.units);
      this.aBuf = new this.Float(rows * this.units);
      this.dxBuf = new this.Float(rows * this.inputs);
    }
    this.viewRows = rows;
    this.zView = this.zBuf.subarray(0, rows * this.units);
    this.aView = this.aBuf.subarray(0, rows * this.units);
    this.dxView = this.dxBuf.subarray(0, rows * this.inputs);
  }
}
