import { RecurrentLayer } from './recurrent-layer.js';
import type { FloatArray, FloatArrayConstructor, RecurrentLayerSpec } from './types.js';

/**
 * Elman's simple recurrent layer: h_t = act(x_t·W_x + h_(t-1)·W_h + b). Its step needs nothing but the states:
 * act' is written in terms of h_t, as every activation's backward is.
 */
export class RnnLayer extends RecurrentLayer {
  constructor(spec: RecurrentLayerSpec, inputs: number, steps: number, Float: FloatArrayConstructor) {
    super(spec, inputs, steps, 1, Float);
  }

  protected stepForward(t: number, rows: number): void {
    this.activation.forward(this.preActivation(t, rows), this.state(t, rows), rows, this.units);
  }

  protected stepBackward(t: number, rows: number, dh: FloatArray): void {
    const dz = this.preActivation(t, rows);
    dz.set(dh);
    this.activation.backward(this.state(t, rows), dz, rows, this.units);
  }

  protected fusedStepForward(t: number, rows: number): void {
    this.kernels.rnnStepForward(this.code, this.preActivation(t, rows).byteOffset, this.localBias.byteOffset, this.state(t, rows).byteOffset, rows, this.units);
  }

  protected fusedStepBackward(t: number, rows: number, dh: FloatArray): void {
    this.kernels.rnnStepBackward(this.code, this.state(t, rows).byteOffset, dh.byteOffset, this.preActivation(t, rows).byteOffset, rows * this.units);
  }
}
