// Checks that need the dataset (or the engine's own rules) and so cannot live in the zod schema. Failures are
// 422: the request is well-formed but does not fit the data it references.
import type { LayerSpec, ModelSpec } from '../../engine/index.js';
import { EngineError, estimateTrainingBytes, outputUnits, validateSpec } from '../../engine/index.js';
import type { Training } from '../../contracts/training.js';
import type { StoredColumn } from '../../data/column-reader.js';
import { listNames } from '../../data/dataset-error.js';
import { unknownClassWeightLabels } from '../../data/class-weights.js';
import { optionsOf, type PreprocessingOptions, type StoredPreprocessing } from '../../contracts/preprocessing.js';
import { Errors } from '../errors.js';

interface DatasetShape {
  rows: number;
  features: string[];
  targets: string[];
  classes?: string[];
  /** Sequence datasets: steps per sequence. */
  sequenceLength?: number;
  perStepTargets?: boolean;
  /** Every column with its role and, for numeric ones, the range of its values. */
  columns?: readonly Pick<StoredColumn, 'name' | 'role' | 'type' | 'stats'>[];
}

export interface ModelLimits {
  maxParameters: number;
  maxEpochs: number;
  /** WORKER_MEMORY_LIMIT_MB in bytes: what one training run may take of a worker's memory. */
  maxTrainingBytes: number;
}

const MB = 1024 * 1024;

const SPEC_FIELDS = /^(layers|loss|inputSize|sequenceLength|model)\b/;

const isRecurrent = (layer: LayerSpec): boolean => layer.type === 'rnn' || layer.type === 'lstm' || layer.type === 'gru';
/** Blocks of weights per layer: an lstm has four gates, a gru three. */
const GATES = { dense: 1, rnn: 1, lstm: 4, gru: 3 } as const;

/** Weights and biases of the stack: counted before the engine allocates any of them. */
export function countParameters(spec: { inputSize: number; layers: readonly LayerSpec[] }): number {
  let width = spec.inputSize;
  let count = 0;
  for (const layer of spec.layers) {
    if (layer.type === 'dropout') continue;
    const u = layer.units;
    // dense: W (in x u) + b; rnn adds the recurrent kernel (u x u); an lstm has four gates of those, a gru three.
    const perGate = width * u + u + (isRecurrent(layer) ? u * u : 0);
    count += GATES[layer.type] * perGate;
    width = u;
  }
  return count;
}

/** Recurrent layers read sequences: a sequence dataset needs them, a tabular one cannot feed them. */
function checkSequenceFit(spec: ModelSpec, dataset: DatasetShape): void {
  const firstRecurrent = spec.layers.findIndex(isRecurrent);
  if (dataset.sequenceLength === undefined) {
    if (firstRecurrent >= 0) {
      const field = `model.layers[${firstRecurrent}].type`;
      throw Errors.UNPROCESSABLE(
        `${field}: "${spec.layers[firstRecurrent].type}" layers read sequences, but the dataset is tabular; upload a sequence dataset ` +
          '({ sequences, targets }, or a CSV with ?sequence=) or use dense layers only',
        { field, expected: 'dense' },
      );
    }
    return;
  }
  if (firstRecurrent < 0) {
    const features = dataset.features.length;
    throw Errors.UNPROCESSABLE(
      `model.layers[0].type: expected "rnn" or "lstm": the dataset holds sequences (${dataset.sequenceLength} steps of ` +
        `${features} feature${features === 1 ? '' : 's'}), which a model reads through recurrent layers first`,
      { field: 'model.layers[0].type', expected: 'rnn or lstm' },
    );
  }
}

/** Run after the engine accepted the stack: the last recurrent layer returns sequences exactly when targets are per step. */
function checkTargetSteps(spec: ModelSpec, dataset: DatasetShape): void {
  if (dataset.sequenceLength === undefined || dataset.sequenceLength === 1) return;
  const last = spec.layers.findLastIndex(isRecurrent);
  const returns = (spec.layers[last] as { returnSequences?: boolean }).returnSequences === true;
  if (returns === (dataset.perStepTargets === true)) return;
  const field = `model.layers[${last}].returnSequences`;
  const why = dataset.perStepTargets
    ? 'true: the dataset has one target per step, so the last recurrent layer must output every step'
    : 'false (or absent): the dataset has one target per sequence, so the last recurrent layer outputs its last step only';
  throw Errors.UNPROCESSABLE(`${field}: expected ${why}`, { field, expected: dataset.perStepTargets === true });
}

