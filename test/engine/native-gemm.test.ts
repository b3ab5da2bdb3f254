import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import {
  activeGemm,
  activeGemmBackend,
  createNetwork,
  gemm,
  gemmReference,
  Rng,
  setGemmProvider,
  Trainer,
  type FloatArray,
  type Gemm,
  type ModelSpec,
  type Network,
} from '../../src/engine/index.js';
import { splitKeepsBits } from '../../src/runtime/companion-thread.js';
import { installGemmBackend, NATIVE_MIN_WORK } from '../../src/runtime/gemm-backend.js';
import { loadOpenBlas, type NativeBlas } from '../../src/runtime/native-gemm.js';
import { threeClassData, weightsOf } from '../helpers/determinism.js';

// CI and the Dockerfile install Debian's libopenblas0-pthread; without it these tests would prove nothing.
const blas: NativeBlas = loadOpenBlas();
const EDGE_SIZES = [1, 3, 5, 7, 9, 17, 33, 65];
const TRANSPOSES = [[false, false], [true, false], [false, true], [true, true]] as const;

function random(n: number, rng: Rng): Float32Array {
  return new Float32Array(n).map(() => rng.next() * 2 - 1);
}

/** Worst |fast - reference| / (1 + |reference|) of one product, C starting random (so beta is exercised). */
function worstError(impl: Gemm, transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, beta: number, rng: Rng): number {
  const a = random(m * k, rng);
  const b = random(k * n, rng);
  const c0 = random(m * n, rng);
  const fast = Float32Array.from(c0);
  const reference = Float64Array.from(c0);
  impl(transA, transB, m, n, k, alpha, a, transA ? m : k, b, transB ? k : n, beta, fast, n);
  gemmReference(transA, transB, m, n, k, alpha, Float64Array.from(a), transA ? m : k, Float64Array.from(b), transB ? k : n, beta, reference, n);
  let worst = 0;
  for (let i = 0; i < m * n; i++) worst = Math.max(worst, Math.abs(fast[i] - reference[i]) / (1 + Math.abs(reference[i])));
  return worst;
}

/** The provider the worker installs, counting its calls, so a test knows its products really went native. */
function countingProvider(threads: number) {
  const calls = { native: 0, seen: 0 };
  blas.setThreads(threads);
  setGemmProvider({
    name: blas.name,
    minWork: NATIVE_MIN_WORK,
    threads,
    gemm: (...args) => {
      calls.native++;
      blas.gemm(...args);
    },
    seen: () => void calls.seen++,
  });
  return calls;
}

afterEach(() => {
  setGemmProvider(null);
  blas.setThreads(blas.maxThreads);
});

describe('OpenBLAS sgemm through koffi', () => {
  it('keeps the thread count OpenBLAS started with as its ceiling after a thread of the process lowered the count', () => {
    const ceiling = blas.maxThreads;
    blas.setThreads(1);
    const again = loadOpenBlas();
    expect(again.threads()).toBe(1);
    expect(again.maxThreads).toBe(ceiling);
    expect(ceiling).toBeGreaterThanOrEqual(Math.min(2, availableParallelism()));
  });

  for (const [transA, transB] of TRANSPOSES) {
    it(`matches the reference on the wasm tests' edge sizes (transA=${transA}, transB=${transB})`, () => {
      const rng = new Rng(7);
      for (const m of EDGE_SIZES) for (const n of EDGE_SIZES) for (const k of EDGE_SIZES) {
        expect(worstError(blas.gemm, transA, transB, m, n, k, 1, 0, rng)).toBeLessThan(1e-5);
      }
    });
  }

  it('honours alpha and beta and accumulates long k (to 700) in float32, on one thread and on two', () => {
    for (const threads of [1, 2]) {
      blas.setThreads(threads);
      const rng = new Rng(11);
      for (let trial = 0; trial < 24; trial++) {
        const [transA, transB] = TRANSPOSES[trial % 4];
        const m = 1 + rng.below(200);
        const n = 1 + rng.below(200);
        const k = 1 + rng.below(700);
        expect(worstError(blas.gemm, transA, transB, m, n, k, 0.5 + rng.next(), rng.next(), rng)).toBeLessThan(1e-4);
      }
    }
  });

  it('works in place on subarrays and strided rows: the gaps between rows of C stay untouched, nothing is copied back', () => {
    const rng = new Rng(3);
    const [m, n, k, ldc] = [9, 17, 33, 20];
    const a = random(m * k, rng);
    const b = random(k * n, rng);
    const backing = random(5 + m * ldc, rng);
    const before = Float32Array.from(backing);
    const c = backing.subarray(5);
    blas.gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, ldc);
    const expected = new Float64Array(m * n);
    gemmReference(false, false, m, n, k, 1, a, k, b, n, 0, expected, n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < ldc; j++) {
        const at = 5 + i * ldc + j;
        if (j < n) expect(Math.abs(backing[at] - expected[i * n + j])).toBeLessThan(1e-5);
        else expect(backing[at]).toBe(before[at]);
      }
    }
    expect(backing.subarray(0, 5)).toEqual(before.subarray(0, 5));
  });

  it('refuses arrays too short for the shape instead of letting C read past them', () => {
    const short = new Float32Array(10);
    expect(() => blas.gemm(false, false, 4, 4, 4, 1, short, 4, new Float32Array(16), 4, 0, new Float32Array(16), 4)).toThrow(/a holds 10 floats/);
    expect(() => blas.gemm(false, false, 4, 4, 4, 1, new Float32Array(16), 4, new Float32Array(16), 4, 0, new Float32Array(16), 3)).toThrow(/ld >= 4/);
  });
});

