import { invalid } from '../errors.js';
import type { ActivationName } from '../types.js';

/**
 * The exports of assembly/recurrent.ts: one fused pass per recurrent step, forward and backward. Every pointer is a
 * byte offset into the memory of the instance they come from; 0 means "none" (no allocation starts at 0).
 */
export interface RecurrentKernels {
  rnnStepForward(code: number, z: number, bias: number, h: number, rows: number, units: number): void;
  rnnStepBackward(code: number, h: number, dh: number, dz: number, n: number): void;
  lstmStepForward(code: number, z: number, bias: number, cPrev: number, c: number, a: number, h: number, rows: number, units: number): void;
  lstmStepBackward(
    code: number, z: number, dh: number, dcNext: number, cPrev: number, a: number, rows: number, units: number, fromNext: number, carry: number,
  ): void;
  gruStepGates(z: number, bias: number, hPrev: number, rh: number, rows: number, units: number): void;
  gruStepState(code: number, z: number, bias: number, hPrev: number, h: number, rows: number, units: number): void;
  gruStepBackwardUpdate(code: number, z: number, dh: number, hPrev: number, carried: number, rows: number, units: number, carry: number): void;
  gruStepBackwardReset(z: number, dReset: number, hPrev: number, carried: number, rows: number, units: number, carry: number): void;
  addRows(dst: number, src: number, rows: number, cols: number, stride: number): void;
  sumRows(m: number, rows: number, cols: number, out: number): void;
}

const CODES: Partial<Record<ActivationName, number>> = { linear: 0, sigmoid: 1, tanh: 2, relu: 3, leakyRelu: 4 };

/** The kernels' number for an elementwise activation. */
export function activationCode(name: ActivationName): number {
  const code = CODES[name];
  if (code === undefined) throw invalid('activation', 'an elementwise activation (not softmax) in a recurrent layer', name);
  return code;
}
