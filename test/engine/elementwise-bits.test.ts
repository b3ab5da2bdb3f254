import { describe, expect, it } from 'vitest';
import { getActivation } from '../../src/engine/activations.js';
import { repeatRow, sumRows } from '../../src/engine/layer.js';
import { WasmGemm } from '../../src/engine/wasm/wasm-gemm.js';
import { Rng } from '../../src/engine/index.js';

const relu = getActivation('relu');
const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

/** Random bit patterns (every kind of float: NaNs of both signs, infinities, subnormals, -0) and the edge cases. */
function anyFloats(n: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  const raw = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) raw[i] = Math.floor(rng.next() * 2 ** 32) >>> 0;
  const edges = [0, 0x80000000, 1, 0x80000001, 0x7f800000, 0xff800000, 0x7f800001, 0x7fc00000, 0xffc00000, 0x7fffffff, 0xffffffff, 0x3f800000, 0xbf800000, 0x7f7fffff];
  edges.forEach((e, i) => (raw[i] = e));
  return out;
}

describe('relu on float32 arrays, in TypeScript or WebAssembly by size', () => {
  // 1,023 values take the TypeScript loop, 1,024 and more the WebAssembly kernel; both must give the loop's bits.
  for (const n of [1023, 1024, 1027, 8192]) {
    it(`forward gives exactly z > 0 ? z : 0, NaN and -0 included (${n} values)`, () => {
      const z = anyFloats(n, new Rng(n));
      const a = new Float32Array(n).fill(7);
      relu.forward(z, a, 1, n);
      expect(bits(a)).toEqual(bits(Float32Array.from(z, (v) => (v > 0 ? v : 0))));
    });

    it(`backward keeps the gradient exactly where a > 0 (${n} values)`, () => {
      const rng = new Rng(n + 1);
      const a = anyFloats(n, rng);
      const grad = anyFloats(n, rng).reverse();
      // Built on the bits: through a JavaScript number a NaN would lose its payload.
      const expected = bits(grad).map((g, i) => (a[i] > 0 ? g : 0));
      relu.backward(a, grad, 1, n);
      expect(bits(grad)).toEqual(expected);
    });
  }

  it('works on subarrays at an offset, leaving the values around them alone', () => {
    const z = anyFloats(1000, new Rng(9));
    const out = new Float32Array(1000).fill(5);
    relu.forward(z.subarray(100, 900), out.subarray(100, 900), 20, 40);
    expect(bits(out.subarray(0, 100))).toEqual(bits(new Float32Array(100).fill(5)));
    expect(bits(out.subarray(100, 900))).toEqual(bits(Float32Array.from(z.subarray(100, 900), (v) => (v > 0 ? v : 0))));
    expect(bits(out.subarray(900))).toEqual(bits(new Float32Array(100).fill(5)));
  });
});

describe('sumRows', () => {
  it('gives the bits of the TypeScript additions, row after row from the first (so -0 stays -0), on either path', () => {
    const rng = new Rng(4);
    for (const [rows, cols] of [[1, 1024], [7, 150], [64, 128], [64, 10], [3, 1023], [200, 7]]) {
      const m = anyFloats(rows * cols, rng).map((v) => (Number.isFinite(v) ? v : 0) * 1e-30);
      m[1] = -0;
      const expected = new Float32Array(cols);
      for (let j = 0; j < cols; j++) expected[j] = m[j];
      for (let r = 1; r < rows; r++) for (let j = 0; j < cols; j++) expected[j] += m[r * cols + j];
      const out = new Float32Array(cols).fill(9);
      sumRows(m, rows, out);
      expect(bits(out), `${rows} x ${cols}`).toEqual(bits(expected));
    }
  });
});

describe('the kernels on views of their own memory (no staging copies)', () => {
  it('relu and sumRows in place give what the staged calls give', () => {
    const kernels = new WasmGemm('simd');
    const rng = new Rng(8);
    const source = anyFloats(4096, rng);
    const z = kernels.alloc(4096).view();
    const a = kernels.alloc(4096).view();
    z.set(source);
    kernels.reluForward(z, a, 4096);
    expect(bits(a)).toEqual(bits(Float32Array.from(source, (v) => (v > 0 ? v : 0))));
    const g = kernels.alloc(4096).view();
    g.set(anyFloats(4096, rng));
    const expected = bits(g).map((v, i) => (source[i] > 0 ? v : 0));
    kernels.reluBackward(z, g, 4096);
    expect(bits(g)).toEqual(expected);
    const out = kernels.alloc(64).view();
    const finite = kernels.alloc(4096).view();
    finite.set(source.map((v) => (Number.isFinite(v) ? v : 1)));
    kernels.sumRows(finite, 64, 64, out);
    const staged = new Float32Array(64);
    new WasmGemm('simd').sumRows(Float32Array.from(finite), 64, 64, staged);
    expect(bits(out)).toEqual(bits(staged));
  });
});

describe('repeatRow', () => {
  it('writes the row into exactly the first `rows` rows, for loops and doubling copies alike', () => {
    const rng = new Rng(3);
    for (const width of [1, 3, 10, 64, 128, 513]) {
      for (const rows of [1, 2, 3, 5, 63, 64, 100, 1000]) {
        const row = Float32Array.from({ length: width }, () => rng.next());
        const out = new Float32Array(rows * width + 7).fill(-1);
        repeatRow(row, out, rows);
        const expected = new Float32Array(rows * width + 7).fill(-1);
        for (let r = 0; r < rows; r++) expected.set(row, r * width);
        expect(Buffer.from(out.buffer).equals(Buffer.from(expected.buffer)), `${rows} rows of ${width}`).toBe(true);
      }
    }
  });
});
