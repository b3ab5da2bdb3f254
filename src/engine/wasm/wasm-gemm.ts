import { decodeBytes } from '../base64.js';
import { invalid } from '../errors.js';
import type { FloatArray, Gemm } from '../types.js';
import type { RecurrentKernels } from './recurrent-kernels.js';
import { GEMM_RELAXED_WASM } from './gemm-relaxed.wasm.js';
import { GEMM_SIMD_WASM } from './gemm-simd.wasm.js';
import { WebAssemblyApi as WebAssembly } from './web-assembly.js';

/**
 * The float32 gemm compiled from assembly/gemm.ts to WebAssembly SIMD, ~10x the TS gemm. Operands are best allocated
 * in the module's memory with `alloc()`: a call on such views passes offsets and copies nothing. Other arrays (plain
 * Float32Array, Float64Array) work too, through a copy into a private staging instance; its memory grows instead of
 * ours, so a gemm call never invalidates a view handed out by `alloc()`. Only `alloc()` grows memory.
 *
 * The relaxed-SIMD build (fused multiply-add) is preferred when this runtime validates it. On Node 20 that takes
 * `v8.setFlagsFromString('--experimental-wasm-relaxed-simd')` before the first instance: the host's job, not ours.
 */

export type WasmGemmVariant = 'relaxed-simd' | 'simd';

type MemoryBytes = Float32Array['buffer'];
export interface WasmMemory {
  readonly buffer: MemoryBytes;
  grow(pages: number): number;
}
interface GemmExports extends RecurrentKernels {
  readonly memory: WasmMemory;
  gemm(
    transA: number, transB: number, m: number, n: number, k: number, alpha: number, a: number, lda: number,
    b: number, ldb: number, beta: number, c: number, ldc: number, scratch: number,
  ): void;
  scratchBytes(): number;
  heapBase(): number;
  adam(w: number, g: number, m: number, v: number, n: number, beta1: number, beta2: number, stepSize: number, epsilon: number): void;
  reluForward(z: number, a: number, n: number): void;
  reluBackward(a: number, g: number, n: number): void;
}

const PAGE_BYTES = 65536;
/** Allocations start on cache lines: packed loads never straddle one needlessly. */
const ALIGN = 64;
/** Grow by at least 1 MiB, so a model allocating its tensors one by one grows memory a few times, not per tensor. */
const MIN_GROW_PAGES = 16;

const bytes: Partial<Record<WasmGemmVariant, Uint8Array>> = {};
const modules: Partial<Record<WasmGemmVariant, object>> = {};

function wasmBytes(variant: WasmGemmVariant): Uint8Array {
  return (bytes[variant] ??= decodeBytes(variant === 'relaxed-simd' ? GEMM_RELAXED_WASM : GEMM_SIMD_WASM));
}

function compiled(variant: WasmGemmVariant): object {
  return (modules[variant] ??= new WebAssembly.Module(wasmBytes(variant)));
}

/** Whether this runtime accepts the relaxed-SIMD build now. Not cached: the host may enable it after asking once. */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(wasmBytes('relaxed-simd'));
}

/** A float32 array inside a WasmGemm's memory. Memory growth detaches old views: take `view()` again after alloc(). */
export class WasmArray {
  private cached: Float32Array;

  constructor(
    private readonly memory: WasmMemory,
    readonly byteOffset: number,
    readonly length: number,
  ) {
    this.cached = new Float32Array(memory.buffer, byteOffset, length);
  }

  /** The current view; the same object until memory grows. */
  view(): Float32Array {
    if (this.cached.buffer !== this.memory.buffer) {
      this.cached = new Float32Array(this.memory.buffer, this.byteOffset, this.length);
    }
    return this.cached;
  }
}

/** One instance of the module: its memory, a bump allocator over it, and the gemm. */
export class WasmGemm {
  readonly variant: WasmGemmVariant;
  private readonly exports: GemmExports;
  private readonly scratch: number;
  private readonly base: number;
  private top: number;
  private staging: WasmGemm | null = null;

