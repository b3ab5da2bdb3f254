/**
 * Adam's update for float32 parameters, four at a time (Kingma & Ba 2015, bias correction folded into stepSize
 * as Keras does): m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²; w -= stepSize·m / (√v + ε). w, g, m and v are byte
 * offsets of n floats each in this module's memory. Plain multiply and add (no fused multiply-add), so the plain
 * and the relaxed SIMD builds give the same bits, and the scalar tail matches the vector lanes.
 */
export function adam(w: usize, g: usize, m: usize, v: usize, n: i32, beta1: f32, beta2: f32, stepSize: f32, epsilon: f32): void {
  const b1 = f32x4.splat(beta1);
  const c1 = f32x4.splat(1 - beta1);
  const b2 = f32x4.splat(beta2);
  const c2 = f32x4.splat(1 - beta2);
  const s = f32x4.splat(stepSize);
  const e = f32x4.splat(epsilon);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    const gv = v128.load(g + o);
    const mv = f32x4.add(f32x4.mul(b1, v128.load(m + o)), f32x4.mul(c1, gv));
    const vv = f32x4.add(f32x4.mul(b2, v128.load(v + o)), f32x4.mul(c2, f32x4.mul(gv, gv)));
    v128.store(m + o, mv);
    v128.store(v + o, vv);
    v128.store(w + o, f32x4.sub(v128.load(w + o), f32x4.div(f32x4.mul(s, mv), f32x4.add(f32x4.sqrt(vv), e))));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    const gs = load<f32>(g + o);
    const ms = beta1 * load<f32>(m + o) + (1 - beta1) * gs;
    const vs = beta2 * load<f32>(v + o) + (1 - beta2) * (gs * gs);
    store<f32>(m + o, ms);
    store<f32>(v + o, vs);
    store<f32>(w + o, load<f32>(w + o) - (stepSize * ms) / (Mathf.sqrt(vs) + epsilon));
  }
}
