import {
  createNetwork,
  Rng,
  serializeModel,
  Trainer,
  type Dataset,
  type ModelSpec,
  type Network,
  type TrainingCheckpoint,
  type TrainingOptions,
} from '../../src/engine/index.js';

/** Every weight of a network as one string: equal strings mean byte-identical weights. */
export function weightsOf(network: Network): string {
  return JSON.stringify(serializeModel(network).weights);
}

/**
 * `rows` rows of `width` values uniform in [-1, 1), one-hot in 3 classes by where score(inputs, rowOffset) falls:
 * below -0.3, below 0.3, or above.
 */
export function threeClassData(rows: number, width: number, seed: number, score: (inputs: Float32Array, offset: number) => number): Dataset {
  const rng = new Rng(seed);
  const inputs = new Float32Array(rows * width).map(() => rng.next() * 2 - 1);
  const targets = new Float32Array(rows * 3);
  for (let r = 0; r < rows; r++) {
    const s = score(inputs, r * width);
    targets[r * 3 + (s < -0.3 ? 0 : s < 0.3 ? 1 : 2)] = 1;
  }
  return { inputs, targets, rows };
}

/**
 * The same run twice from seed 1: once uninterrupted, once stopped after `epochs` epochs, checkpointed through JSON
 * (as the service stores it) and resumed with Trainer.fromCheckpoint. The resumed trainer is returned unfitted.
 */
export function uninterruptedAndResumed(spec: ModelSpec, data: Dataset, options: TrainingOptions, epochs: number) {
  const full = new Trainer(createNetwork(spec, 1), data, options);
  const fullReports = full.fit();
  const first = new Trainer(createNetwork(spec, 1), data, options);
  for (let i = 0; i < epochs; i++) first.runEpoch();
  const checkpoint = JSON.parse(JSON.stringify(first.checkpoint())) as TrainingCheckpoint;
  return { full, fullReports, resumed: Trainer.fromCheckpoint(checkpoint, data) };
}
