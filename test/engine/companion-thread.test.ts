// Relaxed SIMD is behind a flag on Node 20; setting it is the host's job, done by every entry point through this.
import '../../src/runtime/wasm-flags.js';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { createNetwork, currentCompanion, Trainer, type ModelSpec } from '../../src/engine/index.js';
import { SharedAdamArena } from '../../src/engine/wasm/shared-adam.js';
import { CompanionThread, splitKeepsBits } from '../../src/runtime/companion-thread.js';
import { companionTasks, installGemmBackend } from '../../src/runtime/gemm-backend.js';
import { DEFAULT_OPENBLAS, loadOpenBlas } from '../../src/runtime/native-gemm.js';
import { weightsOf } from '../helpers/determinism.js';

const blas = loadOpenBlas();
// OpenBLAS's AVX-512 kernels (this project's hosts with OPENBLAS_CORETYPE unset) keep one thread's bytes when a
// product is split; with others (OPENBLAS_CORETYPE=Haswell) the companion takes no products, only Adam's update.
const keepsBits = splitKeepsBits(blas.name);
const companion = new CompanionThread(DEFAULT_OPENBLAS);
const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const sine = (length: number, step: number, scale = 1) => Float32Array.from({ length }, (_, i) => Math.sin(i * step) * scale);

async function started(): Promise<void> {
  companion.start();
  for (let i = 0; i < 500 && !companion.available(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(companion.available()).toBe(true);
}

afterAll(() => installGemmBackend('auto', 1));

describe('a companion thread (the second core of a training thread)', () => {
  it('takes products only with the OpenBLAS kernels whose split was tested to keep the bytes', () => {
    expect(['SkylakeX', 'Cooperlake', 'SapphireRapids', 'Haswell', 'Zen'].map((core) => splitKeepsBits(`openblas 0.3.21 ${core}`))).toEqual([true, true, true, false, false]);
  });

  it.runIf(keepsBits)('multiplies half of each large product and gives the bytes of one thread, whatever the shape', async () => {
    await started();
    blas.setThreads(1);
    let products = 0;
    let split = 0;
    // The products of dense layers: forward x·W, weight gradient xᵀ·dz, input gradient dz·Wᵀ, at several batch sizes
    // (odd ones included) and layer widths, with beta 0 and 1 (the forward pass accumulates onto the bias rows).
    for (const rows of [16, 37, 64, 96, 256]) {
      for (const [inputs, units] of [[784, 128], [784, 512], [512, 512], [512, 10], [300, 200], [33, 700], [2000, 30]]) {
        const x = sine(rows * inputs, 0.37);
        const w = sine(inputs * units, 0.11, 0.1);
        const dz = sine(rows * units, 0.7, 0.01);
        const products_: [boolean, boolean, number, number, number, Float32Array, number, Float32Array, number, number][] = [
          [false, false, rows, units, inputs, x, inputs, w, units, units],
          [true, false, inputs, units, rows, x, inputs, dz, units, units],
          [false, true, rows, inputs, units, dz, units, w, units, inputs],
        ];
        for (const [ta, tb, m, n, k, a, lda, b, ldb, ldc] of products_) {
          for (const beta of [0, 1]) {
            const one = sine(m * ldc, 1);
            const two = Float32Array.from(one);
            blas.gemm(ta, tb, m, n, k, 1, a, lda, b, ldb, beta, one, ldc);
            const before = companion.tasks;
            companion.split(blas.gemm, ta, tb, m, n, k, 1, a, lda, b, ldb, beta, two, ldc);
            products++;
            if (companion.tasks > before) split++;
            expect(bytes(two), `${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} ${m}x${n}x${k} beta ${beta}`).toBe(bytes(one));
          }
        }
      }
    }
    expect(products).toBe(210);
    // The MNIST network's two large products among them, and most of the wide network's.
    expect(split).toBeGreaterThan(100);
  });

  it("takes half of Adam's update, with the bytes of one thread's update", async () => {
    await started();
    const total = 109_386;
    const [alone, shared] = [new SharedAdamArena(total), new SharedAdamArena(total)];
    const constants = { beta1: 0.9, beta2: 0.999, stepSize: 0.001, epsilon: 1e-7 };
    for (const arena of [alone, shared]) arena.w.set(sine(total, 0.3));
    for (let step = 1; step <= 3; step++) {
      const g = sine(total, 0.05 * step, 0.01);
      alone.g.set(g);
      shared.g.set(g);
      alone.run(alone.task(0, total, constants));
      const before = companion.tasks;
      companion.startAdam(shared.memory, shared.task(shared.split, total, constants));
      shared.run(shared.task(0, shared.split, constants));
      companion.finish();
      expect(companion.tasks).toBeGreaterThan(before);
    }
    for (const block of ['w', 'm', 'v'] as const) expect(bytes(shared[block])).toBe(bytes(alone[block]));
    expect(bytes(shared.w)).not.toBe(bytes(sine(total, 0.3)));
  });

  it('trains an MNIST-shaped network on real digits to the same bytes as one thread does (AVX-512 kernels), taking part in its steps', async () => {
    const mnist = createRequire(import.meta.url)('mnist') as { set(train: number, test: number): { training: { input: number[]; output: number[] }[] } };
    const { training } = mnist.set(1024, 0);
    const data = { inputs: Float32Array.from(training.flatMap((d) => d.input)), targets: Float32Array.from(training.flatMap((d) => d.output)), rows: training.length };
    const dense = (units: number, activation: 'relu' | 'softmax') => ({ type: 'dense' as const, units, activation });
    const spec: ModelSpec = { inputSize: 784, layers: [dense(128, 'relu'), dense(64, 'relu'), dense(10, 'softmax')], loss: 'categoricalCrossEntropy' };
    const options = { optimizer: { type: 'adam', learningRate: 0.001 }, epochs: 3, batchSize: 64, seed: 3 } as const;
    const train = () => {
      const network = createNetwork(spec, 3);
      const reports = new Trainer(network, data, options).fit();
      return { weights: weightsOf(network), losses: reports.map((r) => r.loss) };
    };

    installGemmBackend('auto', 1);
    expect(currentCompanion()).toBeNull();
    const one = train();

    installGemmBackend('auto', 'shared');
    const twoCores = Math.min(availableParallelism(), blas.maxThreads) === 2;
    for (let i = 0; i < 500 && twoCores && !currentCompanion()?.available(); i++) await new Promise((r) => setTimeout(r, 10));
    const before = companionTasks();
    const two = train();
    const tasks = companionTasks() - before;

    // Without products for the companion, OpenBLAS's own two threads multiply, with bits of their own: the run
    // then repeats itself, not the one-thread run.
    const reference = keepsBits || !twoCores ? one : train();
    expect(two.weights).toBe(reference.weights);
    expect(two.losses).toEqual(reference.losses);
    expect(two.losses[2]).toBeLessThan(two.losses[0]);
    // 16 steps an epoch, each with three tasks for the companion: the first layer's forward product and weight
    // gradient, and Adam (a step may find it unavailable for a moment: the board looks at the last 100 ms).
    if (twoCores) expect(tasks).toBeGreaterThan((keepsBits ? 2 : 0.6) * 16 * 3);
  });
});