/** The engine's EngineError, with its field named as in the request body. */
function fromEngineError(err: EngineError) {
  const field = SPEC_FIELDS.test(err.field) ? `model.${err.field.replace(/^model\.?/, '')}` : `training.${err.field}`;
  // The engine's message starts with its own field name and ends with what it got; keep both.
  const message = err.message.startsWith(err.field) ? `${field}${err.message.slice(err.field.length)}` : `${field}: expected ${err.expected}`;
  return Errors.UNPROCESSABLE(message, { field, expected: err.expected, engineCode: err.code });
}

export function checkModelFitsDataset(spec: ModelSpec, training: Training & { seed: number }, dataset: DatasetShape, limits: ModelLimits): void {
  const parameters = countParameters(spec);
  if (parameters > limits.maxParameters) {
    throw Errors.MODEL_TOO_LARGE(
      `model: ${parameters} weights and biases for the dataset's ${spec.inputSize} features, more than ${limits.maxParameters} (MODEL_MAX_PARAMETERS); use fewer or narrower layers`,
      { field: 'model.layers', parameters, limit: limits.maxParameters },
    );
  }
  checkSequenceFit(spec, dataset);
  try {
    // The engine's own rules (layer order, output activation for the loss, ...), checked without allocating or
    // initializing a single weight: a 9M-parameter spec used to hold the event loop for half a second here.
    validateSpec(spec);
  } catch (err) {
    if (!(err instanceof EngineError)) throw err;
    throw fromEngineError(err);
  }
  checkTargetSteps(spec, dataset);
  if (training.bpttSteps !== undefined && dataset.sequenceLength === undefined) {
    throw Errors.UNPROCESSABLE('training.bpttSteps: only for models with recurrent layers (rnn, lstm, gru); leave it out for dense models', {
      field: 'training.bpttSteps',
    });
  }
  const last = spec.layers.length - 1;
  const width = dataset.classes?.length ?? dataset.targets.length;
  const units = outputUnits(spec.layers);
  if (units !== width) {
    const what = dataset.classes
      ? `${width} classes of "${dataset.targets[0]}" (${dataset.classes.join(', ')})`
      : `${width} target column(s) (${dataset.targets.join(', ')})`;
    throw Errors.UNPROCESSABLE(`model.layers[${last}].units: expected ${width} to match the dataset's ${what}, got ${units}`, {
      field: `model.layers[${last}].units`,
      expected: width,
    });
  }
  checkLossFitsTarget(spec, dataset);
  const validationRows = Math.floor(dataset.rows * training.validationSplit);
  if (training.validationSplit > 0 && (validationRows < 1 || validationRows >= dataset.rows)) {
    throw Errors.UNPROCESSABLE(
      `training.validationSplit: expected a fraction leaving at least one training and one validation row of the dataset's ${dataset.rows} rows, got ${training.validationSplit}`,
      { field: 'training.validationSplit' },
    );
  }
  checkTrainingMemory(spec, training, dataset, limits.maxTrainingBytes);
}

/**
 * Cross-entropy losses read targets as probabilities: a class target is one-hot, a numeric one must lie in [0, 1]
 * (its stored statistics say so). Targets in the thousands under binaryCrossEntropy "train" to a negative loss.
 */
function checkLossFitsTarget(spec: ModelSpec, dataset: DatasetShape): void {
  if (spec.loss === 'meanSquaredError' || dataset.classes) return;
  const outside = (dataset.columns ?? []).find((c) => c.role === 'target' && c.stats && (c.stats.min < 0 || c.stats.max > 1));
  if (!outside?.stats) return;
  // Statistics are float32 sums: 7 significant digits give back the value as uploaded (46.6, not 46.599998474121094).
  const [min, max] = [outside.stats.min, outside.stats.max].map((v) => Number(v.toPrecision(7)));
  const needs = spec.loss === 'binaryCrossEntropy' ? 'targets between 0 and 1 (0/1 labels or probabilities)' : 'a class target (or class probabilities between 0 and 1)';
  throw Errors.UNPROCESSABLE(
    `model.loss: ${spec.loss} needs ${needs}, but the target "${outside.name}" is numeric from ${min} to ${max}; ` +
      'use meanSquaredError for a numeric target, or upload the target as class labels',
    { field: 'model.loss', expected: 'meanSquaredError', target: outside.name, min, max },
  );
}

/**
 * A run's memory, estimated before anything is allocated (engine/memory-estimate.ts): a run past the worker's limit
 * would be killed with every run beside it, and retried up to JOB_MAX_CRASHES times. The answer names the largest
 * batchSize that fits, or the layers when none does.
 */
