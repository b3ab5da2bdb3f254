/**
 * The elementwise work of one recurrent step, fused, four floats at a time: what rnn, lstm and gru layers do between
 * one step's product h_(t-1)·W_h and the next. In JavaScript each step walked its blocks several times (bias, gate
 * split, one pass per nonlinearity, cell update) at 5 to 20 ns per Math.exp or Math.tanh; here each element is read
 * once and written once per step.
 *
 * Every pointer is a byte offset into this module's memory. Activation codes: 0 linear, 1 sigmoid, 2 tanh, 3 relu,
 * 4 leakyRelu (src/engine/wasm/wasm-recurrent.ts maps the names). Derivatives are written in terms of the outputs,
 * as in src/engine/activations.ts. Plain multiply and add only (no fused multiply-add), so the plain and the relaxed
 * SIMD builds give the same bits; a tail of fewer than four floats goes through the same vector code, one lane used,
 * so it gets the bits the lanes would.
 */

const LINEAR = 0;
const SIGMOID = 1;
const TANH = 2;
const RELU = 3;
const LEAKY_SLOPE: f32 = 0.01;

/**
 * The constants of exp4, sigmoid4 and tanh4, read from memory with one broadcast load each: as v128 literals V8
 * builds each one from a general register in three instructions at every use (it does not hoist them out of loops),
 * which took half the time of an exp.
 */
const K = memory.data<f32>([
  -87.3, 88.3, 1.44269504088896341, 12582912.0, 0.693359375, -2.12194440e-4, 1.9875691500e-4, 1.3981999507e-3,
  8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1, 1, 2, 0.625, 0,
  -5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1, LEAKY_SLOPE,
]);
const K_INT = memory.data<i32>([127 - 0x4b400000, 0x80000000]);

@inline function k(i: i32): v128 {
  return v128.load32_splat(K + (<usize>i << 2));
}

/**
 * e^x, Cephes' expf: x = n·ln 2 + r with |r| <= ln 2 / 2, a degree-6 polynomial for e^r, 2^n put in the exponent
 * bits. Within 2 ulp; x is clamped so that 2^n stays a normal number (sigmoid and tanh need no more range).
 * pmin/pmax rather than min/max: one instruction each, where wasm's NaN-propagating min and max take eight.
 */
@inline function exp4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, k(0)), k(1));
  // Adding 1.5·2^23 rounds x·log2(e) to an integer n held in the low mantissa bits: no floor, no float-to-int
  // conversion (each several instructions on x64).
  const shifted = f32x4.add(f32x4.mul(x, k(2)), k(3));
  const n = f32x4.sub(shifted, k(3));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, k(4))), f32x4.mul(n, k(5)));
  let p = k(6);
  p = f32x4.add(f32x4.mul(p, r), k(7));
  p = f32x4.add(f32x4.mul(p, r), k(8));
  p = f32x4.add(f32x4.mul(p, r), k(9));
  p = f32x4.add(f32x4.mul(p, r), k(10));
  p = f32x4.add(f32x4.mul(p, r), k(11));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), k(12));
  // The bits of `shifted` are 0x4B400000 + n: moved up to the exponent field with the bias 127, they are 2^n.
  const scale = i32x4.shl(i32x4.add(shifted, v128.load32_splat(K_INT)), 23);
  return f32x4.mul(p, scale);
}

@inline function sigmoid4(x: v128): v128 {
  const one = k(12);
  return f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(x))));
}

/**
 * Cephes' tanhf: an odd polynomial below |x| = 0.625, where 1 - 2 / (e^(2|x|) + 1) would lose digits to
 * cancellation, that formula above it with the sign put back.
 */
