/**
 * A dense layer's elementwise passes, four floats at a time, with exactly the results of src/engine/activations.ts
 * and src/engine/layer.ts (the same comparisons and the same float32 additions in the same order): the engine
 * picks these or the TypeScript loops by size alone, and the bits must not depend on that choice. Pointers are byte
 * offsets into this module's memory.
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

/** out = the column sums of a rows x cols block, from the first row on (not from zeros: -0 stays -0), row by row. */
export function sumRowsFromFirst(m: usize, rows: i32, cols: i32, out: usize): void {
  const bytes = (<usize>cols) << 2;
  memory.copy(out, m, bytes);
  const cols4 = cols & ~3;
  for (let r = 1; r < rows; r++) {
    const row = m + <usize>r * bytes;
    let j = 0;
    for (; j < cols4; j += 4) {
      const o = (<usize>j) << 2;
      v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(row + o)));
    }
    for (; j < cols; j++) {
      const o = (<usize>j) << 2;
      store<f32>(out + o, load<f32>(out + o) + load<f32>(row + o));
    }
  }
}
