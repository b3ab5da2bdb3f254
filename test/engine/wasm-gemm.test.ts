// Relaxed SIMD is behind a flag on Node 20; setting it is the host's job, done by every entry point through this.
import '../../src/runtime/wasm-flags.js';
import { describe, expect, it } from 'vitest';
import { EngineError, gemmReference, Rng, type FloatArray } from '../../src/engine/index.js';
import {
  allocFloat32,
  relaxedSimdSupported,
  WasmGemm,
  wasmGemm,
  wasmGemmVariant,
  type WasmGemmVariant,
} from '../../src/engine/wasm/wasm-gemm.js';

const EDGE_SIZES = [1, 3, 5, 7, 9, 17, 33, 65];
const TRANSPOSES = [[false, false], [true, false], [false, true], [true, true]] as const;
// Sentinel in the gaps of strided C rows: gemm must leave them alone.
const GAP = 12345;

type Placement = 'wasm memory' | 'Float32Array' | 'Float64Array';

interface Case {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  /** Extra elements per row beyond the matrix, for A, B and C. */
  pad?: [number, number, number];
}

/** Runs one product with `placement` operands; returns the worst |fast - ref| / (1 + |ref|), NaN if anything is off. */
function worstError(w: WasmGemm, placement: Placement, c: Case, rng: Rng): number {
  const { transA, transB, m, n, k, alpha, beta } = c;
  const [padA, padB, padC] = c.pad ?? [0, 0, 0];
  const lda = (transA ? m : k) + padA;
  const ldb = (transB ? k : n) + padB;
  const ldc = n + padC;
  const lengths = [(transA ? k : m) * lda, (transB ? n : k) * ldb, m * ldc];
  const mark = w.mark();
  let arrays: FloatArray[];
  if (placement === 'wasm memory') {
    // Views only after the last alloc(): growing memory detaches earlier views.
    const handles = lengths.map((length) => w.alloc(length));
    arrays = handles.map((handle) => handle.view());
  } else {
    const Float = placement === 'Float32Array' ? Float32Array : Float64Array;
    arrays = lengths.map((length) => new Float(length));
  }
  const [a, b, cFast] = arrays;
  for (const array of [a, b]) for (let i = 0; i < array.length; i++) array[i] = Math.fround(rng.next() * 2 - 1);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < ldc; j++) {
      // beta = 0 must not read C: NaNs there would poison the result.
      cFast[i * ldc + j] = j >= n ? GAP : beta === 0 ? NaN : Math.fround(rng.next() * 2 - 1);
    }
  }
  const cRef = Float64Array.from(cFast);
  gemmReference(transA, transB, m, n, k, alpha, Float64Array.from(a), lda, Float64Array.from(b), ldb, beta, cRef, ldc);
  w.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, cFast, ldc);
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < ldc; j++) {
      const got = cFast[i * ldc + j];
      const want = cRef[i * ldc + j];
      worst = Math.max(worst, j >= n ? (got === GAP ? 0 : NaN) : Math.abs(got - want) / (1 + Math.abs(want)));
    }
  }
  w.release(mark);
  return worst;
}

const variants: WasmGemmVariant[] = relaxedSimdSupported() ? ['simd', 'relaxed-simd'] : ['simd'];

describe('wasm gemm runtime', () => {
  it('runs the relaxed build when the runtime validates it', () => {
    expect(wasmGemmVariant()).toBe(relaxedSimdSupported() ? 'relaxed-simd' : 'simd');
    // Node 20 with the flag above does validate it, so both kernels are tested below.
    expect(variants).toEqual(['simd', 'relaxed-simd']);
  });
});