@inline function tanh4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = k(16);
  p = f32x4.add(f32x4.mul(p, z), k(17));
  p = f32x4.add(f32x4.mul(p, z), k(18));
  p = f32x4.add(f32x4.mul(p, z), k(19));
  p = f32x4.add(f32x4.mul(p, z), k(20));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const one = k(12);
  const e = exp4(f32x4.add(ax, ax));
  const large = f32x4.sub(one, f32x4.div(k(13), f32x4.add(e, one)));
  const signed = v128.or(large, v128.and(x, v128.load32_splat(K_INT + 4)));
  return v128.bitselect(small, signed, f32x4.lt(ax, k(14)));
}

@inline function activate4(code: i32, z: v128): v128 {
  if (code == SIGMOID) return sigmoid4(z);
  if (code == TANH) return tanh4(z);
  if (code == LINEAR) return z;
  const negative = code == RELU ? k(15) : f32x4.mul(z, k(21));
  return v128.bitselect(z, negative, f32x4.gt(z, k(15)));
}

/** d act / dz written in terms of the output a. */
@inline function derivative4(code: i32, a: v128): v128 {
  const one = k(12);
  if (code == SIGMOID) return f32x4.mul(a, f32x4.sub(one, a));
  if (code == TANH) return f32x4.sub(one, f32x4.mul(a, a));
  if (code == LINEAR) return one;
  const negative = code == RELU ? k(15) : k(21);
  return v128.bitselect(one, negative, f32x4.gt(a, k(15)));
}

/**
 * Loads four floats, or one (in lane 0) when `one` is set: the tail of a row. Every kernel runs its per-position
 * body twice, inlined, with `one` a literal (false over whole vectors, true over the tail), so the choice folds away.
 */
@inline function load4(p: usize, one: bool): v128 {
  return one ? f32x4.splat(load<f32>(p)) : v128.load(p);
}

@inline function store4(p: usize, v: v128, one: bool): void {
  if (one) store<f32>(p, f32x4.extract_lane(v, 0));
  else v128.store(p, v);
}

/** Byte offset of float j. */
@inline function at(j: i32): usize {
  return <usize>j << 2;
}

@inline function rnnForwardAt(code: i32, z: usize, b: usize, h: usize, one: bool): void {
  store4(h, activate4(code, f32x4.add(load4(z, one), load4(b, one))), one);
}

/** h = act(z + b) for a rows x units block, b one row of units: an Elman step. */
export function rnnStepForward(code: i32, z: usize, bias: usize, h: usize, rows: i32, units: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = at(r * units);
    let j = 0;
    for (; j + 4 <= units; j += 4) rnnForwardAt(code, z + row + at(j), bias + at(j), h + row + at(j), false);
    for (; j < units; j++) rnnForwardAt(code, z + row + at(j), bias + at(j), h + row + at(j), true);
  }
}

@inline function rnnBackwardAt(code: i32, h: usize, dh: usize, dz: usize, one: bool): void {
  store4(dz, f32x4.mul(load4(dh, one), derivative4(code, load4(h, one))), one);
}

/** dz = dh ⊙ act'(h), n floats: an Elman step backward. */
export function rnnStepBackward(code: i32, h: usize, dh: usize, dz: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) rnnBackwardAt(code, h + at(i), dh + at(i), dz + at(i), false);
  for (; i < n; i++) rnnBackwardAt(code, h + at(i), dh + at(i), dz + at(i), true);
}

/** z: this position's z_i (z_f, z_g, z_o follow `gate` bytes apart); e: its byte offset in the rows x units blocks. */
@inline function lstmForwardAt(code: i32, z: usize, b: usize, gate: usize, cPrev: usize, c: usize, a: usize, h: usize, e: usize, one: bool): void {
  // One gate at a time, each stored before the next starts: with all four in flight V8 spills to the stack.
  store4(z, sigmoid4(f32x4.add(load4(z, one), load4(b, one))), one);
  store4(z + gate, sigmoid4(f32x4.add(load4(z + gate, one), load4(b + gate, one))), one);
  store4(z + 2 * gate, activate4(code, f32x4.add(load4(z + 2 * gate, one), load4(b + 2 * gate, one))), one);
  store4(z + 3 * gate, sigmoid4(f32x4.add(load4(z + 3 * gate, one), load4(b + 3 * gate, one))), one);
  let cell = f32x4.mul(load4(z, one), load4(z + 2 * gate, one));
  if (cPrev != 0) cell = f32x4.add(f32x4.mul(load4(z + gate, one), load4(cPrev + e, one)), cell);
  const out = activate4(code, cell);
  store4(c + e, cell, one);
  store4(a + e, out, one);
  store4(h + e, f32x4.mul(load4(z + 3 * gate, one), out), one);
}

