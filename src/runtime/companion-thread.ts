import { createRequire } from 'node:module';
import { MessageChannel, Worker } from 'node:worker_threads';
import koffi from 'koffi';
import { sharedAdamModule, type AdamTask, type Companion, type FloatArray, type Gemm, type SharedMemory } from '../engine/index.js';

/**
 * The second core of a training thread: a helper thread that takes half of each large product (through its own
 * call of OpenBLAS's cblas_sgemm on the same arrays, one OpenBLAS thread each) and half of Adam's update (the same
 * wasm kernel on the optimizer's shared memory). It spins between tasks, so handing one over costs about a
 * microsecond, where waking a sleeping thread costs tens on a virtual machine; after SPIN_MS without work it
 * sleeps. Measured on this project's 2-core hosts (docs/benchmarks.md): OpenBLAS's own second thread barely
 * speeds the products of a 64-row step, while this split, with the data each core keeps in its own cache, takes
 * an MNIST-sized step from 0.39-0.46 ms to 0.32-0.37 ms.
 *
 * Bits: a product is split by rows or columns of C, never along k, so with OpenBLAS's AVX-512 kernels every element
 * is computed as on one thread (tested, splitKeepsBits); Adam is elementwise. A run gives the same bytes with and
 * without its companion. With other kernels the companion takes only Adam's update.
 */

const SPIN_MS = 20;
/** flags: [0] task posted, [1] task done, [2] state (0 starting, 1 ready and spinning, 2 asleep, 3 failed). */
const POSTED = 0;
const DONE = 1;
const STATE = 2;
const READY = 1;
const ASLEEP = 2;
const FAILED = 3;
/** args[0]: what the task is. */
const GEMM = 1;
const ADAM = 2;
const ATTACH = 3;
/** A task that has not finished after this long means the helper died (it cannot be observed otherwise while spinning). */
const STALL_MS = 120_000;

const HELPER = `
const { receiveMessageOnPort, workerData } = require('node:worker_threads');
const koffi = require(workerData.koffi);
const flags = new Int32Array(workerData.flags);
const args = new Float64Array(workerData.args);
let adam = null;
try {
  const sgemm = koffi.load(workerData.library).func('void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, uintptr_t a, int lda, uintptr_t b, int ldb, float beta, uintptr_t c, int ldc)');
  Atomics.store(flags, ${STATE}, ${READY});
  let seen = 0;
  for (;;) {
    let idleSince = 0;
    let spins = 0;
    while (Atomics.load(flags, ${POSTED}) === seen) {
      if ((++spins & 4095) !== 0) continue;
      const now = performance.now();
      if (idleSince === 0) idleSince = now;
      else if (now - idleSince > ${SPIN_MS}) {
        Atomics.store(flags, ${STATE}, ${ASLEEP});
        if (Atomics.load(flags, ${POSTED}) === seen) Atomics.wait(flags, ${POSTED}, seen);
        Atomics.store(flags, ${STATE}, ${READY});
        idleSince = 0;
      }
    }
    seen = Atomics.load(flags, ${POSTED});
    const kind = args[0];
    if (kind === ${GEMM}) {
      sgemm(101, args[1], args[2], args[3], args[4], args[5], args[6], args[7], args[8], args[9], args[10], args[11], args[12], args[13]);
    } else if (kind === ${ADAM}) {
      adam(args[1], args[2], args[3], args[4], args[5], args[6], args[7], args[8], args[9]);
    } else if (kind === ${ATTACH}) {
      const memory = receiveMessageOnPort(workerData.port).message;
      adam = new WebAssembly.Instance(workerData.module, { env: { memory } }).exports.adam;
    }
    Atomics.store(flags, ${DONE}, seen);
  }
} catch (error) {
  Atomics.store(flags, ${STATE}, ${FAILED});
  Atomics.store(flags, ${DONE}, -1);
  throw error;
}
`;

/**
 * OpenBLAS 0.3.21 may multiply products of at most 100³ multiply-adds with its small-matrix kernels, whose order of
 * summation depends on the shape: a product is split only when each half is larger than this (and so the whole).
 */
const SMALL_KERNEL_MAX_WORK = 1_000_000;
/**
 * OpenBLAS kernels whose products, cut along the rows or columns of C as split() cuts them, give the bytes of the
 * whole: the AVX-512 sgemm kernels (tested on 768 products). The Haswell kernels do not (308 of the same 768
 * differ, even split on one thread): with them a companion takes no products, only Adam's update.
 */
const SPLIT_KEEPS_BITS = /\b(SkylakeX|Cooperlake|SapphireRapids)\b/i;

