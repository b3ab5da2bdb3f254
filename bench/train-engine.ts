import { createNetwork, Trainer, type ModelSpec, type Network } from '../src/engine/index.js';
import { argmaxAccuracy } from './argmax-accuracy.js';
import { CLASSES, PIXELS } from './mnist-digits.js';
import { BATCH_SIZE, EPOCHS, HIDDEN_UNITS, LEARNING_RATE, SEED, type Digits, type TrainingRun } from './training-setup.js';

export const MNIST_SPEC: ModelSpec = {
  inputSize: PIXELS,
  layers: [
    ...HIDDEN_UNITS.map((units) => ({ type: 'dense' as const, units, activation: 'relu' as const })),
    { type: 'dense', units: CLASSES, activation: 'softmax' },
  ],
  loss: 'categoricalCrossEntropy',
};

/** Trains a fresh network with our engine and returns the trained network with its figures. */
export function trainEngine({ train, test }: Digits): TrainingRun & { network: Network } {
  const network = createNetwork(MNIST_SPEC, SEED);
  const trainer = new Trainer(network, train, {
    optimizer: { type: 'adam', learningRate: LEARNING_RATE },
    epochs: EPOCHS,
    batchSize: BATCH_SIZE,
    seed: SEED,
  });
  const started = performance.now();
  trainer.fit();
  const seconds = (performance.now() - started) / 1000;
  const outputs = network.predict(test.inputs, test.rows);
  return {
    network,
    trainRows: train.rows,
    samplesPerSecond: (train.rows * EPOCHS) / seconds,
    testAccuracy: argmaxAccuracy(outputs, test.targets, test.rows, CLASSES),
  };
}
