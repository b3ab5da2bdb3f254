import { availableParallelism } from 'node:os';
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import { activeGemm, setCompanion, setGemmProvider } from '../engine/index.js';
import { CompanionThread, splitKeepsBits } from './companion-thread.js';
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
  /** The thread count OpenBLAS started with, as the main thread saw it (a training thread may load it later). */
  startedWith?: number;
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
  const backend = install(setting, threads === 'shared' ? board : threads);
  if (threads === 'shared') setEnvironmentData(SHARED_KEY, { setting, board, startedWith: backend.native ? backend.threads : undefined } satisfies Shared);
  return backend;
}

/** For a training thread: the backend its process chose; the WebAssembly path when the process chose none. */
export function installTrainingThreadGemm(): GemmBackend {
  const shared = getEnvironmentData(SHARED_KEY) as Shared | undefined;
  return shared ? install(shared.setting, shared.board, shared.startedWith) : install('off', 1);
}

function install(setting: NativeGemmSetting, threads: SharedArrayBuffer | number, startedWith?: number): GemmBackend {
  const path = setting === 'auto' ? DEFAULT_OPENBLAS : setting;
  const blas = setting === 'off' ? null : tryLoad(path, startedWith);
  let count = 1;
  setCompanion(null);
  if (blas === null) {
    setGemmProvider(null);
  } else if (typeof threads === 'number') {
    count = Math.min(threads, blas.maxThreads);
    blas.setThreads(count);
    setGemmProvider({ name: blas.name, minWork: NATIVE_MIN_WORK, gemm: blas.gemm, seen: () => undefined, threads: count });
  } else {
    count = blas.maxThreads;
    setGemmProvider(sharedThreadsProvider(blas, threads, path));
  }
  return { description: activeGemm(), native: blas?.name ?? null, threads: count };
}

/** Tasks this thread's companions have run: how a test sees that one really took part. */
export function companionTasks(): number {
  return [...companions.values()].reduce((sum, c) => sum + c.tasks, 0);
}

/** One companion per thread and library, kept across installs (a benchmark switches backends back and forth). */
const companions = new Map<string, CompanionThread>();
function companionFor(path: string): CompanionThread {
  let companion = companions.get(path);
  if (companion === undefined) companions.set(path, (companion = new CompanionThread(path)));
  return companion;
}

function tryLoad(path: string, startedWith?: number): NativeBlas | null {
  try {
    return loadOpenBlas(path, startedWith);
  } catch {
    // Absent library: the WebAssembly path, which the start-up log names.
    return null;
  }
}

function sharedThreadsProvider(blas: NativeBlas, board: SharedArrayBuffer, path: string) {
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
  // Two cores for this thread: its companion takes the second (one OpenBLAS thread each); more: OpenBLAS's threads.
  const companion = blas.maxThreads >= 2 && cores >= 2 ? companionFor(path) : null;
  // Started when first wanted, so a thread that never trains (a worker process's main thread) starts none; it takes
  // about 0.1 s to load OpenBLAS, and until then products stay whole and Adam runs on this thread alone.
  const withCompanion = (threads: number) => {
    if (companion === null || threads !== 2) return false;
    companion.start();
    return companion.available();
  };
  // Products go to the companion only where its split keeps one thread's bytes; elsewhere OpenBLAS's own threads.
  const productsToCompanion = companion !== null && splitKeepsBits(blas.name);
  if (companion !== null) {
    setCompanion({
      available: () => withCompanion(threadsNow(Date.now())),
      startAdam: (memory, task) => companion.startAdam(memory, task),
      finish: () => companion.finish(),
    });
  }
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
      // One OpenBLAS thread beside a companion, also while it starts: its split gives the bytes of one thread.
      const count = productsToCompanion && threads === 2 ? 1 : threads;
      // Every thread of the process computes the same count from the same board, so OpenBLAS is told only on a change.
      if (Atomics.exchange(counters, 1, count) !== count) blas.setThreads(count);
      if (productsToCompanion && withCompanion(threads)) companion!.split(blas.gemm, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      else blas.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }) satisfies NativeBlas['gemm'],
    seen: markBusy,
  };
}
