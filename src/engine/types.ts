/** Public shapes of the engine. Plain data only, so they cross thread and JSON boundaries unchanged. */

export type FloatArray = Float32Array | Float64Array;
export type FloatArrayConstructor = Float32ArrayConstructor | Float64ArrayConstructor;

/**
 * C = alpha · op(A) · op(B) + beta · C, row-major, BLAS argument order. op(A) is m x k, op(B) is k x n.
 * With transA, A is stored k x m; with transB, B is stored n x k. beta = 0 never reads C.
 */
export type Gemm = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: FloatArray,
  lda: number,
  b: FloatArray,
  ldb: number,
  beta: number,
  c: FloatArray,
  ldc: number,
) => void;

export type ActivationName = 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'softmax';
export type LossName = 'meanSquaredError' | 'binaryCrossEntropy' | 'categoricalCrossEntropy';
export type InitializerName = 'glorotUniform' | 'heNormal';

export interface DenseLayerSpec {
  type: 'dense';
  units: number;
  activation: ActivationName;
  /** Defaults to heNormal for relu/leakyRelu, glorotUniform otherwise. */
  kernelInitializer?: InitializerName;
}

export interface ModelSpec {
  inputSize: number;
  layers: DenseLayerSpec[];
  loss: LossName;
}

export type OptimizerSpec =
  | { type: 'sgd'; learningRate: number; momentum?: number; nesterov?: boolean }
  | { type: 'adam'; learningRate: number; beta1?: number; beta2?: number; epsilon?: number };

export interface EarlyStoppingOptions {
  /** Epochs without improvement of the monitored loss before stopping. */
  patience: number;
  /** Smallest decrease that counts as an improvement. */
  minDelta?: number;
  restoreBestWeights?: boolean;
}

export interface TrainingOptions {
  optimizer: OptimizerSpec;
  epochs: number;
  batchSize: number;
  /** Fraction of rows (taken after a seeded shuffle) held out for validation. */
  validationSplit?: number;
  seed?: number;
  /** L2 penalty coefficient added to the gradient of every kernel weight (not biases). */
  weightDecay?: number;
  /** Clip the global gradient norm of a batch to this value. */
  clipNorm?: number;
  earlyStopping?: EarlyStoppingOptions;
  /** Shuffle the training rows each epoch (default true). */
  shuffle?: boolean;
}

export interface Dataset {
  /** Row-major, rows x inputSize. */
  inputs: FloatArray;
  /** Row-major, rows x outputSize. */
  targets: FloatArray;
  rows: number;
}

export interface EpochReport {
  epoch: number;
  loss: number;
  valLoss: number | null;
  accuracy: number | null;
  valAccuracy: number | null;
  ms: number;
}

/** A model as JSON: the spec plus every layer's kernel (inputs x units, row-major) and bias as base64 of the little-endian typed array. */
export type DType = 'float32' | 'float64';

export interface SerializedModel {
  format: 'backprop-engine/model@1';
  /** Element type of the base64 arrays: float32 normally, float64 for gradient checks. */
  dtype: DType;
  spec: ModelSpec;
  weights: { kernel: string; bias: string }[];
}

/** Everything needed to continue training bit for bit. */
export interface TrainingCheckpoint {
  format: 'backprop-engine/checkpoint@1';
  model: SerializedModel;
  options: TrainingOptions;
  /** Epochs completed so far. */
  epoch: number;
  rngState: number[];
  optimizerState: { step: number; slots: string[] };
  earlyStopping: { bestLoss: number | null; wait: number; bestWeights: SerializedModel | null };
  stopped: boolean;
}
