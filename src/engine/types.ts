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

/**
 * A recurrent layer reading a sequence of steps: 'rnn' is an Elman layer, h_t = act(x_t·W_x + h_(t-1)·W_h + b);
 * 'lstm' is Hochreiter & Schmidhuber's LSTM with Keras' gate order (input, forget, cell, output), sigmoid gates
 * and `activation` on the candidate and on the cell state; 'gru' is Cho et al.'s GRU with Keras' gate order
 * (update, reset, candidate), sigmoid gates and `activation` on the candidate. Recurrent layers come before any
 * dense layer.
 */
export interface RecurrentLayerSpec {
  type: 'rnn' | 'lstm' | 'gru';
  units: number;
  /** Defaults to tanh; softmax is not accepted (it is not elementwise). */
  activation?: ActivationName;
  /**
   * Output h_t of every step (rows x sequenceLength x units) instead of the last one only (rows x units).
   * Needed by a recurrent layer that feeds another; on the last recurrent layer, the dense layers after it
   * then run on every step (sequence-to-sequence: targets are rows x sequenceLength x units of the last layer).
   */
  returnSequences?: boolean;
}

/**
 * Inverted dropout: while training, each value is zeroed with probability `rate` and the others are scaled by
 * 1 / (1 - rate), so predict (where it is the identity) sees the same expected values. Follows a dense or
 * recurrent layer and feeds a dense one.
 */
export interface DropoutLayerSpec {
  type: 'dropout';
  /** In [0, 1). */
  rate: number;
}

export type LayerSpec = DenseLayerSpec | RecurrentLayerSpec | DropoutLayerSpec;

/** Layers with weights, which have a width of their own. */
export type WeightedLayerSpec = DenseLayerSpec | RecurrentLayerSpec;

export interface ModelSpec {
  /** Input values per row, or per step when the model has recurrent layers. */
  inputSize: number;
  /**
   * Steps per sequence; required with recurrent layers and only with them. An input row then holds
   * sequenceLength x inputSize values, time-major: step t's features at [t·inputSize, (t + 1)·inputSize).
   */
  sequenceLength?: number;
  /** Dense layers, optionally preceded by recurrent ones; the last layer is dense. */
  layers: LayerSpec[];
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
  /**
   * Clip the global gradient norm of a batch to this value. Off by default for dense networks; networks with
   * recurrent layers clip at DEFAULT_RECURRENT_CLIP_NORM unless this is set (exploding gradients through time).
   */
  clipNorm?: number;
  /**
   * Truncated backpropagation through time: the backward sweep carries gradients back through at most this
   * many steps, in chunks counted back from the last step (the forward pass still runs the whole sequence).
   * Default: the whole sequence. No effect on networks without recurrent layers.
   */
  bpttSteps?: number;
  earlyStopping?: EarlyStoppingOptions;
  /** Shuffle the training rows each epoch (default true). */
  shuffle?: boolean;
  /** How the learning rate changes from epoch to epoch; without it, the optimizer's rate holds throughout. */
  schedule?: ScheduleSpec;
}

/**
 * A learning-rate schedule: the rate of each epoch, from the optimizer's learningRate (lr0) and the epoch e (0-based).
 * step: lr0 · factor^floor(e / every). exponential: lr0 · rate^e. cosine: a linear warm-up from lr0 / warmupEpochs to
 * lr0 over warmupEpochs, then lr0 · (minFactor + (1 - minFactor) · (1 + cos(π · k / decayEpochs)) / 2) with k the
 * epochs since the warm-up (held at the end). plateau: Keras' ReduceLROnPlateau, the rate times factor after
 * `patience` epochs without the validation loss (the training loss without a split) improving by minDelta, never
 * below minRate.
 */
export type ScheduleSpec =
  | { type: 'step'; every: number; factor: number }
  | { type: 'exponential'; rate: number }
  | { type: 'cosine'; decayEpochs: number; warmupEpochs?: number; minFactor?: number }
  | { type: 'plateau'; patience: number; factor: number; minDelta?: number; minRate?: number };

export interface Dataset {
  /** Row-major, rows x inputSize (rows x sequenceLength x inputSize with recurrent layers). */
  inputs: FloatArray;
  /** Row-major, rows x units of the last layer (rows x sequenceLength x units for sequence-to-sequence models). */
  targets: FloatArray;
  rows: number;
  /**
   * Optional sample weights, one per row, finite and >= 0 (Keras' sample_weight): the loss of a batch becomes
   * sum_r w_r · l_r / rows, so a weight-0 row contributes nothing. A sequence-to-sequence sample's weight applies to
   * every one of its steps. Used for the validation loss too.
   */
  weights?: FloatArray;
}

export interface EpochReport {
  epoch: number;
  loss: number;
  valLoss: number | null;
  accuracy: number | null;
  valAccuracy: number | null;
  /** The learning rate the epoch's updates used. */
  learningRate: number;
  ms: number;
}

export type DType = 'float32' | 'float64';

/**
 * One layer's weights, base64 of the little-endian typed array. Dense: kernel (inputs x units) and bias.
 * rnn: kernel (inputs x units), recurrentKernel (units x units), bias. lstm: the same with 4·units columns,
 * the gates side by side in the order input, forget, cell, output (Keras' layout).
 */
export interface SerializedWeights {
  kernel: string;
  recurrentKernel?: string;
  bias: string;
}

/** A model as JSON: the spec plus every layer's weights. */
export interface SerializedModel {
  format: 'backprop-engine/model@1';
  /** Element type of the base64 arrays: float32 normally, float64 for gradient checks. */
  dtype: DType;
  spec: ModelSpec;
  weights: SerializedWeights[];
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
  /** The plateau schedule's state (absent in checkpoints written before schedules, and for other schedules). */
  schedule?: ScheduleState;
  /** Set when training stopped between two batches of epoch `epoch + 1`: where that epoch goes on from. */
  inEpoch?: EpochPosition;
  stopped: boolean;
}

/**
 * How far an epoch got when it stopped at a batch boundary. The rows' order is not stored: it is shuffled again
 * from the RNG state the epoch began with, then the RNG goes on from the checkpoint's rngState.
 */
export interface EpochPosition {
  /** Training rows already done (in the epoch's shuffled order): the next batch starts there. */
  next: number;
  /** The RNG state before the epoch's shuffle. */
  shuffleRngState: number[];
  /** The epoch report's sums so far: loss x rows, correct predictions, milliseconds spent. */
  lossSum: number;
  correct: number;
  ms: number;
}

/** What a plateau schedule carries from epoch to epoch: the rate in force, the best loss seen, epochs since. */
export interface ScheduleState {
  rate: number;
  best: number | null;
  wait: number;
}

/**
 * An optimizer updates parameters in place from their gradients. Its state is a step counter plus a list
 * of slot arrays (velocities, moments), so a checkpoint can store it and resume bit for bit.
 */
export interface Optimizer {
  step: number;
  readonly slots: FloatArray[];
  /** The rate the next updates use; a schedule sets it between epochs. */
  learningRate: number;
  apply(params: FloatArray[], grads: FloatArray[]): void;
}