for (const variant of variants) {
  describe(`wasm gemm (${variant})`, () => {
    const w = new WasmGemm(variant);

    for (const [transA, transB] of TRANSPOSES) {
      it(`matches the reference on edge sizes, operands in wasm memory (transA=${transA}, transB=${transB})`, () => {
        const rng = new Rng(3);
        let worst = 0;
        let index = 0;
        for (const m of EDGE_SIZES) {
          for (const n of EDGE_SIZES) {
            for (const k of EDGE_SIZES) {
              // Alternate beta = 0 over NaN-filled C with a genuine alpha/beta update.
              const [alpha, beta] = index++ % 2 === 0 ? [1, 0] : [0.75, -1.5];
              worst = Math.max(worst, worstError(w, 'wasm memory', { transA, transB, m, n, k, alpha, beta }, rng));
            }
          }
        }
        expect(worst).toBeLessThan(1e-5);
      });
    }

    it('accumulates across k blocks and column blocks (k and n beyond 256)', () => {
      const rng = new Rng(5);
      for (const [transA, transB] of TRANSPOSES) {
        for (const [m, n, k] of [[17, 300, 600], [65, 520, 257], [5, 9, 1000], [33, 257, 513]]) {
          for (const beta of [0, 0.25]) {
            const worst = worstError(w, 'wasm memory', { transA, transB, m, n, k, alpha: 0.5, beta }, rng);
            expect(worst, `${m}x${n}x${k} transA=${transA} transB=${transB} beta=${beta}`).toBeLessThan(1e-5);
          }
        }
      }
    });

    for (const placement of ['wasm memory', 'Float32Array', 'Float64Array'] as const) {
      it(`honours strides, alpha and beta with operands as ${placement}, leaving row gaps of C alone`, () => {
        const rng = new Rng(11);
        for (let trial = 0; trial < 60; trial++) {
          const c: Case = {
            transA: rng.next() < 0.5,
            transB: rng.next() < 0.5,
            m: 1 + rng.below(70),
            n: 1 + rng.below(70),
            k: 1 + rng.below(400),
            alpha: rng.next() * 2 - 1,
            beta: rng.next() < 0.3 ? 0 : rng.next() * 2 - 1,
            pad: [rng.below(5), rng.below(5), rng.below(5)],
          };
          expect(worstError(w, placement, c, rng), JSON.stringify(c)).toBeLessThan(1e-5);
        }
      });
    }

    it('never reads C when beta is 0', () => {
      const a = Float32Array.of(1, 2, 3, 4);
      const b = Float32Array.of(1, 0, 0, 1);
      const c = Float32Array.of(NaN, NaN, NaN, NaN);
      w.gemm(false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2);
      expect(Array.from(c)).toEqual([1, 2, 3, 4]);
    });

    it('only scales C when k or alpha is 0', () => {
      const a = Float32Array.of(1, 2);
      const c = Float32Array.of(1, 2, 3, 4);
      w.gemm(false, false, 2, 2, 0, 1, a, 0, a, 2, 0.5, c, 2);
      expect(Array.from(c)).toEqual([0.5, 1, 1.5, 2]);
      w.gemm(false, false, 2, 2, 1, 0, a, 1, a, 2, 2, c, 2);
      expect(Array.from(c)).toEqual([1, 2, 3, 4]);
      c.fill(NaN);
      w.gemm(false, false, 2, 2, 1, 0, a, 1, a, 2, 0, c, 2);
      expect(Array.from(c)).toEqual([0, 0, 0, 0]);
    });
  });
}

describe('wasm gemm memory', () => {
  it('re-derives views after memory grows and keeps the data', () => {
    const w = new WasmGemm('simd');
    const first = w.alloc(1000);
    const early = first.view();
    early.set([1, 2, 3]);
    const big = w.alloc(4 << 20); // 16 MiB: forces memory.grow
    expect(early.length).toBe(0); // the old view is detached
    expect(Array.from(first.view().subarray(0, 4))).toEqual([1, 2, 3, 0]);
    expect(first.view().buffer).toBe(big.view().buffer);
    expect(first.view()).toBe(first.view()); // cached until the next growth
  });

  it('a gemm on arrays outside wasm memory never detaches views handed out by alloc()', () => {
    const w = new WasmGemm('simd');
    const kept = w.alloc(16).view();
    const n = 600; // staging needs megabytes, far beyond the memory allocated so far
    const a = new Float32Array(n * n).fill(1);
    const c = new Float32Array(n * n);
    w.gemm(false, false, n, n, n, 1, a, n, a, n, 0, c, n);
    expect(c[0]).toBe(n);
    expect(kept.length).toBe(16);
    expect(w.owns(kept)).toBe(true);
  });

  it('is an arena: release(mark) frees at once, and reused memory comes back zeroed', () => {
    const w = new WasmGemm('simd');
    const mark = w.mark();
    const scratch = w.alloc(8);
    scratch.view().fill(7);
    w.release(mark);
    const again = w.alloc(8);
    expect(again.byteOffset).toBe(scratch.byteOffset);
    expect(Array.from(again.view())).toEqual(new Array(8).fill(0));
    expect(again.byteOffset % 64).toBe(0);
    expect(() => w.release(mark - 64)).toThrow(EngineError);
  });

  it('rejects arrays too short for the shape instead of touching other tensors', () => {
    const w = new WasmGemm('simd');
    const [a, b, c] = [w.alloc(6), w.alloc(6), w.alloc(3)].map((h) => h.view());
    expect(() => w.gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)).toThrow(EngineError);
  });

  it('the shared instance serves allocFloat32 views without copying', () => {
    const [a, b, c] = [allocFloat32(6), allocFloat32(6), allocFloat32(4)].map((h) => h.view());
    a.set([1, 2, 3, 4, 5, 6]);
    b.set([1, 0, 0, 1, 1, 1]);
    wasmGemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2);
    expect(Array.from(c)).toEqual([4, 5, 10, 11]);
  });
});
