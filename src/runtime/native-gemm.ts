import koffi from 'koffi';
import type { FloatArray, Gemm } from '../engine/index.js';

/**
 * OpenBLAS's float32 gemm, called through koffi (a prebuilt FFI: nothing compiles at install). Float32Arrays are
 * handed to C as pointers to their own bytes, subarrays at their offset: no copy either way. On this machine one
 * core of OpenBLAS runs 90 to 180 GFLOP/s where the WebAssembly kernel, 128 bits wide, runs 46.
 */

/** Debian's libopenblas0-pthread (and most distributions' OpenBLAS) answers to this soname. */
export const DEFAULT_OPENBLAS = 'libopenblas.so.0';

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

export interface NativeBlas {
  /** 'openblas 0.3.21 Haswell': the version and the kernels it picked (OPENBLAS_CORETYPE changes them, and the bits). */
  readonly name: string;
  /** float32 operands only (the engine's GemmProvider contract). */
  readonly gemm: Gemm;
  /**
   * The threads OpenBLAS started with (OPENBLAS_NUM_THREADS when set, else the cores it saw), as the process first
   * saw it: never exceeded, and not lowered by a setThreads since.
   */
  readonly maxThreads: number;
  /** OpenBLAS's thread count is one per process: every thread of this process that calls gemm shares it. */
  setThreads(threads: number): void;
  /** The count in force now, whichever thread set it. */
  threads(): number;
}

/** The thread count OpenBLAS had when this thread first loaded it, by path. */
const startCounts = new Map<string, number>();

/**
 * Loads OpenBLAS from `path` (a soname or a file); throws when it is missing or is no OpenBLAS. `startedWith`, when
 * given, is the count OpenBLAS started with as another thread of this process saw it.
 */
export function loadOpenBlas(path: string = DEFAULT_OPENBLAS, startedWith?: number): NativeBlas {
  if (startedWith !== undefined && !startCounts.has(path)) startCounts.set(path, startedWith);
  const lib = koffi.load(path);
  const sgemm = lib.func(
    'void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda, ' +
      'const float *b, int ldb, float beta, float *c, int ldc)',
  );
  const setNumThreads = lib.func('void openblas_set_num_threads(int threads)');
  const getNumThreads = lib.func('int openblas_get_num_threads()');
  const config = lib.func('const char *openblas_get_config()')() as string;
  const coreName = lib.func('const char *openblas_get_corename()')() as string;
  const version = /OpenBLAS (\S+)/.exec(config)?.[1] ?? 'unknown version';

  const gemm: Gemm = (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
    // C reads and writes wherever the shape says: an array too short would be memory corruption, not an error.
    checkLength(a, transA ? k : m, lda, transA ? m : k, 'a');
    checkLength(b, transB ? n : k, ldb, transB ? k : n, 'b');
    checkLength(c, m, ldc, n, 'c');
    sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  };
  // The count in force now is what some thread of this process last set; the first load in a thread sees what
  // OpenBLAS started with, unless another thread has set it already (a training thread: the process hands it on).
  const started = startCounts.get(path) ?? (getNumThreads() as number);
  startCounts.set(path, started);
  return {
    name: `openblas ${version} ${coreName}`,
    gemm,
    maxThreads: started,
    setThreads: (threads) => setNumThreads(threads),
    threads: () => getNumThreads() as number,
  };
}

function checkLength(array: FloatArray, rows: number, ld: number, cols: number, field: string): void {
  if (!(array instanceof Float32Array)) throw new TypeError(`native gemm: ${field} must be a Float32Array`);
  const needed = rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
  if (ld < cols || array.length < needed) {
    throw new RangeError(`native gemm: ${field} holds ${array.length} floats with leading dimension ${ld}; this shape needs ${needed} and ld >= ${cols}`);
  }
}