  constructor(variant: WasmGemmVariant = relaxedSimdSupported() ? 'relaxed-simd' : 'simd') {
    if (variant === 'relaxed-simd' && !relaxedSimdSupported()) {
      throw invalid('variant', "'simd' (this runtime does not validate relaxed SIMD)", variant);
    }
    this.variant = variant;
    this.exports = new WebAssembly.Instance(compiled(variant), {}).exports as GemmExports;
    this.top = alignUp(this.exports.heapBase());
    this.scratch = this.reserve(this.exports.scratchBytes());
    this.base = this.top;
  }

  get memory(): WasmMemory {
    return this.exports.memory;
  }

  /** A zero-filled float32 array of `length` elements in this instance's memory. May grow memory. */
  alloc(length: number): WasmArray {
    if (!Number.isInteger(length) || length < 0) throw invalid('length', 'a non-negative integer', length);
    const array = this.uninitialized(length);
    // Memory released by release() and then reused still holds old values.
    array.view().fill(0);
    return array;
  }

  /** Arena position: release(mark()) later frees everything allocated in between, at once. */
  mark(): number {
    return this.top;
  }

  /** Frees every array allocated after `mark`; their views then alias whatever is allocated next. */
  release(mark: number): void {
    if (mark < this.base || mark > this.top) throw invalid('mark', `a value returned by mark() (${this.base}..${this.top})`, mark);
    this.top = mark;
  }

  /** Frees every array allocated by alloc(). */
  reset(): void {
    this.top = this.base;
  }

  /** Whether `array` is a float32 view of this instance's memory, which gemm uses in place. */
  owns(array: FloatArray): array is Float32Array {
    return array instanceof Float32Array && array.buffer === this.exports.memory.buffer;
  }

  /** The engine's Gemm contract in float32: in place on owned views, through staging copies otherwise. */
  readonly gemm: Gemm = (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
    if (m <= 0 || n <= 0) return;
    const aLength = k > 0 ? extent(transA ? k : m, lda, transA ? m : k) : 0;
    const bLength = k > 0 ? extent(transB ? n : k, ldb, transB ? k : n) : 0;
    const cLength = extent(m, ldc, n);
    checkLength(a, aLength, 'a');
    checkLength(b, bLength, 'b');
    checkLength(c, cLength, 'c');
    if ((aLength === 0 || this.owns(a)) && (bLength === 0 || this.owns(b)) && this.owns(c)) {
      this.exports.gemm(
        transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a.byteOffset, lda, b.byteOffset, ldb, beta, c.byteOffset, ldc,
        this.scratch,
      );
      return;
    }
    const staging = (this.staging ??= new WasmGemm(this.variant));
    const mark = staging.mark();
    const sa = staging.copyIn(a, aLength);
    const sb = staging.copyIn(b, bLength);
    // beta = 0 never reads C, so its staging copy is left as it is: one pass over C fewer, and NaNs in C cannot
    // reach the result.
    const sc = beta === 0 ? staging.uninitialized(cLength) : staging.copyIn(c, cLength);
    staging.gemm(transA, transB, m, n, k, alpha, sa.view(), lda, sb.view(), ldb, beta, sc.view(), ldc);
    // Row by row: the gaps between rows (ldc > n) belong to the caller and stay untouched.
    const out = sc.view();
    for (let i = 0; i < m; i++) c.set(out.subarray(i * ldc, i * ldc + n), i * ldc);
    staging.release(mark);
  };

  /** Adam's update in place over four arrays of this instance's memory (assembly/optimizer.ts). */
  adam(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, beta1: number, beta2: number, stepSize: number, epsilon: number): void {
    const n = w.length;
    for (const [field, array] of [['w', w], ['g', g], ['m', m], ['v', v]] as const) {
      if (!this.owns(array) || array.length !== n) throw invalid(field, `a view of ${n} floats allocated by this instance`, array.length);
    }
    this.exports.adam(w.byteOffset, g.byteOffset, m.byteOffset, v.byteOffset, n, beta1, beta2, stepSize, epsilon);
  }

