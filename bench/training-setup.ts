/** The one training setup every implementation runs: 784-128-64-10, relu, relu, softmax, Adam. */
export const HIDDEN_UNITS = [128, 64] as const;
export const LEARNING_RATE = 0.001;
export const BATCH_SIZE = 64;
export const EPOCHS = 2;
export const SEED = 1;

export interface TrainingRun {
  /** Training rows used (all of them unless a slow peer was given a subset). */
  trainRows: number;
  /** trainRows x epochs / wall time of the training call alone (no data conversion, no evaluation). */
  samplesPerSecond: number;
  /** Argmax accuracy on the held-out test digits. */
  testAccuracy: number;
}

/** An engine Dataset pinned to float32, the one element type every implementation here accepts. */
export interface Float32Dataset {
  inputs: Float32Array;
  targets: Float32Array;
  rows: number;
}

export interface Digits {
  train: Float32Dataset;
  test: Float32Dataset;
}