describe('the engine with the native provider on', () => {
  it('sends float32 products from the threshold up to the provider, smaller ones and float64 past it, all matching the reference', () => {
    const calls = countingProvider(1);
    const rng = new Rng(5);
    expect(worstError(gemm, false, true, 32, 32, 32, 1, 1, rng)).toBeLessThan(1e-5);
    expect(calls).toEqual({ native: 1, seen: 0 });
    expect(worstError(gemm, true, false, 4, 4, 4, 1, 0, rng)).toBeLessThan(1e-5);
    expect(calls).toEqual({ native: 1, seen: 1 });
    const c = new Float64Array(32 * 32);
    gemm(false, false, 32, 32, 32, 1, new Float64Array(1024).fill(1), 32, new Float64Array(1024).fill(1), 32, 0, c, 32);
    expect(c[0]).toBe(32);
    expect(calls.native).toBe(1);
    expect(activeGemm()).toMatch(new RegExp(`^openblas \\S+ \\S+ from ${NATIVE_MIN_WORK} multiply-adds, (relaxed-simd|simd) below$`));
  });

  // float32 gradients through OpenBLAS against float64 gradients of the same weights through the TypeScript
  // reference path (which the float64 gradient checks hold to central differences).
  const specs: [string, ModelSpec][] = [
    ['dense 24-48-32-3', { inputSize: 24, layers: [{ type: 'dense', units: 48, activation: 'tanh' }, { type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' }],
    ['lstm 12 steps x 6 -> 32 units -> 3', { inputSize: 6, sequenceLength: 12, layers: [{ type: 'lstm', units: 32 }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' }],
  ];
  it.each(specs)('gradient check: %s, float32 through OpenBLAS against float64 through the reference', (_name, spec) => {
    const calls = countingProvider(2);
    const rows = 32;
    const width = spec.inputSize * (spec.sequenceLength ?? 1);
    const data = threeClassData(rows, width, 4, (x, o) => x[o] - x[o + 1]);
    const net32 = createNetwork(spec, 9);
    const net64 = createNetwork(spec, 9, 'float64');
    net32.parameters().forEach((p, t) => net64.parameters()[t].set(p));
    net32.lossAndGradients(data.inputs, data.targets, rows);
    net64.lossAndGradients(Float64Array.from(data.inputs), Float64Array.from(data.targets), rows);
    expect(calls.native).toBeGreaterThan(0);
    expect(worstGradientError(net32, net64)).toBeLessThan(1e-4);
  });

  it('same seed, same backend and thread count: the same bytes (one thread twice, two threads twice)', () => {
    const spec: ModelSpec = { inputSize: 20, layers: [{ type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' };
    const data = threeClassData(256, 20, 2, (x, o) => x[o] + x[o + 3] - x[o + 7]);
    const train = () => {
      const trainer = new Trainer(createNetwork(spec, 1), data, { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 3, batchSize: 64, seed: 1 });
      trainer.fit();
      return weightsOf(trainer.network);
    };
    for (const threads of [1, 2]) {
      countingProvider(threads);
      expect(train()).toBe(train());
    }
  });
});

describe('choosing the backend', () => {
  it("'off' and a library that is not there leave the WebAssembly path, as fast as before: no provider at all", () => {
    for (const setting of ['off', '/nonexistent/libopenblas.so.0']) {
      const backend = installGemmBackend(setting, 1);
      expect(backend).toEqual({ description: expect.stringMatching(/^(relaxed-simd|simd)$/), native: null, threads: 1 });
      expect(activeGemm()).toBe(backend.description);
      expect(activeGemmBackend()).toEqual({ gemm: backend.description, threads: 1 });
    }
  });

  it("'auto' finds the system's OpenBLAS and says so", () => {
    const backend = installGemmBackend('auto', 1);
    expect(backend.native).toBe(blas.name);
    expect(backend.description).toContain(`${blas.name} from ${NATIVE_MIN_WORK} multiply-adds`);
    expect(backend.threads).toBe(1);
    // What a training thread sends with its start, for the job's record.
    expect(activeGemmBackend()).toEqual({ gemm: backend.description, threads: 1 });
  });
});

// Two training threads, as a worker process runs them (compiled code from dist/: worker threads cannot load
// TypeScript on Node 20). The threads take the backend and the board from the process, as the processor does.
const TRAINING_THREAD = `
import { parentPort, workerData } from 'node:worker_threads';
const at = (path) => new URL(path, workerData.root).href;
await import(at('dist/runtime/wasm-flags.js'));
await import(at('dist/runtime/training-thread-gemm.js'));
const { gemm, activeGemm, currentCompanion } = await import(at('dist/engine/index.js'));
const { loadOpenBlas } = await import(at('dist/runtime/native-gemm.js'));
const blas = loadOpenBlas();
const flags = new Int32Array(workerData.flags);
const [a, b, c] = [new Float32Array(128 * 128).fill(0.5), new Float32Array(128 * 128).fill(0.5), new Float32Array(128 * 128)];
const multiply = () => gemm(false, false, 128, 128, 128, 1, a, 128, b, 128, 0, c, 128);
const pause = (ms) => Atomics.wait(flags, 3, 0, ms);
// What this thread multiplies on: OpenBLAS's thread count and whether its companion thread takes half.
const cores = () => JSON.stringify({ openblas: blas.threads(), companion: currentCompanion()?.available() ?? false });
if (workerData.role === 'partner') {
  // Multiplies from when it is told to start until it is told to stop, and says when its first product is done.
  while (Atomics.load(flags, 0) === 0) pause(5);
  multiply();
  Atomics.store(flags, 1, 1);
  while (Atomics.load(flags, 2) === 0) multiply();
  parentPort.postMessage({});
} else {
  multiply();
  // A companion thread, where there is one, takes about 0.1 s to start.
  for (let i = 0; i < 500 && !JSON.parse(cores()).companion && workerData.companion; i++) pause(10);
  multiply();
  const alone = cores();
  Atomics.store(flags, 0, 1);
  while (Atomics.load(flags, 1) === 0) pause(5);
  // The partner multiplies without pause from here on: within a few products the board counts two busy threads.
  let together = cores();
  for (let i = 0; i < 5000 && together === alone; i++) {
    multiply();
    together = cores();
  }
  Atomics.store(flags, 2, 1);
  // Longer than the board's busy window: the partner is idle by then.
  pause(300);
  multiply();
  parentPort.postMessage({ backend: activeGemm(), alone: JSON.parse(alone), together: JSON.parse(together), afterwards: JSON.parse(cores()) });
}`;

describe('the OpenBLAS thread board of a worker process', () => {
  it('gives one training thread alone every core, two of them one core each, and the cores back when one goes idle', async () => {
    installGemmBackend('auto', 'shared');
    const cores = availableParallelism();
    // Two cores for a thread: OpenBLAS on one, its companion thread on the other; more: OpenBLAS's own threads.
    // (With kernels whose split would change the bytes the companion takes only Adam's update: OpenBLAS keeps two.)
    const openblasBeside = splitKeepsBits(blas.name) ? 1 : 2;
    const given = (threads: number) => (threads === 2 ? { openblas: openblasBeside, companion: true } : { openblas: threads, companion: false });
    const flags = new SharedArrayBuffer(16);
    const root = new URL('../../', import.meta.url).href;
    const companion = Math.min(cores, blas.maxThreads) === 2;
    const start = (role: string) => new Worker(TRAINING_THREAD, { eval: true, workerData: { root, role, flags, companion } });
    const [main, partner] = [start('main'), start('partner')];
    const report = (w: Worker) => new Promise<Record<string, unknown>>((resolve, reject) => w.once('message', resolve).once('error', reject));
    const [seen] = await Promise.all([report(main), report(partner)]);
    await Promise.all([main.terminate(), partner.terminate()]);
    const both = Math.min(cores, blas.maxThreads);
    expect(seen).toEqual({
      backend: expect.stringContaining(blas.name),
      alone: given(both),
      together: given(Math.max(1, Math.min(Math.floor(cores / 2), blas.maxThreads))),
      afterwards: given(both),
    });
  });
});

function worstGradientError(net32: Network, net64: Network): number {
  const g64 = net64.gradients();
  let worst = 0;
  net32.gradients().forEach((g: FloatArray, t) => {
    const scale = Math.max(1e-3, ...Array.from(g64[t], Math.abs));
    for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i] - g64[t][i]) / scale);
  });
  return worst;
}
