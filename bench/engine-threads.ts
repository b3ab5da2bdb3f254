/**
 * The ceiling for two jobs at once: the same MNIST training as the service's jobs, run by the engine alone in one
 * worker thread, then in two threads at once (no service, no Postgres), on shared arrays. Runs compiled code from
 * dist/ (worker threads cannot load TypeScript on Node 20).
 */
import { Worker } from 'node:worker_threads';
import { MNIST_SPEC } from './train-engine.js';
import { BATCH_SIZE, LEARNING_RATE, SEED, type Float32Dataset } from './training-setup.js';

const THREAD = `
import { parentPort, workerData } from 'node:worker_threads';
await import(new URL('dist/runtime/wasm-flags.js', workerData.root).href);
const { Trainer, createNetwork } = await import(new URL('dist/engine/index.js', workerData.root).href);
parentPort.postMessage('ready');
parentPort.once('message', () => {
  const started = performance.now();
  const trainer = new Trainer(createNetwork(workerData.spec, workerData.seed), workerData.data, workerData.options);
  while (!trainer.done) trainer.runEpoch();
  parentPort.postMessage(performance.now() - started);
});`;

const shared = (a: Float32Array) => {
  const copy = new Float32Array(new SharedArrayBuffer(a.byteLength));
  copy.set(a);
  return copy;
};

/** Seconds for `threads` threads each training `epochs` epochs at once, from the moment all are ready. */
async function trainInThreads(threads: number, data: Float32Dataset, epochs: number): Promise<number> {
  const options = { optimizer: { type: 'adam', learningRate: LEARNING_RATE }, epochs, batchSize: BATCH_SIZE, validationSplit: 0, seed: SEED };
  const workerData = { root: new URL('../', import.meta.url).href, spec: MNIST_SPEC, seed: SEED, data, options };
  const workers = Array.from({ length: threads }, () => new Worker(THREAD, { eval: true, workerData }));
  try {
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
    const started = performance.now();
    await Promise.all(
      workers.map((w) => {
        const done = new Promise((resolve, reject) => w.once('message', resolve).once('error', reject));
        w.postMessage('go');
        return done;
      }),
    );
    return (performance.now() - started) / 1000;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Best of `reps` alternating runs of one thread and two: other work on the machine only ever adds time. */
export async function engineThreadScaling(train: Float32Dataset, epochs: number, reps: number) {
  const data = { inputs: shared(train.inputs), targets: shared(train.targets), rows: train.rows };
  let single = Infinity;
  let pair = Infinity;
  for (let rep = 0; rep < reps; rep++) {
    single = Math.min(single, await trainInThreads(1, data, epochs));
    pair = Math.min(pair, await trainInThreads(2, data, epochs));
  }
  return { single, pair };
}
