import { describe, expect, it } from 'vitest';
import { gemm, gemmReference, Rng, tsGemm, type FloatArray, type FloatArrayConstructor, type Gemm } from '../../src/engine/index.js';

const EDGE_SIZES = [1, 3, 5, 7, 9, 17, 33, 65];

function randomArray(Float: FloatArrayConstructor, n: number, rng: Rng): FloatArray {
  const out = new Float(n);
  for (let i = 0; i < n; i++) out[i] = rng.next() * 2 - 1;
  return out;
}

function compare(
  impl: Gemm,
  Float: FloatArrayConstructor,
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  beta: number,
  rng: Rng,
): number {
  const a = randomArray(Float, m * k, rng);
  const b = randomArray(Float, k * n, rng);
  const c0 = randomArray(Float, m * n, rng);
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const fast = Float.from(c0);
  const ref = Float.from(c0);
  impl(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, fast, n);
  gemmReference(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, ref, n);
  let worst = 0;
  for (let i = 0; i < m * n; i++) worst = Math.max(worst, Math.abs(fast[i] - ref[i]) / (1 + Math.abs(ref[i])));
  return worst;
}

const implementations: [string, Gemm][] = [
  ['tsGemm', tsGemm],
  ['gemm (the entry point: wasm for float32, TypeScript for float64)', gemm],
];

describe.each(implementations)('%s', (_name, impl) => {
  for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    it(`matches the reference on edge sizes (transA=${transA}, transB=${transB})`, () => {
      const rng = new Rng(7);
      for (const m of EDGE_SIZES) {
        for (const n of EDGE_SIZES) {
          for (const k of [1, 7, 33, 300]) {
            expect(compare(impl, Float64Array, transA, transB, m, n, k, 1, 0, rng)).toBeLessThan(1e-12);
          }
        }
      }
    });
  }

  it('honours alpha and beta and accumulates across k blocks in float32', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 40; trial++) {
      const m = 1 + rng.below(70);
      const n = 1 + rng.below(70);
      const k = 1 + rng.below(700);
      const worst = compare(impl, Float32Array, rng.next() < 0.5, rng.next() < 0.5, m, n, k, 0.5 + rng.next(), rng.next(), rng);
      expect(worst).toBeLessThan(1e-5);
    }
  });

  it('honours alpha and beta on small products (outer products and short dots, every transpose)', () => {
    const rng = new Rng(13);
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      for (const m of [1, 3, 5, 16]) {
        for (const n of [1, 3, 4, 5, 16]) {
          for (const k of [1, 2, 3, 16]) {
            expect(compare(impl, Float64Array, transA, transB, m, n, k, 0.5 + rng.next(), rng.next(), rng)).toBeLessThan(1e-12);
          }
        }
      }
    }
  });

  it('matches the reference on batch-1 shapes (one row of C, outer products) with padded leading dimensions', () => {
    const rng = new Rng(17);
    for (const Float of [Float32Array, Float64Array]) {
      const tolerance = Float === Float32Array ? 1e-5 : 1e-12;
      for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        // m = 1: forward x·W and input gradients dz·Wᵀ at batch 1; k = 1: weight gradients xᵀ·dz at batch 1.
        const shapes = [1, 2, 3, 4, 5, 16, 17].flatMap((s) => [[1, s, 4], [1, 3, s], [s, 16, 1], [4, s, 1], [1, s, 1]]);
        for (const [m, n, k] of shapes) {
          for (const [alpha, beta] of [[1, 0], [1, 1], [0.5 + rng.next(), rng.next()]]) {
            const lda = (transA ? m : k) + 2;
            const ldb = (transB ? k : n) + 3;
            const ldc = n + 1;
            const a = randomArray(Float, (transA ? k : m) * lda, rng);
            const b = randomArray(Float, (transB ? n : k) * ldb, rng);
            const c0 = randomArray(Float, m * ldc, rng);
            const fast = Float.from(c0);
            const ref = Float.from(c0);
            impl(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, fast, ldc);
            gemmReference(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, ref, ldc);
            for (let i = 0; i < m * ldc; i++) {
              // Padding columns of C are left as they were.
              if (i % ldc >= n) expect(fast[i]).toBe(c0[i]);
              else expect(Math.abs(fast[i] - ref[i]) / (1 + Math.abs(ref[i]))).toBeLessThan(tolerance);
            }
          }
        }
      }
    }
  });

  it('never reads C when beta is 0', () => {
    const a = Float64Array.of(1, 2, 3, 4);
    const b = Float64Array.of(1, 0, 0, 1);
    const c = Float64Array.of(NaN, NaN, NaN, NaN);
    impl(false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2);
    expect(Array.from(c)).toEqual([1, 2, 3, 4]);
  });
});
