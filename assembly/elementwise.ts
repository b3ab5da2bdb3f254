/**
 * relu's two passes, four floats at a time, with exactly the results of src/engine/activations.ts (the same
 * comparisons): the engine picks these or the TypeScript loops by size alone, and the bits must not depend on that
 * choice. Pointers are byte offsets into this module's memory. (The bias gradient's column sums are sumRows in
 * recurrent.ts.)
 */

/** a = z > 0 ? z : 0 over n floats: NaN and -0 give +0, as the comparison does in TypeScript. */
export function reluForward(z: usize, a: usize, n: i32): void {
  const zero = f32x4.splat(0);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    const v = v128.load(z + o);
    v128.store(a + o, v128.and(v, f32x4.gt(v, zero)));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    const v = load<f32>(z + o);
    store<f32>(a + o, v > 0 ? v : 0);
  }
}

/** g = a > 0 ? g : +0 over n floats: the gradient's own bits where the unit was active, +0 elsewhere. */
export function reluBackward(a: usize, g: usize, n: i32): void {
  const zero = f32x4.splat(0);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(g + o, v128.and(v128.load(g + o), f32x4.gt(v128.load(a + o), zero)));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    if (!(load<f32>(a + o) > 0)) store<u32>(g + o, 0);
  }
}
