/**
 * The six workloads of issue 12, trained by our engine (on OpenBLAS, then on WebAssembly alone) and by PyTorch
 * (bench/pytorch_peer.py, Debian's python3-torch, at its best of 1 and 2 threads) on the same rows: same layers,
 * Adam, batch, epochs, one untimed warm-up epoch each. Skipped, with a note, when /usr/bin/python3 has no torch.
 * Each workload runs on every side in turn, ROUNDS times, and each side keeps its best: on a shared machine other
 * work only ever adds time, and interleaving puts the sides under the same load.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetwork, Trainer, type ModelSpec } from '../src/engine/index.js';
import { installGemmBackend } from '../src/runtime/gemm-backend.js';
import { irisData } from './iris.js';
import { markdownTable } from './markdown-table.js';
import { sequences } from './rnn.js';
import type { Float32Dataset } from './training-setup.js';

const PYTHON = '/usr/bin/python3';
const ROUNDS = 2;
const dense = (units: number, activation: 'relu' | 'sigmoid' | 'softmax') => ({ type: 'dense' as const, units, activation });
const wide: ModelSpec = { inputSize: 784, layers: [dense(512, 'relu'), dense(512, 'relu'), dense(10, 'softmax')], loss: 'categoricalCrossEntropy' };
const recurrent = (type: 'rnn' | 'lstm'): ModelSpec => ({
  inputSize: 8,
  sequenceLength: 50,
  layers: [{ type, units: 32 }, dense(4, 'softmax')],
  loss: 'categoricalCrossEntropy',
});

interface Workload {
  name: string;
  spec: ModelSpec;
  batchSize: number;
  epochs: number;
  learningRate: number;
  /** The bar for ours / PyTorch's best. */
  target: number;
  data: Float32Dataset;
}

export interface PeerRow {
  name: string;
  native: number;
  wasm: number;
  /** PyTorch's samples/s at 1 and 2 threads; null when torch is absent. */
  torch: { 1: number; 2: number } | null;
  target: number;
}

function workloads(mnist: Float32Dataset): Workload[] {
  const { x, y, rows } = irisData();
  const iris = { inputs: Float32Array.from(x.flat()), targets: Float32Array.from(y.flat()), rows };
  const seq = sequences(512, 1);
  const mnistSpec: ModelSpec = { ...wide, layers: [dense(128, 'relu'), dense(64, 'relu'), dense(10, 'softmax')] };
  return [
    { name: 'Iris 4-16-3, batch 16', spec: { inputSize: 4, layers: [dense(16, 'sigmoid'), dense(3, 'softmax')], loss: 'categoricalCrossEntropy' }, batchSize: 16, epochs: 200, learningRate: 0.01, target: 1, data: iris },
    { name: 'MNIST-shaped 784-128-64-10, batch 64', spec: mnistSpec, batchSize: 64, epochs: 2, learningRate: 0.001, target: 3, data: mnist },
    { name: 'wide 784-512-512-10, batch 64', spec: wide, batchSize: 64, epochs: 1, learningRate: 0.001, target: 1, data: mnist },
    { name: 'wide 784-512-512-10, batch 256', spec: wide, batchSize: 256, epochs: 1, learningRate: 0.001, target: 1, data: mnist },
    { name: 'simple rnn, 50 steps x 8, 32 units, batch 32', spec: recurrent('rnn'), batchSize: 32, epochs: 4, learningRate: 0.001, target: 1.5, data: seq },
    { name: 'lstm, 50 steps x 8, 32 units, batch 32', spec: recurrent('lstm'), batchSize: 32, epochs: 4, learningRate: 0.001, target: 1.5, data: seq },
  ];
}

function trainOurs(w: Workload): number {
  const network = createNetwork(w.spec, 1);
  const options = { optimizer: { type: 'adam', learningRate: w.learningRate }, batchSize: w.batchSize, seed: 1 } as const;
  new Trainer(network, w.data, { ...options, epochs: 1 }).fit();
  const trainer = new Trainer(network, w.data, { ...options, epochs: w.epochs });
  const started = performance.now();
  trainer.fit();
  return (w.data.rows * w.epochs) / ((performance.now() - started) / 1000);
}

