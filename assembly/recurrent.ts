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
 * e^x, Cephes' expf: x = n·ln 2 + r with |r| <= ln 2 / 2, a degree-6 polynomial for e^r, 2^n put in the exponent
 * bits. Within 2 ulp; x is clamped so that 2^n stays a normal number (sigmoid and tanh need no more range).
 */
@inline function exp4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const n = f32x4.floor(f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(0.5)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375))), f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

@inline function sigmoid4(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(x))));
}

/**
 * Cephes' tanhf: an odd polynomial below |x| = 0.625, where 1 - 2 / (e^(2|x|) + 1) would lose digits to
 * cancellation, that formula above it with the sign put back.
 */
@inline function tanh4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const one = f32x4.splat(1);
  const e = exp4(f32x4.add(ax, ax));
  const large = f32x4.sub(one, f32x4.div(f32x4.splat(2), f32x4.add(e, one)));
  const signed = v128.or(large, v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(ax, f32x4.splat(0.625)));
}

@inline function activate4(code: i32, z: v128): v128 {
  if (code == SIGMOID) return sigmoid4(z);
  if (code == TANH) return tanh4(z);
  if (code == LINEAR) return z;
  const negative = code == RELU ? f32x4.splat(0) : f32x4.mul(z, f32x4.splat(LEAKY_SLOPE));
  return v128.bitselect(z, negative, f32x4.gt(z, f32x4.splat(0)));
}

/** d act / dz written in terms of the output a. */
@inline function derivative4(code: i32, a: v128): v128 {
  const one = f32x4.splat(1);
  if (code == SIGMOID) return f32x4.mul(a, f32x4.sub(one, a));
  if (code == TANH) return f32x4.sub(one, f32x4.mul(a, a));
  if (code == LINEAR) return one;
  const negative = code == RELU ? f32x4.splat(0) : f32x4.splat(LEAKY_SLOPE);
  return v128.bitselect(one, negative, f32x4.gt(a, f32x4.splat(0)));
}

/** Loads four floats, or one (in lane 0) when `one` is set: the tail of a row. */
@inline function load4(p: usize, one: bool): v128 {
  return one ? f32x4.splat(load<f32>(p)) : v128.load(p);
}

@inline function store4(p: usize, v: v128, one: bool): void {
  if (one) store<f32>(p, f32x4.extract_lane(v, 0));
  else v128.store(p, v);
}

/** h = act(z + b) for a rows x units block, b one row of units: an Elman step. */
export function rnnStepForward(code: i32, z: usize, bias: usize, h: usize, rows: i32, units: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = <usize>(r * units) << 2;
    for (let j = 0; j < units; ) {
      const one = units - j < 4;
      const o = row + (<usize>j << 2);
      const b = bias + (<usize>j << 2);
      store4(h + o, activate4(code, f32x4.add(load4(z + o, one), load4(b, one))), one);
      j += one ? 1 : 4;
    }
  }
}

/** dz = dh ⊙ act'(h), n floats: an Elman step backward. */
export function rnnStepBackward(code: i32, h: usize, dh: usize, dz: usize, n: i32): void {
  for (let i = 0; i < n; ) {
    const one = n - i < 4;
    const o = <usize>i << 2;
    store4(dz + o, f32x4.mul(load4(dh + o, one), derivative4(code, load4(h + o, one))), one);
    i += one ? 1 : 4;
  }
}

/**
 * One LSTM step after its product. z holds rows of [z_i z_f z_g z_o] (each `units` wide) without the bias; it
 * gets the gate outputs [i f g o] in their place, which backward reads. cPrev is 0 at the first step.
 *   c = f ⊙ c_prev + i ⊙ g;  a = act(c);  h = o ⊙ a
 */