  /**
   * relu's forward pass over the first n floats, a = z > 0 ? z : 0 (assembly/elementwise.ts): in place on views of
   * this memory, else through staging copies, which on a hidden layer's block still cost a fifth of the TypeScript
   * loop (its branch mispredicts on about a third of the values).
   */
  reluForward(z: Float32Array, a: Float32Array, n: number): void {
    if (this.owns(z) && this.owns(a)) {
      this.exports.reluForward(z.byteOffset, a.byteOffset, n);
      return;
    }
    this.staged((staging) => {
      const block = staging.copyIn(z, n);
      staging.exports.reluForward(block.byteOffset, block.byteOffset, n);
      a.set(block.view());
    });
  }

  /** relu's backward pass over the first n floats: g keeps its bits where a > 0 and becomes +0 elsewhere. */
  reluBackward(a: Float32Array, g: Float32Array, n: number): void {
    if (this.owns(a) && this.owns(g)) {
      this.exports.reluBackward(a.byteOffset, g.byteOffset, n);
      return;
    }
    this.staged((staging) => {
      const sa = staging.copyIn(a, n);
      const sg = staging.copyIn(g, n);
      staging.exports.reluBackward(sa.byteOffset, sg.byteOffset, n);
      g.set(sg.view());
    });
  }

  /** out = the column sums of the first `rows` rows of m (cols wide), from the first row on (assembly/recurrent.ts). */
  sumRows(m: Float32Array, rows: number, cols: number, out: Float32Array): void {
    if (this.owns(m) && this.owns(out)) {
      this.exports.sumRows(m.byteOffset, rows, cols, out.byteOffset);
      return;
    }
    this.staged((staging) => {
      const sm = staging.copyIn(m, rows * cols);
      const so = staging.uninitialized(cols);
      staging.exports.sumRows(sm.byteOffset, rows, cols, so.byteOffset);
      out.set(so.view());
    });
  }

  /** Runs `work` on the staging instance and frees what it allocated there. */
  private staged(work: (staging: WasmGemm) => void): void {
    const staging = (this.staging ??= new WasmGemm(this.variant));
    const mark = staging.mark();
    try {
      work(staging);
    } finally {
      staging.release(mark);
    }
  }

  /** The fused recurrent-step kernels of assembly/recurrent.ts, on byte offsets into this instance's memory. */
  get recurrentKernels(): RecurrentKernels {
    return this.exports;
  }

  /** Staging copies are overwritten whole, so they skip alloc()'s zero fill: one pass over each operand, not two. */
  private copyIn(source: FloatArray, length: number): WasmArray {
    const array = this.uninitialized(length);
    array.view().set(source.subarray(0, length));
    return array;
  }

  private uninitialized(length: number): WasmArray {
    return new WasmArray(this.exports.memory, this.reserve(length * 4), length);
  }

  private reserve(bytes: number): number {
    const offset = this.top;
    const end = alignUp(offset + bytes);
    const memory = this.exports.memory;
    const missing = end - memory.buffer.byteLength;
    if (missing > 0) memory.grow(Math.max(MIN_GROW_PAGES, Math.ceil(missing / PAGE_BYTES)));
    this.top = end;
    return offset;
  }
}

/** Elements spanned by `rows` rows of `cols` values, `ld` apart. */
function extent(rows: number, ld: number, cols: number): number {
  return rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
}

function checkLength(array: FloatArray, needed: number, field: string): void {
  if (array.length < needed) throw invalid(field, `at least ${needed} elements for this shape`, array.length);
}

function alignUp(offset: number): number {
  return Math.ceil(offset / ALIGN) * ALIGN;
}

let shared: WasmGemm | null = null;

/** The process-wide instance behind wasmGemm, created at first use with the best variant the runtime accepts. */
export function sharedWasmGemm(): WasmGemm {
  return (shared ??= new WasmGemm());
}

/** Which build the shared instance runs. */
export function wasmGemmVariant(): WasmGemmVariant {
  return sharedWasmGemm().variant;
}

/** Allocates in the shared instance's memory: arrays gemm then uses without copying. */
export function allocFloat32(length: number): WasmArray {
  return sharedWasmGemm().alloc(length);
}

/** The engine's Gemm on the shared instance. */
export const wasmGemm: Gemm = (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =>
  sharedWasmGemm().gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
