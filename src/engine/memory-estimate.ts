import type { LayerSpec, ModelSpec, OptimizerSpec } from './types.js';

/** What a training run holds besides its spec: the dataset's size and the options that size buffers. */
export interface TrainingFootprint {
  /** Rows (sequences) of the dataset, training and validation together. */
  rows: number;
  batchSize: number;
  validationSplit: number;
  optimizer: Pick<OptimizerSpec, 'type'> & { momentum?: number };
  /** Per-row sample weights (class weights): one more float per row. */
  weighted?: boolean;
  earlyStoppingRestoresWeights?: boolean;
}

const FLOAT = 4;
/** A training thread's own heap, compiled code and WebAssembly instances, before any buffer (measured ~20 MB). */
const THREAD_BYTES = 32 * 1024 * 1024;
/**
 * A float32 recurrent layer's own WebAssembly instance beyond its buffers: the gemm's packing scratch (260 KiB) and
 * memory grown 1 MiB at a time (measured: 1.0 to 1.9 MiB over its buffers, from 4 to 128 lstm units).
 */
const RECURRENT_SPACE_FLOATS = (2 * 1024 * 1024) / FLOAT;
/** The trainer's evaluation chunk (trainer.ts EVAL_CHUNK): layer buffers grow to it even for smaller batches. */
const EVAL_ROWS = 1024;

/**
 * An upper bound of the float32 bytes one training run allocates, from the spec alone, before any of it exists. It
 * follows the buffers the engine keeps: per layer the outputs, pre-activations and input gradients of a batch (per
 * step for recurrent layers, with an lstm's gates and cells), weights and their gradients, optimizer slots (Adam's
 * live in WebAssembly memory with copies of weights and gradients), the largest single gemm's staging copies in
 * WebAssembly memory (grown once, never shrunk), the batch and validation copies, the encoded dataset, and the
 * checkpoint's encoded text.
 */
export function estimateTrainingBytes(spec: ModelSpec, run: TrainingFootprint): number {
  const validationRows = Math.floor(run.rows * run.validationSplit);
  const trainRows = Math.max(1, run.rows - validationRows);
  const batch = Math.min(run.batchSize, trainRows);
  // Layers see the training batch and the evaluation chunks; their buffers keep the larger.
  const rows = Math.max(batch, Math.min(EVAL_ROWS, Math.max(validationRows, trainRows)));

  const { parameters, activations, staging, outputWidth } = layerFloats(spec, rows);
  const inputWidth = (spec.sequenceLength ?? 1) * spec.inputSize;
  const rowFloats = inputWidth + outputWidth + (run.weighted ? 1 : 0);
  const dataset = run.rows * rowFloats;
  const copies = batch * rowFloats + validationRows * rowFloats + rows * outputWidth; // batch, validation set, dL/d(output)
  const slots = optimizerFloats(run.optimizer, parameters);
  const snapshot = run.earlyStoppingRestoresWeights ? parameters : 0;
  // A checkpoint is weights and slots as base64 (4/3 of their bytes), held four times while it is stored: the
  // thread's text, its copy in the worker process, the JSON text and the bytes sent to Postgres.
  const checkpoint = Math.ceil(((parameters + slots) * 16) / 3);
  return THREAD_BYTES + FLOAT * (2 * parameters + slots + snapshot + checkpoint + activations + staging + copies + dataset);
}

/**
 * The bytes a model holds to predict `rows` rows at a time: weights and their gradient buffers (the engine allocates
 * both), and every layer's buffers for `rows` rows, which stay with the model once grown.
 */
export function estimatePredictBytes(spec: ModelSpec, rows: number): number {
  const { parameters, activations } = layerFloats(spec, rows);
  return FLOAT * (2 * parameters + activations);
}

/** Floats of weights, of every layer's buffers for `rows` samples, and of the largest product's staging copies. */
function layerFloats(spec: ModelSpec, rows: number) {
  const steps = spec.sequenceLength ?? 1;
  const lastRecurrent = spec.layers.findLastIndex(isRecurrent);
  const outSteps = lastRecurrent >= 0 && returnsSequences(spec.layers[lastRecurrent]) ? steps : 1;
  let parameters = 0;
  let activations = 0;
  let staging = 0;
  let width = spec.inputSize;
  for (const layer of spec.layers) {
    const kind: string = layer.type;
    if (!('units' in layer)) {
      // Dropout: a mask and the masked output of each batch, no weights; the width goes on unchanged.
      activations += 2 * rows * outSteps * width;
      continue;
    }
    const u = layer.units;
    if (kind === 'dense') {
      const r = rows * outSteps;
      parameters += width * u + u;
      activations += 2 * r * u + r * width; // z, a, dL/dx
      staging = Math.max(staging, r * width + width * u + r * u);
    } else {
      const w = GATES[kind] * u;
      parameters += width * w + u * w + w;
      // xs, zs, hs, dL/dx, dL/dh, the sample-major copy of a returned sequence, and what gated layers save per step
      // (an lstm's gate outputs, cells and act(cells)) with their per-step gradients.
      activations += steps * rows * (2 * width + w + u) + rows * u + (returnsSequences(layer) ? steps * rows * u : 0);
      if (GATES[kind] > 1) activations += steps * rows * 6 * u + rows * 6 * u;
      activations += RECURRENT_SPACE_FLOATS;
      staging = Math.max(staging, steps * rows * (width + w) + width * w, steps * rows * (u + w) + u * w);
    }
    width = u;
  }
  return { parameters, activations, staging, outputWidth: width * outSteps };
}

/** Adam: two moments, held in WebAssembly with copies of weights and gradients (4 x parameters); SGD: momentum only. */
function optimizerFloats(optimizer: TrainingFootprint['optimizer'], parameters: number): number {
  if (optimizer.type === 'adam') return 4 * parameters;
  return (optimizer.momentum ?? 0) > 0 ? parameters : 0;
}

/** Blocks of z per unit: one for an Elman layer, one per gate for gated ones. */
const GATES: Record<string, number> = { rnn: 1, gru: 3, lstm: 4 };
const isRecurrent = (layer: LayerSpec): boolean => layer.type in GATES;
const returnsSequences = (layer: LayerSpec): boolean => 'returnSequences' in layer && layer.returnSequences === true;
