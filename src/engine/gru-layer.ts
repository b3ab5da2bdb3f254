import { getActivation } from './activations.js';
import { gemm } from './gemm.js';
import { joinGates, RecurrentLayer, splitGates } from './recurrent-layer.js';
import type { FloatArray, FloatArrayConstructor, Gemm, RecurrentLayerSpec } from './types.js';

const sigmoid = getActivation('sigmoid');
/** Gate blocks in z, W_x, W_h and b, Keras' order. */
const UPDATE = 0;
const RESET = 1;
const CANDIDATE = 2;
const GATES = 3;

/**
 * GRU (Cho et al. 2014) as Keras computes it with reset_after = false, the form TensorFlow.js implements:
 *   u = sigmoid(x·W_xu + h_(t-1)·W_hu + b_u);  r = sigmoid(x·W_xr + h_(t-1)·W_hr + b_r)
 *   c = act(x·W_xc + (r ⊙ h_(t-1))·W_hc + b_c);  h_t = u ⊙ h_(t-1) + (1 - u) ⊙ c
 * The base class adds h_(t-1)·W_h for the update and reset gates only; the candidate's recurrent product waits for r.
 * Forward saves the gate outputs and r ⊙ h_(t-1) of every step; backward sends dL/dh_t on to step t-1 through the
 * gates (the base class), through u directly and through r ⊙ h_(t-1) (addCarry). The fused float32 steps keep the
 * gate outputs in z's place (rows of [u r c]) and run two kernels around the candidate's product, forward and
 * backward (assembly/recurrent.ts).
 */
export class GruLayer extends RecurrentLayer {
  /** Per step: the gate outputs u, r, c, each rows x units. */
  private gates: FloatArray;
  /** Per step: r ⊙ h_(t-1), rows x units (zero at the first step). */
  private resetStates: FloatArray;
  private dgates: FloatArray;
  /** dL/d(r ⊙ h_(t-1)) of the step being processed. */
  private dreset: FloatArray;
  /** What step t sends to dL/dh_(t-1) besides the gate products: dh ⊙ u + dL/d(r ⊙ h_(t-1)) ⊙ r. */
  private carried: FloatArray;
  /** W_hc: the candidate's columns of the recurrent kernel (units x units, row stride width). */
  private readonly candidateKernel: FloatArray;

  constructor(spec: RecurrentLayerSpec, inputs: number, steps: number, Float: FloatArrayConstructor) {
    super(spec, inputs, steps, GATES, Float);
    this.gates = this.resetStates = this.dgates = this.dreset = this.carried = new Float(0);
    this.candidateKernel = this.recurrentKernel.subarray(CANDIDATE * spec.units);
  }

  protected stepForward(t: number, rows: number): void {
    const u = this.units;
    const n = rows * u;
    const z = this.preActivation(t, rows);
    const g = this.gates.subarray(t * GATES * n, (t + 1) * GATES * n);
    splitGates(z, g, rows, u, GATES);
    sigmoid.forward(g, g, 1, (CANDIDATE - UPDATE) * n); // update and reset gates, adjacent
    const c = g.subarray(CANDIDATE * n, (CANDIDATE + 1) * n);
    const rh = this.resetStates.subarray(t * n, (t + 1) * n);
    const hPrev = t > 0 ? this.state(t - 1, rows) : null;
    if (hPrev) {
      for (let e = 0; e < n; e++) rh[e] = g[RESET * n + e] * hPrev[e];
      gemm(false, false, rows, u, u, 1, rh, u, this.candidateKernel, this.width, 1, c, u);
    } else {
      rh.fill(0);
    }
    this.activation.forward(c, c, rows, u);
    const h = this.state(t, rows);
    for (let e = 0; e < n; e++) {
      const update = g[UPDATE * n + e];
      h[e] = (hPrev ? update * hPrev[e] : 0) + (1 - update) * c[e];
    }
  }

