/**
 * GFLOP/s of each gemm implementation on the three products of a 784-128-64-10 network's first layer at batch 64
 * (forward x·W, weight gradient xᵀ·dz, input gradient dz·Wᵀ) and on 256³, as a markdown table.
 * Usage: npm run bench:kernels
 */
import '../src/runtime/wasm-flags.js';
import { tsGemm, Rng, type Gemm } from '../src/engine/index.js';
import { relaxedSimdSupported, WasmGemm, type WasmGemmVariant } from '../src/engine/wasm/wasm-gemm.js';
import { markdownTable } from './markdown-table.js';

interface Shape {
  name: string;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
}

const SHAPES: Shape[] = [
  { name: 'forward x·W (64x784 · 784x128)', transA: false, transB: false, m: 64, n: 128, k: 784 },
  { name: 'weight grad xᵀ·dz (m=784 n=128 k=64)', transA: true, transB: false, m: 784, n: 128, k: 64 },
  { name: 'input grad dz·Wᵀ (m=64 n=784 k=128)', transA: false, transB: true, m: 64, n: 784, k: 128 },
  { name: '256³', transA: false, transB: false, m: 256, n: 256, k: 256 },
];

const ROUNDS = 25;
const ROUND_MS = 20;

interface Implementation {
  name: string;
  gemm: Gemm;
  /** Float32Arrays of these lengths wherever this implementation wants its operands. */
  alloc: (lengths: number[]) => Float32Array[];
}

function implementations(): Implementation[] {
  const plain = (lengths: number[]) => lengths.map((n) => new Float32Array(n));
  const list: Implementation[] = [{ name: 'TS gemm', gemm: tsGemm, alloc: plain }];
  const variants: WasmGemmVariant[] = relaxedSimdSupported() ? ['simd', 'relaxed-simd'] : ['simd'];
  for (const variant of variants) {
    const wasm = new WasmGemm(variant);
    // Views are taken after the last alloc(): an alloc that grows memory detaches earlier views.
    const alloc = (lengths: number[]) => lengths.map((n) => wasm.alloc(n)).map((array) => array.view());
    list.push({ name: `wasm ${variant}`, gemm: wasm.gemm, alloc });
  }
  const best = new WasmGemm(variants[variants.length - 1]);
  list.push({ name: `wasm ${best.variant}, copying (JS arrays)`, gemm: best.gemm, alloc: plain });
  return list;
}

function gflops(impl: Implementation, shape: Shape, rng: Rng): number {
  const { transA, transB, m, n, k } = shape;
  const [a, b, c] = impl.alloc([m * k, k * n, m * n]);
  for (const array of [a, b, c]) for (let i = 0; i < array.length; i++) array[i] = rng.next() * 2 - 1;
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const call = () => impl.gemm(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, n);
  const flops = 2 * m * n * k;

  // Calibrate the number of calls per round, warming up at the same time.
  let reps = 1;
  for (;;) {
    const started = performance.now();
    for (let i = 0; i < reps; i++) call();
    if (performance.now() - started > ROUND_MS / 2) break;
    reps *= 2;
  }
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    for (let i = 0; i < reps; i++) call();
    best = Math.min(best, (performance.now() - started) / reps);
  }
  // Best round: on a shared machine noise only ever slows a round down.
  return flops / (best * 1e6);
}

const impls = implementations();
const rng = new Rng(1);
const rows = SHAPES.map((shape) => [shape.name, ...impls.map((impl) => gflops(impl, shape, rng).toFixed(1))]);
console.log(`GFLOP/s (best of ${ROUNDS} rounds of ~${ROUND_MS} ms), float32, row-major\n`);
console.log(markdownTable(['shape', ...impls.map((i) => i.name)], rows).join('\n'));