function torchAvailable(): boolean {
  return spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

/** PyTorch's samples/s on one workload at 1 and 2 threads (one python process, its import untimed). */
function trainTorch(w: Workload): { 1: number; 2: number } {
  const dir = mkdtempSync(join(tmpdir(), 'bench-pytorch-'));
  try {
    writeFileSync(join(dir, 'w.inputs.f32'), w.data.inputs);
    writeFileSync(join(dir, 'w.targets.f32'), w.data.targets);
    const workload = { name: 'w', spec: w.spec, rows: w.data.rows, batchSize: w.batchSize, epochs: w.epochs, learningRate: w.learningRate };
    writeFileSync(join(dir, 'workloads.json'), JSON.stringify([workload]));
    const script = new URL('./pytorch_peer.py', import.meta.url).pathname;
    const run = spawnSync(PYTHON, [script, dir], {
      encoding: 'utf8',
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (run.status !== 0) throw new Error(`${PYTHON} ${script} exited with ${run.status}`);
    return (JSON.parse(run.stdout.trim()) as { rates: { 1: number; 2: number } }).rates;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Trains every workload on each side; `progress` gets a line per step. */
export function benchAgainstPytorch(mnist: Float32Dataset, progress: (message: string) => void): { rows: PeerRow[]; note: string | null } {
  const hasTorch = torchAvailable();
  const rows = workloads(mnist).map((w): PeerRow => {
    const row: PeerRow = { name: w.name, native: 0, wasm: 0, torch: hasTorch ? { 1: 0, 2: 0 } : null, target: w.target };
    for (let round = 1; round <= ROUNDS; round++) {
      progress(`${w.name}, round ${round}: ours on OpenBLAS, ours on WebAssembly alone${hasTorch ? ', PyTorch' : ''}`);
      installGemmBackend('auto', 'shared');
      row.native = Math.max(row.native, trainOurs(w));
      installGemmBackend('off', 1);
      row.wasm = Math.max(row.wasm, trainOurs(w));
      if (row.torch) {
        const rates = trainTorch(w);
        row.torch = { 1: Math.max(row.torch[1], rates[1]), 2: Math.max(row.torch[2], rates[2]) };
      }
    }
    return row;
  });
  installGemmBackend('auto', 'shared');
  return { rows, note: hasTorch ? null : `PyTorch skipped: \`${PYTHON} -c "import torch"\` fails (apt-get install -y python3-torch).` };
}

/** The markdown section bench/engine.ts prints. */
export function pytorchReport({ rows, note }: { rows: PeerRow[]; note: string | null }, backend: string): string[] {
  const rate = (v: number) => Math.round(v).toLocaleString('en-US');
  const best = (r: PeerRow) => (r.torch ? Math.max(r.torch[1], r.torch[2]) : NaN);
  return [
    '## Against PyTorch: the six workloads of issue 12',
    '',
    `Ours: float32, products on ${backend}; "wasm only" is the same run with BACKPROP_NATIVE_GEMM=off. ` +
      'PyTorch: CPU, OPENBLAS_NUM_THREADS=1, torch.set_num_threads 1 and 2, the best kept. Same rows, layers, Adam ' +
      '(epsilon 1e-7), batch and epochs after one untimed warm-up epoch; recurrent layers clip the gradient norm at 5 on both sides. ' +
      `samples/s = rows x epochs / wall time, each side's best of ${ROUNDS} interleaved rounds.`,
    '',
    ...(note
      ? [note]
      : markdownTable(
          ['workload', 'ours samples/s', 'ours, wasm only', 'PyTorch 1 thread', 'PyTorch 2 threads', 'ours / PyTorch best', 'target', 'status'],
          rows.map((r) => {
            const ratio = r.native / best(r);
            return [r.name, rate(r.native), rate(r.wasm), rate(r.torch![1]), rate(r.torch![2]), `${ratio.toFixed(2)}x`, `≥ ${r.target}x`, ratio >= r.target ? 'met' : 'NOT met'];
          }),
        )),
  ];
}