/**
 * One LSTM step after its product. z holds rows of [z_i z_f z_g z_o] (each `units` wide) without the bias; it
 * gets the gate outputs [i f g o] in their place, which backward reads. cPrev is 0 at the first step.
 *   c = f ⊙ c_prev + i ⊙ g;  a = act(c);  h = o ⊙ a
 */
export function lstmStepForward(code: i32, z: usize, bias: usize, cPrev: usize, c: usize, a: usize, h: usize, rows: i32, units: i32): void {
  const gate = at(units);
  for (let r = 0; r < rows; r++) {
    const zRow = z + at(r * 4 * units);
    const row = at(r * units);
    let j = 0;
    for (; j + 4 <= units; j += 4) lstmForwardAt(code, zRow + at(j), bias + at(j), gate, cPrev, c, a, h, row + at(j), false);
    for (; j < units; j++) lstmForwardAt(code, zRow + at(j), bias + at(j), gate, cPrev, c, a, h, row + at(j), true);
  }
}

@inline function lstmBackwardAt(
  code: i32, z: usize, gate: usize, dh: usize, dcNext: usize, cPrev: usize, a: usize, e: usize, fromNext: i32, carry: i32, one: bool,
): void {
  const one4 = k(12);
  const i = load4(z, one);
  const f = load4(z + gate, one);
  const g = load4(z + 2 * gate, one);
  const o = load4(z + 3 * gate, one);
  const d = load4(dh + e, one);
  const out = load4(a + e, one);
  let dc = f32x4.mul(f32x4.mul(d, o), derivative4(code, out));
  if (fromNext) dc = f32x4.add(dc, load4(dcNext + e, one));
  const previous = cPrev == 0 ? k(15) : load4(cPrev + e, one);
  store4(z, f32x4.mul(f32x4.mul(dc, g), f32x4.mul(i, f32x4.sub(one4, i))), one);
  store4(z + gate, f32x4.mul(f32x4.mul(dc, previous), f32x4.mul(f, f32x4.sub(one4, f))), one);
  store4(z + 2 * gate, f32x4.mul(f32x4.mul(dc, i), derivative4(code, g)), one);
  store4(z + 3 * gate, f32x4.mul(f32x4.mul(d, out), f32x4.mul(o, f32x4.sub(one4, o))), one);
  store4(dcNext + e, carry ? f32x4.mul(dc, f) : k(15), one);
}

/**
 * One LSTM step backward. z holds the step's gate outputs [i f g o] and gets dL/dz in their place; dh is dL/dh_t;
 * dcNext holds what step t+1's cell sends back (read when fromNext) and gets what this cell sends to step t-1 (zero
 * unless carry). cPrev is 0 at the first step.
 *   dc = dh ⊙ o ⊙ act'(a) + dc_next;  dz_i = dc ⊙ g ⊙ i(1-i);  dz_f = dc ⊙ c_prev ⊙ f(1-f)
 *   dz_g = dc ⊙ i ⊙ act'(g);  dz_o = dh ⊙ a ⊙ o(1-o);  dc_prev = dc ⊙ f
 */
