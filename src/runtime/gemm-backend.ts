import { availableParallelism } from 'node:os';
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import { activeGemm, setGemmProvider } from '../engine/index.js';
import { DEFAULT_OPENBLAS, loadOpenBlas, type NativeBlas } from './native-gemm.js';

/**
 * Chooses what the engine's float32 products run on, once per thread: OpenBLAS through koffi when the setting
 * allows it and the library loads, the WebAssembly kernel otherwise (and below the native threshold).
 *
 * Threads. OpenBLAS's thread count is one per process, and two threaded products at once wait on each other
 * (OpenBLAS serializes them). So the training threads of a worker process share a clock board: each writes when
 * it last multiplied, and before each native product a thread sets OpenBLAS to floor(cores / busy threads),
 * at most the count OpenBLAS started with (OPENBLAS_NUM_THREADS): one job alone uses both cores of a 2-core
 * machine, two jobs one each, and never more threads are busy than there are cores.
 */

/** 'auto' (the system's OpenBLAS when it loads), 'off' (WebAssembly only), or the path of an OpenBLAS library. */
export type NativeGemmSetting = string;

/**
 * Products of at least this many multiply-adds go native. Measured on this machine (2 cores, AMD EPYC, one
 * thread): OpenBLAS's call costs about 0.3 µs, the wasm call about 1.4 µs (its operands are copied into wasm
 * memory); native wins from Iris-sized products on (16x16x4: 0.7 µs against 1.0 µs in TypeScript) and by 3x to
 * 6x from 2,048 to 65,536, 2.1x to 2.8x beyond.
 */
export const NATIVE_MIN_WORK = 1024;
/**
 * OpenBLAS multiplies products of up to 65,536 x 4 multiply-adds on the calling thread whatever its thread count
 * (interface/gemm.c, GEMM_MULTITHREAD_THRESHOLD): below this, a product only marks its thread busy.
 */
const OPENBLAS_THREADED_WORK = 262_144;
/** A training thread that multiplied nothing for this long is idle (between jobs, or writing a checkpoint). */
const BUSY_WINDOW_MS = 100;
/** Training threads per process that can take a place on the board; more share the last place. */
const BOARD_PLACES = 64;
/** `seen` (a product too small for OpenBLAS) updates the board once per this many calls: reading the clock costs. */
const SEEN_STRIDE = 16;
const SHARED_KEY = 'backprop:gemm-backend';

interface Shared {
  setting: NativeGemmSetting;
  /** Int32: [0] places taken, [1] the thread count last given to OpenBLAS; then Float64 times from 8 bytes on. */
  board: SharedArrayBuffer;
}

export interface GemmBackend {
  /** What float32 products run on, for the start-up log and the job's record. */
  description: string;
  /** The OpenBLAS build in use, or null on the WebAssembly path. */
  native: string | null;
  /**
   * OpenBLAS's thread count, or its ceiling on a shared board (fewer while other jobs of the process train); 1 on
   * the WebAssembly path.
   */
  threads: number;
}

/**
 * For a process's main thread, before it starts any worker thread: installs the backend here and leaves the
 * setting and the board for the worker threads (node:worker_threads environment data), where
 * `installTrainingThreadGemm` picks them up. `threads: 'shared'` (the worker) uses the board; a number (the API,
 * whose forward passes are many and small) pins OpenBLAS to that many threads.
 */
export function installGemmBackend(setting: NativeGemmSetting, threads: 'shared' | number): GemmBackend {
  const board = new SharedArrayBuffer(8 + 8 * BOARD_PLACES);
  if (threads === 'shared') setEnvironmentData(SHARED_KEY, { setting, board } satisfies Shared);
  return install(setting, threads === 'shared' ? board : threads);
}

/** For a training thread: the backend its process chose; the WebAssembly path when the process chose none. */
export function installTrainingThreadGemm(): GemmBackend {
  const shared = getEnvironmentData(SHARED_KEY) as Shared | undefined;
  return shared ? install(shared.setting, shared.board) : install('off', 1);
}

function install(setting: NativeGemmSetting, threads: SharedArrayBuffer | number): GemmBackend {
  const blas = setting === 'off' ? null : tryLoad(setting === 'auto' ? DEFAULT_OPENBLAS : setting);
  let count = 1;
  if (blas === null) {
    setGemmProvider(null);
  } else if (typeof threads === 'number') {
    count = Math.min(threads, blas.maxThreads);
    blas.setThreads(count);
    setGemmProvider({ name: blas.name, minWork: NATIVE_MIN_WORK, gemm: blas.gemm, seen: () => undefined, threads: count });
  } else {
    count = blas.maxThreads;
    setGemmProvider(sharedThreadsProvider(blas, threads));
  }
  return { description: activeGemm(), native: blas?.name ?? null, threads: count };
}

function tryLoad(path: string): NativeBlas | null {
  try {
    return loadOpenBlas(path);
  } catch {
    // Absent library: the WebAssembly path, which the start-up log names.
    return null;
  }
}

function sharedThreadsProvider(blas: NativeBlas, board: SharedArrayBuffer) {
  const counters = new Int32Array(board, 0, 2);
  const lastBusy = new Float64Array(board, 8, BOARD_PLACES);
  const place = Math.min(Atomics.add(counters, 0, 1), BOARD_PLACES - 1);
  const cores = availableParallelism();
  let calls = 0;
  const markBusy = () => {
    if (++calls % SEEN_STRIDE === 0) lastBusy[place] = Date.now();
  };

  const threadsNow = (now: number): number => {
    const places = Math.min(Atomics.load(counters, 0), BOARD_PLACES);
    let busy = 0;
    for (let i = 0; i < places; i++) if (now - lastBusy[i] < BUSY_WINDOW_MS) busy++;
    return Math.max(1, Math.min(blas.maxThreads, Math.floor(cores / busy)));
  };
  return {
    name: blas.name,
    minWork: NATIVE_MIN_WORK,
    threads: blas.maxThreads,
    gemm: ((transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
      if (m * n * k < OPENBLAS_THREADED_WORK) {
        markBusy();
        blas.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
      }
      const now = Date.now();
      lastBusy[place] = now;
      const threads = threadsNow(now);
      // Every thread of the process computes the same count from the same board, so OpenBLAS is told only on a change.
      if (Atomics.exchange(counters, 1, threads) !== threads) blas.setThreads(threads);
      blas.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }) satisfies NativeBlas['gemm'],
    seen: markBusy,
  };
}