function checkTrainingMemory(spec: ModelSpec, training: Training, dataset: DatasetShape, limitBytes: number): void {
  const footprint = {
    rows: dataset.rows,
    validationSplit: training.validationSplit,
    optimizer: training.optimizer,
    weighted: training.classWeights !== undefined,
    earlyStoppingRestoresWeights: training.earlyStopping?.restoreBestWeights === true,
  };
  const estimate = (batchSize: number) => estimateTrainingBytes(spec, { ...footprint, batchSize });
  const estimateBytes = estimate(training.batchSize);
  if (estimateBytes <= limitBytes) return;
  let fits = 0;
  for (let low = 1, high = training.batchSize - 1; low <= high; ) {
    const mid = Math.floor((low + high) / 2);
    if (estimate(mid) <= limitBytes) {
      fits = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  const needs = `training needs an estimated ${Math.ceil(estimateBytes / MB)} MB (activations of each batch, weights, gradients, optimizer slots and the encoded dataset), more than a worker's ${Math.floor(limitBytes / MB)} MB (WORKER_MEMORY_LIMIT_MB)`;
  const field = fits > 0 ? 'training.batchSize' : 'model.layers';
  const advice = fits > 0 ? `use a batchSize of at most ${fits}` : 'use fewer or narrower layers, or a smaller dataset';
  throw Errors.TRAINING_TOO_LARGE(`${field}: at batchSize ${training.batchSize} on the dataset's ${dataset.rows} rows, ${needs}; ${advice}`, {
    field,
    estimateBytes,
    limitBytes,
    ...(fits > 0 ? { largestBatchSize: fits } : {}),
  });
}

/** What a warm start needs of its initial model beyond the shape of its layers. */
interface InitialModel {
  targets: string[];
  classes?: string[];
  preprocessing: StoredPreprocessing;
}

/**
 * A warm start goes on from the model's outputs and inputs: its output units stand for the same classes in the same
 * order, and its inputs were encoded with its fitted preprocessing, which the job keeps. Preprocessing the request
 * gives must be that one (422 rather than silently replacing it); leaving it out keeps the model's.
 */
export function checkWarmStartFit(initial: InitialModel, dataset: DatasetShape, requested: PreprocessingOptions | undefined): void {
  const classesOf = (classes: string[] | undefined, target: string) => (classes ? `the classes ${listNames(classes)} of "${target}"` : `a numeric target`);
  if (JSON.stringify(initial.classes ?? null) !== JSON.stringify(dataset.classes ?? null)) {
    throw Errors.UNPROCESSABLE(
      `initialModelId: the model predicts ${classesOf(initial.classes, initial.targets[0])}, but the dataset's target is ${classesOf(dataset.classes, dataset.targets[0])}; ` +
        'a warm start needs the same classes in the same order',
      { field: 'initialModelId', expected: initial.classes ?? null, got: dataset.classes ?? null },
    );
  }
  if (!requested) return;
  const fitted = optionsOf(initial.preprocessing);
  const differing = (Object.keys(fitted) as (keyof PreprocessingOptions)[]).filter((key) => fitted[key] !== requested[key]);
  if (differing.length === 0) return;
  const issues = differing.map((key) => ({
    field: `preprocessing.${key}`,
    message: `preprocessing.${key}: the model was fitted with ${JSON.stringify(fitted[key])}, the request asks ${JSON.stringify(requested[key])}`,
  }));
  throw Errors.UNPROCESSABLE(
    `initialModelId: the model's inputs were prepared with other preprocessing (${issues.map((i) => i.message).join('; ')}); ` +
      "a warm start keeps the model's: leave preprocessing out, or ask for the model's",
    { field: 'initialModelId', issues: [{ field: 'initialModelId', message: 'preprocessing differs from the model\'s' }, ...issues], expected: fitted },
  );
}

/** Class weights need classes, and may name only classes the dataset has. */
export function checkClassWeights(classWeights: Training['classWeights'], classes: string[] | undefined): void {
  if (classWeights === undefined) return;
  const field = 'training.classWeights';
  if (!classes) {
    throw Errors.UNPROCESSABLE(`${field}: only for a class target; the dataset's target is numeric (regression)`, { field });
  }
  const unknown = unknownClassWeightLabels(classWeights, classes);
  if (unknown.length) {
    throw Errors.UNPROCESSABLE(`${field}: ${listNames(unknown)} ${unknown.length === 1 ? 'is not a class' : 'are not classes'} of the dataset (${listNames(classes)})`, {
      field,
      expected: classes,
    });
  }
}