export function lstmStepBackward(
  code: i32, z: usize, dh: usize, dcNext: usize, cPrev: usize, a: usize, rows: i32, units: i32, fromNext: i32, carry: i32,
): void {
  const gate = at(units);
  for (let r = 0; r < rows; r++) {
    const zRow = z + at(r * 4 * units);
    const row = at(r * units);
    let j = 0;
    for (; j + 4 <= units; j += 4) lstmBackwardAt(code, zRow + at(j), gate, dh, dcNext, cPrev, a, row + at(j), fromNext, carry, false);
    for (; j < units; j++) lstmBackwardAt(code, zRow + at(j), gate, dh, dcNext, cPrev, a, row + at(j), fromNext, carry, true);
  }
}

@inline function gruGatesAt(z: usize, b: usize, gate: usize, hPrev: usize, rh: usize, e: usize, one: bool): void {
  store4(z, sigmoid4(f32x4.add(load4(z, one), load4(b, one))), one);
  const reset = sigmoid4(f32x4.add(load4(z + gate, one), load4(b + gate, one)));
  store4(z + gate, reset, one);
  store4(rh + e, hPrev == 0 ? k(15) : f32x4.mul(reset, load4(hPrev + e, one)), one);
}

/**
 * A GRU step's gates, after the product of h_(t-1) with the update and reset columns of W_h. z holds rows of
 * [z_u z_r z_c] without the bias; u and r take the place of z_u and z_r, and rh = r ⊙ h_(t-1) (zero at the first
 * step, hPrev 0) is written for the candidate's product, which the caller adds to z_c before gruStepState.
 */
export function gruStepGates(z: usize, bias: usize, hPrev: usize, rh: usize, rows: i32, units: i32): void {
  const gate = at(units);
  for (let r = 0; r < rows; r++) {
    const zRow = z + at(r * 3 * units);
    const row = at(r * units);
    let j = 0;
    for (; j + 4 <= units; j += 4) gruGatesAt(zRow + at(j), bias + at(j), gate, hPrev, rh, row + at(j), false);
    for (; j < units; j++) gruGatesAt(zRow + at(j), bias + at(j), gate, hPrev, rh, row + at(j), true);
  }
}

@inline function gruStateAt(code: i32, z: usize, b: usize, gate: usize, hPrev: usize, h: usize, e: usize, one: bool): void {
  const c = activate4(code, f32x4.add(load4(z + 2 * gate, one), load4(b + 2 * gate, one)));
  store4(z + 2 * gate, c, one);
  const u = load4(z, one);
  const kept = hPrev == 0 ? k(15) : f32x4.mul(u, load4(hPrev + e, one));
  store4(h + e, f32x4.add(kept, f32x4.mul(f32x4.sub(k(12), u), c)), one);
}

/** The GRU's candidate and state: c = act(z_c + b_c) in z_c's place, h = u ⊙ h_(t-1) + (1 - u) ⊙ c. */
export function gruStepState(code: i32, z: usize, bias: usize, hPrev: usize, h: usize, rows: i32, units: i32): void {
  const gate = at(units);
  for (let r = 0; r < rows; r++) {
    const zRow = z + at(r * 3 * units);
    const row = at(r * units);
    let j = 0;
    for (; j + 4 <= units; j += 4) gruStateAt(code, zRow + at(j), bias + at(j), gate, hPrev, h, row + at(j), false);
    for (; j < units; j++) gruStateAt(code, zRow + at(j), bias + at(j), gate, hPrev, h, row + at(j), true);
  }
}

@inline function gruUpdateAt(code: i32, z: usize, gate: usize, dh: usize, hPrev: usize, carried: usize, e: usize, carry: i32, one: bool): void {
  const one4 = k(12);
  const u = load4(z, one);
  const c = load4(z + 2 * gate, one);
  const d = load4(dh + e, one);
  const previous = hPrev == 0 ? k(15) : load4(hPrev + e, one);
  store4(z, f32x4.mul(f32x4.mul(d, f32x4.sub(previous, c)), f32x4.mul(u, f32x4.sub(one4, u))), one);
  store4(z + 2 * gate, f32x4.mul(f32x4.mul(d, f32x4.sub(one4, u)), derivative4(code, c)), one);
  if (carry) store4(carried + e, f32x4.mul(d, u), one);
}