/** Whether products split by a companion give one thread's bytes on this OpenBLAS ('openblas 0.3.21 SkylakeX'). */
export function splitKeepsBits(blasName: string): boolean {
  return SPLIT_KEEPS_BITS.test(blasName);
}

const NO_TRANS = 111;
const TRANS = 112;

export class CompanionThread implements Companion {
  private readonly flags = new Int32Array(new SharedArrayBuffer(12));
  private readonly args = new Float64Array(new SharedArrayBuffer(8 * 16));
  private readonly channel = new MessageChannel();
  private worker: Worker | null = null;
  private posted = 0;
  private attached: SharedMemory | null = null;
  /** Tasks run by the helper since start: lets tests see that the companion really worked. */
  tasks = 0;

  /** `library`: the OpenBLAS the calling thread loaded (the helper loads the same, sharing its state). */
  constructor(private readonly library: string) {}

  /** Starts the helper if it is not running; it becomes available once it has loaded OpenBLAS. */
  start(): void {
    if (this.worker !== null) return;
    const port = this.channel.port2;
    this.worker = new Worker(HELPER, {
      eval: true,
      workerData: {
        koffi: createRequire(import.meta.url).resolve('koffi'),
        library: this.library,
        flags: this.flags.buffer,
        args: this.args.buffer,
        module: sharedAdamModule(),
        port,
      },
      transferList: [port],
    });
    // The helper must not keep a process alive, nor its failure go unseen: finish() throws on FAILED.
    this.worker.unref();
    this.worker.on('error', () => Atomics.store(this.flags, STATE, FAILED));
  }

  available(): boolean {
    const state = Atomics.load(this.flags, STATE);
    return state === READY || state === ASLEEP;
  }

  startAdam(memory: SharedMemory, task: AdamTask): void {
    if (memory !== this.attached) {
      this.channel.port1.postMessage(memory);
      this.post([ATTACH]);
      this.finish();
      this.attached = memory;
    }
    this.post([ADAM, task.w, task.g, task.m, task.v, task.n, task.beta1, task.beta2, task.stepSize, task.epsilon]);
  }

  finish(): void {
    const started = Date.now();
    let spins = 0;
    while (Atomics.load(this.flags, DONE) !== this.posted) {
      if ((++spins & 4095) !== 0) continue;
      if (Atomics.load(this.flags, STATE) === FAILED) throw new Error('the companion thread failed');
      if (Date.now() - started > STALL_MS) throw new Error(`the companion thread has not answered in ${STALL_MS} ms`);
    }
  }

  /**
   * C = alpha·op(A)·op(B) + beta·C with half of C computed by the helper: the rows of a weight gradient (op(A) = Aᵀ)
   * or of an input gradient (op(B) = Bᵀ); of a forward product the columns, when it has 64 rows and 64 columns.
   * Split points fall on multiples of 16 rows or 32 columns. Products whose halves OpenBLAS might multiply with its
   * small-matrix kernels stay whole: what was tested to keep one thread's bytes
   * (test/engine/companion-thread.test.ts). `gemm` multiplies this thread's half.
   */
  split(gemm: Gemm, ...[transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc]: Parameters<Gemm>): void {
    const byRows = transA || transB;
    const m0 = (m >> 1) & ~15;
    const n0 = (n >> 1) & ~31;
    const smallerHalf = byRows ? m0 * n * k : m * n0 * k;
    const keepWhole = (byRows ? m < 32 : m < 64 || n < 64) || smallerHalf <= SMALL_KERNEL_MAX_WORK;
    if (keepWhole) {
      gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
    }
    const A = addressOf(a);
    const B = addressOf(b);
    const C = addressOf(c);
    const flagsOf = [transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS];
    if (byRows) {
      const aAt = A + 4 * (transA ? m0 : m0 * lda);
      this.post([GEMM, ...flagsOf, m - m0, n, k, alpha, aAt, lda, B, ldb, beta, C + 4 * m0 * ldc, ldc]);
      gemm(transA, transB, m0, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    } else {
      const bAt = B + 4 * (transB ? n0 * ldb : n0);
      this.post([GEMM, ...flagsOf, m, n - n0, k, alpha, A, lda, bAt, ldb, beta, C + 4 * n0, ldc]);
      gemm(transA, transB, m, n0, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
    this.finish();
  }

  private post(values: number[]): void {
    this.args.set(values);
    this.posted++;
    this.tasks++;
    Atomics.store(this.flags, POSTED, this.posted);
    if (Atomics.load(this.flags, STATE) === ASLEEP) Atomics.notify(this.flags, POSTED);
  }
}

/** The address of a Float32Array's first element, for the helper's call (the array outlives it: finish() waits). */
function addressOf(array: FloatArray): number {
  return Number(koffi.address(array));
}
