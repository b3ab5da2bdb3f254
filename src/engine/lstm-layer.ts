import { getActivation } from './activations.js';
import { joinGates, RecurrentLayer, splitGates } from './recurrent-layer.js';
import type { Rng } from './rng.js';
import type { FloatArray, FloatArrayConstructor, RecurrentLayerSpec } from './types.js';

const sigmoid = getActivation('sigmoid');
/** Gate blocks in z, W_x, W_h and b, Keras' order. */
const INPUT = 0;
const FORGET = 1;
const CELL = 2;
const OUTPUT = 3;
const GATES = 4;

/**
 * LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000):
 *   i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o);  g = act(z_g)
 *   c_t = f ⊙ c_(t-1) + i ⊙ g;  h_t = o ⊙ act(c_t)
 * The cell state is a second carry: backward sends dL/dc_t ⊙ f on to step t-1 next to dL/dh.
 * Forward saves the four gate outputs, c_t and act(c_t) of every step, each gate as its own contiguous block (the
 * fused float32 steps keep the gate outputs in z's place instead, rows of [i f g o], and backward writes dL/dz over
 * them: assembly/recurrent.ts).
 */
export class LstmLayer extends RecurrentLayer {
  /** Per step: the gate outputs i, f, g, o, each rows x units. */
  private gates: FloatArray;
  private cells: FloatArray;
  /** act(c_t). */
  private cellOut: FloatArray;
  /** dL/dc of step t+1's cell, sent back to step t. */
  private dcNext: FloatArray;
  private dcell: FloatArray;
  private dgates: FloatArray;

  constructor(spec: RecurrentLayerSpec, inputs: number, steps: number, Float: FloatArrayConstructor) {
    super(spec, inputs, steps, GATES, Float);
    this.gates = this.cells = this.cellOut = this.dcNext = this.dcell = this.dgates = new Float(0);
  }

  /** Forget-gate bias 1 (Jozefowicz et al. 2015, Keras' unit_forget_bias): remember by default. */
  override initialize(rng: Rng): void {
    super.initialize(rng);
    this.bias.fill(1, FORGET * this.units, (FORGET + 1) * this.units);
  }

  protected stepForward(t: number, rows: number): void {
    const u = this.units;
    const n = rows * u;
    const z = this.preActivation(t, rows);
    const g = this.gates.subarray(t * GATES * n, (t + 1) * GATES * n);
    splitGates(z, g, rows, u, GATES);
    sigmoid.forward(g, g, 1, (CELL - INPUT) * n); // input and forget gates, adjacent
    this.activation.forward(g.subarray(CELL * n, OUTPUT * n), g.subarray(CELL * n, OUTPUT * n), 1, n);
    sigmoid.forward(g.subarray(OUTPUT * n), g.subarray(OUTPUT * n), 1, n);
    const c = this.cells.subarray(t * n, (t + 1) * n);
    const cPrev = t > 0 ? this.cells.subarray((t - 1) * n, t * n) : null;
    for (let e = 0; e < n; e++) c[e] = (cPrev ? g[FORGET * n + e] * cPrev[e] : 0) + g[INPUT * n + e] * g[CELL * n + e];
    const a = this.cellOut.subarray(t * n, (t + 1) * n);
    this.activation.forward(c, a, rows, u);
    const h = this.state(t, rows);
    for (let e = 0; e < n; e++) h[e] = g[OUTPUT * n + e] * a[e];
  }

  protected stepBackward(t: number, rows: number, dh: FloatArray, carry: boolean): void {
    const u = this.units;
    const n = rows * u;
    const g = this.gates.subarray(t * GATES * n, (t + 1) * GATES * n);
    const a = this.cellOut.subarray(t * n, (t + 1) * n);
    const cPrev = t > 0 ? this.cells.subarray((t - 1) * n, t * n) : null;
    const fromNext = t < this.steps - 1;
    // dL/dc_t = dL/dh_t ⊙ o ⊙ act'(c_t) + what step t+1's cell sends back.
    const dc = this.dcell.subarray(0, n);
    for (let e = 0; e < n; e++) dc[e] = dh[e] * g[OUTPUT * n + e];
    this.activation.backward(a, dc, rows, u);
    const dg = this.dgates.subarray(0, GATES * n);
    const dcNext = this.dcNext;
    for (let e = 0; e < n; e++) {
      const dce = dc[e] + (fromNext ? dcNext[e] : 0);
      dg[INPUT * n + e] = dce * g[CELL * n + e];
      dg[FORGET * n + e] = cPrev ? dce * cPrev[e] : 0;
      dg[CELL * n + e] = dce * g[INPUT * n + e];
      dg[OUTPUT * n + e] = dh[e] * a[e];
      dcNext[e] = carry ? dce * g[FORGET * n + e] : 0;
    }
    // Through each gate's nonlinearity, then back into z's interleaved row layout.
    sigmoid.backward(g, dg, 1, (CELL - INPUT) * n);
    this.activation.backward(g.subarray(CELL * n, OUTPUT * n), dg.subarray(CELL * n, OUTPUT * n), 1, n);
    sigmoid.backward(g.subarray(OUTPUT * n), dg.subarray(OUTPUT * n), 1, n);
    joinGates(dg, this.preActivation(t, rows), rows, u, GATES);
  }

  protected fusedStepForward(t: number, rows: number): void {
    const bytes = 4 * rows * this.units; // of one step's cells
    const cPrev = t > 0 ? this.cells.byteOffset + (t - 1) * bytes : 0;
    this.kernels.lstmStepForward(
      this.code, this.preActivation(t, rows).byteOffset, this.localBias.byteOffset, cPrev, this.cells.byteOffset + t * bytes,
      this.cellOut.byteOffset + t * bytes, this.state(t, rows).byteOffset, rows, this.units,
    );
  }

  protected fusedStepBackward(t: number, rows: number, dh: FloatArray, carry: boolean): void {
    const bytes = 4 * rows * this.units; // of one step's cells
    const cPrev = t > 0 ? this.cells.byteOffset + (t - 1) * bytes : 0;
    this.kernels.lstmStepBackward(
      this.code, this.preActivation(t, rows).byteOffset, dh.byteOffset, this.dcNext.byteOffset, cPrev, this.cellOut.byteOffset + t * bytes,
      rows, this.units, t < this.steps - 1 ? 1 : 0, carry ? 1 : 0,
    );
  }

  protected override allocate(rows: number): void {
    super.allocate(rows);
    const n = rows * this.units;
    this.cells = this.floats(this.steps * n);
    this.cellOut = this.floats(this.steps * n);
    this.dcNext = this.floats(n);
    // The fused steps keep the gate outputs in z and need no per-step scratch.
    const fused = this.space !== null;
    this.gates = this.floats(fused ? 0 : this.steps * GATES * n);
    this.dcell = this.floats(fused ? 0 : n);
    this.dgates = this.floats(fused ? 0 : GATES * n);
  }
}