/**
 * A GRU step backward, first half: z holds the gate outputs [u r c]; dz_u = dh ⊙ (h_(t-1) - c) ⊙ u(1-u) and
 * dz_c = dh ⊙ (1 - u) ⊙ act'(c) take the places of u and c; carried = dh ⊙ u when gradients go on to step t-1.
 * The caller then forms dL/d(r ⊙ h_(t-1)) = dz_c·W_hcᵀ for gruStepBackwardReset.
 */
export function gruStepBackwardUpdate(code: i32, z: usize, dh: usize, hPrev: usize, carried: usize, rows: i32, units: i32, carry: i32): void {
  const gate = at(units);
  for (let r = 0; r < rows; r++) {
    const zRow = z + at(r * 3 * units);
    const row = at(r * units);
    let j = 0;
    for (; j + 4 <= units; j += 4) gruUpdateAt(code, zRow + at(j), gate, dh, hPrev, carried, row + at(j), carry, false);
    for (; j < units; j++) gruUpdateAt(code, zRow + at(j), gate, dh, hPrev, carried, row + at(j), carry, true);
  }
}

@inline function gruResetAt(zr: usize, dReset: usize, hPrev: usize, carried: usize, e: usize, carry: i32, one: bool): void {
  if (hPrev == 0) {
    store4(zr, k(15), one);
    return;
  }
  const reset = load4(zr, one);
  const dr = load4(dReset + e, one);
  store4(zr, f32x4.mul(f32x4.mul(dr, load4(hPrev + e, one)), f32x4.mul(reset, f32x4.sub(k(12), reset))), one);
  if (carry) store4(carried + e, f32x4.add(load4(carried + e, one), f32x4.mul(dr, reset)), one);
}

/**
 * Second half: dz_r = dReset ⊙ h_(t-1) ⊙ r(1-r) in r's place (zero at the first step, hPrev 0, where dReset is
 * not read), and carried += dReset ⊙ r when gradients go on.
 */
export function gruStepBackwardReset(z: usize, dReset: usize, hPrev: usize, carried: usize, rows: i32, units: i32, carry: i32): void {
  const gate = at(units);
  for (let r = 0; r < rows; r++) {
    const zr = z + at(r * 3 * units) + gate;
    const row = at(r * units);
    let j = 0;
    for (; j + 4 <= units; j += 4) gruResetAt(zr + at(j), dReset, hPrev, carried, row + at(j), carry, false);
    for (; j < units; j++) gruResetAt(zr + at(j), dReset, hPrev, carried, row + at(j), carry, true);
  }
}

@inline function addAt(dst: usize, src: usize, one: bool): void {
  store4(dst, f32x4.add(load4(dst, one), load4(src, one)), one);
}

/** dst[r][j] += src[r·stride + j] for a rows x cols block: one step's rows of a sample-major dL/d(output). */
export function addRows(dst: usize, src: usize, rows: i32, cols: i32, stride: i32): void {
  for (let r = 0; r < rows; r++) {
    const to = dst + at(r * cols);
    const from = src + at(r * stride);
    let j = 0;
    for (; j + 4 <= cols; j += 4) addAt(to + at(j), from + at(j), false);
    for (; j < cols; j++) addAt(to + at(j), from + at(j), true);
  }
}

/**
 * out = the column sums of a rows x cols block (a bias gradient), row after row: out stays in L1 while m streams.
 * It starts from the first row, not from zeros, as sumRows in src/engine/layer.ts does: the same additions in the
 * same order, so the bits (a -0 included) do not depend on which of the two ran.
 */
export function sumRows(m: usize, rows: i32, cols: i32, out: usize): void {
  if (rows <= 0) {
    memory.fill(out, 0, at(cols));
    return;
  }
  memory.copy(out, m, at(cols));
  for (let r = 1; r < rows; r++) addRows(out, m + at(r * cols), 1, cols, 0);
}