export function lstmStepForward(code: i32, z: usize, bias: usize, cPrev: usize, c: usize, a: usize, h: usize, rows: i32, units: i32): void {
  const gate = <usize>units << 2;
  for (let r = 0; r < rows; r++) {
    const zRow = z + (<usize>(r * 4 * units) << 2);
    const row = <usize>(r * units) << 2;
    for (let j = 0; j < units; ) {
      const one = units - j < 4;
      const zj = zRow + (<usize>j << 2);
      const bj = bias + (<usize>j << 2);
      const i = sigmoid4(f32x4.add(load4(zj, one), load4(bj, one)));
      const f = sigmoid4(f32x4.add(load4(zj + gate, one), load4(bj + gate, one)));
      const g = activate4(code, f32x4.add(load4(zj + 2 * gate, one), load4(bj + 2 * gate, one)));
      const o = sigmoid4(f32x4.add(load4(zj + 3 * gate, one), load4(bj + 3 * gate, one)));
      store4(zj, i, one);
      store4(zj + gate, f, one);
      store4(zj + 2 * gate, g, one);
      store4(zj + 3 * gate, o, one);
      const e = row + (<usize>j << 2);
      const ig = f32x4.mul(i, g);
      const cell = cPrev == 0 ? ig : f32x4.add(f32x4.mul(f, load4(cPrev + e, one)), ig);
      const out = activate4(code, cell);
      store4(c + e, cell, one);
      store4(a + e, out, one);
      store4(h + e, f32x4.mul(o, out), one);
      j += one ? 1 : 4;
    }
  }
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
  const gate = <usize>units << 2;
  const zero = f32x4.splat(0);
  const one4 = f32x4.splat(1);
  for (let r = 0; r < rows; r++) {
    const zRow = z + (<usize>(r * 4 * units) << 2);
    const row = <usize>(r * units) << 2;
    for (let j = 0; j < units; ) {
      const one = units - j < 4;
      const zj = zRow + (<usize>j << 2);
      const e = row + (<usize>j << 2);
      const i = load4(zj, one);
      const f = load4(zj + gate, one);
      const g = load4(zj + 2 * gate, one);
      const o = load4(zj + 3 * gate, one);
      const d = load4(dh + e, one);
      const out = load4(a + e, one);
      let dc = f32x4.mul(f32x4.mul(d, o), derivative4(code, out));
      if (fromNext) dc = f32x4.add(dc, load4(dcNext + e, one));
      const previous = cPrev == 0 ? zero : load4(cPrev + e, one);
      store4(zj, f32x4.mul(f32x4.mul(dc, g), f32x4.mul(i, f32x4.sub(one4, i))), one);
      store4(zj + gate, f32x4.mul(f32x4.mul(dc, previous), f32x4.mul(f, f32x4.sub(one4, f))), one);
      store4(zj + 2 * gate, f32x4.mul(f32x4.mul(dc, i), derivative4(code, g)), one);
      store4(zj + 3 * gate, f32x4.mul(f32x4.mul(d, out), f32x4.mul(o, f32x4.sub(one4, o))), one);
      store4(dcNext + e, carry ? f32x4.mul(dc, f) : zero, one);
      j += one ? 1 : 4;
    }
  }
}

/**
 * A GRU step's gates, after the product of h_(t-1) with the update and reset columns of W_h. z holds rows of
 * [z_u z_r z_c] without the bias; u and r take the place of z_u and z_r, and rh = r ⊙ h_(t-1) (zero at the first
 * step, hPrev 0) is written for the candidate's product, which the caller adds to z_c before gruStepState.
 */
export function gruStepGates(z: usize, bias: usize, hPrev: usize, rh: usize, rows: i32, units: i32): void {
  const gate = <usize>units << 2;
  for (let r = 0; r < rows; r++) {
    const zRow = z + (<usize>(r * 3 * units) << 2);
    const row = <usize>(r * units) << 2;
    for (let j = 0; j < units; ) {
      const one = units - j < 4;
      const zj = zRow + (<usize>j << 2);
      const bj = bias + (<usize>j << 2);
      const e = row + (<usize>j << 2);
      store4(zj, sigmoid4(f32x4.add(load4(zj, one), load4(bj, one))), one);
      const reset = sigmoid4(f32x4.add(load4(zj + gate, one), load4(bj + gate, one)));
      store4(zj + gate, reset, one);
      store4(rh + e, hPrev == 0 ? f32x4.splat(0) : f32x4.mul(reset, load4(hPrev + e, one)), one);
      j += one ? 1 : 4;
    }
  }
}

/** The GRU's candidate and state: c = act(z_c + b_c) in z_c's place, h = u ⊙ h_(t-1) + (1 - u) ⊙ c. */
export function gruStepState(code: i32, z: usize, bias: usize, hPrev: usize, h: usize, rows: i32, units: i32): void {
  const gate = <usize>units << 2;
  const one4 = f32x4.splat(1);
  for (let r = 0; r < rows; r++) {
    const zRow = z + (<usize>(r * 3 * units) << 2);
    const row = <usize>(r * units) << 2;
    for (let j = 0; j < units; ) {
      const one = units - j < 4;
      const zj = zRow + (<usize>j << 2);
      const e = row + (<usize>j << 2);
      const c = activate4(code, f32x4.add(load4(zj + 2 * gate, one), load4(bias + (<usize>j << 2) + 2 * gate, one)));
      store4(zj + 2 * gate, c, one);
      const u = load4(zj, one);
      const kept = hPrev == 0 ? f32x4.splat(0) : f32x4.mul(u, load4(hPrev + e, one));
      store4(h + e, f32x4.add(kept, f32x4.mul(f32x4.sub(one4, u), c)), one);
      j += one ? 1 : 4;
    }
  }
}

