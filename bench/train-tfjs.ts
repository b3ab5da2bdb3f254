import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { argmaxAccuracy } from './argmax-accuracy.js';
import { CLASSES, PIXELS } from './mnist-digits.js';
import { BATCH_SIZE, EPOCHS, HIDDEN_UNITS, LEARNING_RATE, type Digits, type TrainingRun } from './training-setup.js';

export type TfjsBackend = 'cpu' | 'wasm';

/**
 * The wasm backend fetches its .wasm binary at initialization; in Node a path prefix makes it read the
 * files shipped in the package's dist/ from disk, so nothing is downloaded.
 */
function useLocalWasmBinaries(): void {
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  setWasmPaths(`${dist}/`);
}

/** Which wasm binary tfjs picked: SIMD and threads depend on what this Node's WebAssembly supports. */
async function wasmVariant(): Promise<string> {
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  return `${simd ? 'SIMD' : 'no SIMD'}, ${threads ? `${getThreadsCount()} threads` : '1 thread'}`;
}

/** Trains the same architecture with tfjs-layers' model.fit on the given backend. */
export async function trainTfjs(backend: TfjsBackend, { train, test }: Digits): Promise<TrainingRun & { detail: string }> {
  if (backend === 'wasm') useLocalWasmBinaries();
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to initialize`);
  await tf.ready();
  const detail = backend === 'wasm' ? await wasmVariant() : 'pure JS';

  const model = tf.sequential();
  HIDDEN_UNITS.forEach((units, i) => {
    model.add(tf.layers.dense({ units, activation: 'relu', ...(i === 0 ? { inputShape: [PIXELS] } : {}) }));
  });
  model.add(tf.layers.dense({ units: CLASSES, activation: 'softmax' }));
  model.compile({ optimizer: tf.train.adam(LEARNING_RATE), loss: 'categoricalCrossentropy' });

  const xs = tf.tensor2d(train.inputs, [train.rows, PIXELS]);
  const ys = tf.tensor2d(train.targets, [train.rows, CLASSES]);
  const testXs = tf.tensor2d(test.inputs, [test.rows, PIXELS]);
  try {
    const started = performance.now();
    // yieldEvery 'never': no awaits between batches, tfjs' fastest setting for a headless loop.
    await model.fit(xs, ys, { epochs: EPOCHS, batchSize: BATCH_SIZE, shuffle: true, verbose: 0, yieldEvery: 'never' });
    const seconds = (performance.now() - started) / 1000;
    const predictions = model.predict(testXs) as tf.Tensor;
    const outputs = await predictions.data();
    predictions.dispose();
    return {
      trainRows: train.rows,
      samplesPerSecond: (train.rows * EPOCHS) / seconds,
      testAccuracy: argmaxAccuracy(outputs, test.targets, test.rows, CLASSES),
      detail,
    };
  } finally {
    tf.dispose([xs, ys, testXs]);
    model.dispose();
  }
}
