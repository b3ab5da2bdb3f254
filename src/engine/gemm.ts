import { tsGemm } from './gemm-ts.js';
import type { FloatArray, Gemm } from './types.js';
import { wasmGemm, wasmGemmVariant } from './wasm/wasm-gemm.js';

/**
 * The engine's one matrix-product entry point; every layer calls this and nothing else. float32 products go to
 * a native provider when the host installed one (OpenBLAS, src/runtime/native-gemm.ts) and the product is large
 * enough to repay the call, else to the WebAssembly SIMD kernel (relaxed-SIMD build when the host enabled it,
 * plain SIMD otherwise); float64 (the gradient-check path) and products too small to repay the wasm call stay in
 * TypeScript.
 */

/**
 * A float32 gemm the host hands the engine. The engine stays pure: it never loads a library itself, it only calls
 * what it is given, for float32 products of at least `minWork` multiply-adds; `seen` is told about every other
 * float32 product, so the host knows this thread is busy even while its products are too small for `gemm`.
 */
export interface GemmProvider {
  /** What the products run on, for logs and records, e.g. 'openblas 0.3.21 Haswell'. */
  readonly name: string;
  readonly minWork: number;
  readonly gemm: Gemm;
  readonly seen: () => void;
  /** OpenBLAS's thread count, or its ceiling where it varies (a worker's thread board): recorded with each job. */
  readonly threads: number;
}

let provider: GemmProvider | null = null;

/** Installs (or, with null, removes) this thread's native provider. */
export function setGemmProvider(next: GemmProvider | null): void {
  provider = next;
}

/** Below this many multiply-adds, copying operands into wasm memory costs more than it saves. */
const WASM_MIN_WORK = 2048;

let wasmUsable: boolean | null = null;

/**
 * What float32 products run on: 'relaxed-simd', 'simd' or 'typescript', preceded by the provider and its
 * threshold when one is installed ('openblas 0.3.21 Haswell from 32768 multiply-adds, relaxed-simd below').
 */
export function activeGemm(): string {
  const wasm = wasmAvailable() ? wasmGemmVariant() : 'typescript';
  return provider === null ? wasm : `${provider.name} from ${provider.minWork} multiply-adds, ${wasm} below`;
}

/** What float32 products run on (activeGemm) and on how many threads at most (1 without a provider): a job's record. */
export function activeGemmBackend(): { gemm: string; threads: number } {
  return { gemm: activeGemm(), threads: provider?.threads ?? 1 };
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
  const work = m * n * k;
  if (provider !== null && isF32(c)) {
    if (work >= provider.minWork && isF32(a) && isF32(b)) {
      provider.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
    }
    provider.seen();
  }
  // The size test first: it is the cheap one, and it alone sends Iris-sized products to TypeScript.
  if (work >= WASM_MIN_WORK && isF32(c) && isF32(a) && isF32(b) && wasmAvailable()) {
    wasmGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    tsGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
};

/**
 * The product for float32 operands that all live in the memory of `wasm`'s instance (a recurrent layer's own):
 * the native provider when it would take the product, else that instance's kernel in place, with no staging copy
 * however small the product, since only the copies made small products cost more in wasm than in TypeScript.
 */
export function gemmWithin(wasm: Gemm): Gemm {
  return (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
    if (provider !== null) {
      if (m * n * k >= provider.minWork) {
        provider.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
      }
      provider.seen();
    }
    wasm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  };
}