/**
 * A GRU step backward, first half: z holds the gate outputs [u r c]; dz_u = dh ⊙ (h_(t-1) - c) ⊙ u(1-u) and
 * dz_c = dh ⊙ (1 - u) ⊙ act'(c) take the places of u and c; carried = dh ⊙ u when gradients go on to step t-1.
 * The caller then forms dL/d(r ⊙ h_(t-1)) = dz_c·W_hcᵀ for gruStepBackwardReset.
 */
export function gruStepBackwardUpdate(code: i32, z: usize, dh: usize, hPrev: usize, carried: usize, rows: i32, units: i32, carry: i32): void {
  const gate = <usize>units << 2;
  const one4 = f32x4.splat(1);
  for (let r = 0; r < rows; r++) {
    const zRow = z + (<usize>(r * 3 * units) << 2);
    const row = <usize>(r * units) << 2;
    for (let j = 0; j < units; ) {
      const one = units - j < 4;
      const zj = zRow + (<usize>j << 2);
      const e = row + (<usize>j << 2);
      const u = load4(zj, one);
      const c = load4(zj + 2 * gate, one);
      const d = load4(dh + e, one);
      const previous = hPrev == 0 ? f32x4.splat(0) : load4(hPrev + e, one);
      store4(zj, f32x4.mul(f32x4.mul(d, f32x4.sub(previous, c)), f32x4.mul(u, f32x4.sub(one4, u))), one);
      store4(zj + 2 * gate, f32x4.mul(f32x4.mul(d, f32x4.sub(one4, u)), derivative4(code, c)), one);
      if (carry) store4(carried + e, f32x4.mul(d, u), one);
      j += one ? 1 : 4;
    }
  }
}

/**
 * Second half: dz_r = dReset ⊙ h_(t-1) ⊙ r(1-r) in r's place (zero at the first step, hPrev 0, where dReset is
 * not read), and carried += dReset ⊙ r when gradients go on.
 */
export function gruStepBackwardReset(z: usize, dReset: usize, hPrev: usize, carried: usize, rows: i32, units: i32, carry: i32): void {
  const gate = <usize>units << 2;
  const one4 = f32x4.splat(1);
  for (let r = 0; r < rows; r++) {
    const zj0 = z + (<usize>(r * 3 * units) << 2) + gate;
    const row = <usize>(r * units) << 2;
    for (let j = 0; j < units; ) {
      const one = units - j < 4;
      const zj = zj0 + (<usize>j << 2);
      const e = row + (<usize>j << 2);
      if (hPrev == 0) {
        store4(zj, f32x4.splat(0), one);
      } else {
        const reset = load4(zj, one);
        const dr = load4(dReset + e, one);
        store4(zj, f32x4.mul(f32x4.mul(dr, load4(hPrev + e, one)), f32x4.mul(reset, f32x4.sub(one4, reset))), one);
        if (carry) store4(carried + e, f32x4.add(load4(carried + e, one), f32x4.mul(dr, reset)), one);
      }
      j += one ? 1 : 4;
    }
  }
}

/** dst[r][j] += src[r·stride + j] for a rows x cols block: one step's rows of a sample-major dL/d(output). */
export function addRows(dst: usize, src: usize, rows: i32, cols: i32, stride: i32): void {
  for (let r = 0; r < rows; r++) {
    const to = dst + (<usize>(r * cols) << 2);
    const from = src + (<usize>(r * stride) << 2);
    for (let j = 0; j < cols; ) {
      const one = cols - j < 4;
      const o = <usize>j << 2;
      store4(to + o, f32x4.add(load4(to + o, one), load4(from + o, one)), one);
      j += one ? 1 : 4;
    }
  }
}

/** out = the column sums of a rows x cols block (a bias gradient), row after row: out stays in L1 while m streams. */
export function sumRows(m: usize, rows: i32, cols: i32, out: usize): void {
  memory.fill(out, 0, <usize>cols << 2);
  for (let r = 0; r < rows; r++) addRows(out, m + (<usize>(r * cols) << 2), 1, cols, 0);
}
