import { tsGemm } from './gemm-ts.js';
import type { FloatArray, Gemm } from './types.js';
import { wasmGemm, wasmGemmVariant } from './wasm/wasm-gemm.js';

/**
 * The engine's one matrix-product entry point; every layer calls this and nothing else. float32 products go to
 * the WebAssembly SIMD kernel (relaxed-SIMD build when the host enabled it, plain SIMD otherwise); float64 (the
 * gradient-check path) and products too small to repay the wasm call stay in TypeScript.
 */

/** Below this many multiply-adds, copying operands into wasm memory costs more than it saves. */
const WASM_MIN_WORK = 2048;

let wasmUsable: boolean | null = null;

/** What float32 products run on: 'relaxed-simd', 'simd' or 'typescript'. */
export function activeGemm(): string {
  return wasmAvailable() ? wasmGemmVariant() : 'typescript';
}

/** Whether the wasm module instantiates on this runtime; asked once, at the first float32 product. */
export function wasmAvailable(): boolean {
  if (wasmUsable === null) {
    try {
      wasmGemmVariant();
      wasmUsable = true;
    } catch {
      wasmUsable = false;
    }
  }
  return wasmUsable;
}

const isF32 = (x: FloatArray) => x instanceof Float32Array;

export const gemm: Gemm = (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
  // The size test first: it is the cheap one, and it alone sends Iris-sized products to TypeScript.
  if (m * n * k >= WASM_MIN_WORK && isF32(c) && isF32(a) && isF32(b) && wasmAvailable()) {
    wasmGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    tsGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
};
