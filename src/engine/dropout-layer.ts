import type { Layer, Parameter } from './layer.js';
import type { Rng } from './rng.js';
import type { DropoutLayerSpec, FloatArray, FloatArrayConstructor } from './types.js';

/**
 * Inverted dropout (Srivastava et al. 2014, as Keras applies it): while training, out = x ⊙ m with m_i = 0 with
 * probability `rate`, else 1 / (1 - rate), so the expected output equals the input and predict is the identity.
 * Backward multiplies by the same mask: dL/dx = dL/dout ⊙ m. The mask is drawn from the Rng the training forward
 * pass is given, so a seed fixes it and a checkpoint of that Rng's state resumes it.
 */
export class DropoutLayer implements Layer {
  readonly kernel: FloatArray;
  readonly bias: FloatArray;
  readonly parameters: readonly Parameter[] = [];
  private mask: FloatArray;
  private out: FloatArray;
  /** out's first n values, cached: a fresh subarray per batch would be garbage per batch. */
  private outView: FloatArray;
  /** Whether the last forward pass applied a mask (training) or passed its input through (predict, evaluate). */
  private masked = false;

  constructor(
    readonly spec: DropoutLayerSpec,
    /** Values per row, the width of the layer before. */
    readonly units: number,
    private readonly Float: FloatArrayConstructor,
  ) {
    this.kernel = this.bias = this.mask = this.out = this.outView = new Float(0);
  }

  initialize(): void {}

  /** No tensors: nothing to move. */
  relocate(): void {}

  /** With `masks`, draws a fresh mask from it (training); without, the identity. */
  forward(x: FloatArray, rows: number, masks?: Rng): FloatArray {
    this.masked = masks !== undefined && this.spec.rate > 0;
    if (!this.masked) return x;
    const n = rows * this.units;
    if (this.mask.length < n) {
      this.mask = new this.Float(n);
      this.out = new this.Float(n);
    }
    const { rate } = this.spec;
    const keep = 1 / (1 - rate);
    // u / 2^32 < rate exactly when u < rate · 2^32 (both exact in a double): Rng.next() without its division.
    const dropBelow = rate * 4294967296;
    const mask = this.mask;
    if (this.outView.length !== n) this.outView = this.out.subarray(0, n);
    const out = this.outView;
    for (let i = 0; i < n; i++) {
      mask[i] = masks!.nextUint32() < dropBelow ? 0 : keep;
      out[i] = x[i] * mask[i];
    }
    return out;
  }

  backward(dOut: FloatArray, rows: number): FloatArray {
    if (!this.masked) return dOut;
    const n = rows * this.units;
    const mask = this.mask;
    for (let i = 0; i < n; i++) dOut[i] *= mask[i];
    return dOut;
  }
}