  protected stepBackward(t: number, rows: number, dh: FloatArray, carry: boolean): void {
    const u = this.units;
    const n = rows * u;
    const g = this.gates.subarray(t * GATES * n, (t + 1) * GATES * n);
    const hPrev = t > 0 ? this.state(t - 1, rows) : null;
    const dg = this.dgates.subarray(0, GATES * n);
    for (let e = 0; e < n; e++) {
      const update = g[UPDATE * n + e];
      dg[UPDATE * n + e] = dh[e] * ((hPrev ? hPrev[e] : 0) - g[CANDIDATE * n + e]);
      dg[CANDIDATE * n + e] = dh[e] * (1 - update);
    }
    this.activation.backward(g.subarray(CANDIDATE * n), dg.subarray(CANDIDATE * n), rows, u);
    // dL/d(r ⊙ h_(t-1)) = dL/dz_c · W_hcᵀ; r's share is it ⊙ h_(t-1), h_(t-1)'s share it ⊙ r.
    const dReset = this.dreset.subarray(0, n);
    if (hPrev) gemm(false, true, rows, u, u, 1, dg.subarray(CANDIDATE * n), u, this.candidateKernel, this.width, 0, dReset, u);
    for (let e = 0; e < n; e++) dg[RESET * n + e] = hPrev ? dReset[e] * hPrev[e] : 0;
    sigmoid.backward(g, dg, 1, (CANDIDATE - UPDATE) * n);
    if (carry) for (let e = 0; e < n; e++) this.carried[e] = dh[e] * g[UPDATE * n + e] + dReset[e] * g[RESET * n + e];
    joinGates(dg, this.preActivation(t, rows), rows, u, GATES);
  }

  protected fusedStepForward(t: number, rows: number): void {
    const u = this.units;
    const z = this.preActivation(t, rows);
    const hPrev = t > 0 ? this.state(t - 1, rows).byteOffset : 0;
    const rh = this.resetStates.subarray(t * rows * u, (t + 1) * rows * u);
    this.kernels.gruStepGates(z.byteOffset, this.localBias.byteOffset, hPrev, rh.byteOffset, rows, u);
    if (t > 0) this.product(false, false, rows, u, u, 1, rh, u, this.localRecurrentKernel.subarray(CANDIDATE * u), this.width, 1, z.subarray(CANDIDATE * u), this.width);
    this.kernels.gruStepState(this.code, z.byteOffset, this.localBias.byteOffset, hPrev, this.state(t, rows).byteOffset, rows, u);
  }

  protected fusedStepBackward(t: number, rows: number, dh: FloatArray, carry: boolean): void {
    const u = this.units;
    const z = this.preActivation(t, rows);
    const hPrev = t > 0 ? this.state(t - 1, rows).byteOffset : 0;
    const dReset = this.dreset.subarray(0, rows * u);
    this.kernels.gruStepBackwardUpdate(this.code, z.byteOffset, dh.byteOffset, hPrev, this.carried.byteOffset, rows, u, carry ? 1 : 0);
    if (t > 0) this.product(false, true, rows, u, u, 1, z.subarray(CANDIDATE * u), this.width, this.localRecurrentKernel.subarray(CANDIDATE * u), this.width, 0, dReset, u);
    this.kernels.gruStepBackwardReset(z.byteOffset, dReset.byteOffset, hPrev, this.carried.byteOffset, rows, u, carry ? 1 : 0);
  }

  protected override addCarry(dh: FloatArray): void {
    for (let e = 0; e < dh.length; e++) dh[e] += this.carried[e];
  }

  /** dW_hc = Σ_t (r ⊙ h_(t-1))ᵀ · dL/dz_c,t; the base class forms the gates' columns. */
  protected override addRecurrentGradient(product: Gemm, grad: FloatArray, rows: number): void {
    const { steps, units, width } = this;
    const dz = this.zs.subarray(0, steps * rows * width);
    const columns = CANDIDATE * units;
    product(true, false, units, units, steps * rows, 1, this.resetStates, units, dz.subarray(columns), width, 0, grad.subarray(columns), width);
  }

  protected override allocate(rows: number): void {
    super.allocate(rows);
    const n = rows * this.units;
    // The fused steps keep the gate outputs in z and need no per-step gate scratch.
    const fused = this.space !== null;
    this.gates = this.floats(fused ? 0 : this.steps * GATES * n);
    this.dgates = this.floats(fused ? 0 : GATES * n);
    this.resetStates = this.floats(this.steps * n);
    this.dreset = this.floats(n);
    this.carried = this.floats(n);
  }
}
