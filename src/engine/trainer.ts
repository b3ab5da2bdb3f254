import { decodeArray, encodeArray } from './base64.js';
import { DivergenceError, invalid } from './errors.js';
import { checkBatch, type Network } from './network.js';
import { LearningRateSchedule } from './lr-schedules.js';
import { createOptimizer } from './optimizers.js';
import { Rng } from './rng.js';
import { deserializeModel, restoreParameters, serializeModel, snapshotParameters } from './serialize.js';
import type { Dataset, EpochPosition, EpochReport, FloatArray, Optimizer, TrainingCheckpoint, TrainingOptions } from './types.js';

const CHECKPOINT_FORMAT = 'backprop-engine/checkpoint@1';
export const MAX_EPOCHS = 1_000_000;
/** Validation is evaluated in chunks so its buffers stay small whatever the dataset size. */
const EVAL_CHUNK = 1024;
/** The validation split draws from its own stream so resuming needs only the shuffling RNG's state. */
const SPLIT_SEED_SALT = 0x5bd1e995;
/** Input rows at least this wide are gathered into a batch with one memcpy each rather than a loop. */
const WIDE_ROW = 64;
/** clipNorm of networks with recurrent layers when the options leave it unset: gradients through time explode. */
export const DEFAULT_RECURRENT_CLIP_NORM = 5;

/**
 * The training loop: per-epoch seeded shuffling, mini-batches (batchSize = rows gives full-batch gradient
 * descent), weight decay and global-norm clipping, then one optimizer update per batch, applied only after
 * the whole backward pass of that batch. Epochs can be run one at a time so a caller can report, checkpoint
 * or stop between them, and an epoch can stop between two batches (runEpochUntil) and go on from there, in this
 * trainer or in one restored from a checkpoint taken there.
 */
export class Trainer {
  epoch = 0;
  done = false;
  private readonly rng: Rng;
  private readonly optimizer: Optimizer;
  private readonly schedule: LearningRateSchedule;
  private readonly trainRows: Uint32Array;
  private readonly order: Uint32Array;
  private readonly batchSize: number;
  private readonly xBatch: FloatArray;
  private readonly yBatch: FloatArray;
  /** The batch's sample weights; null when the dataset has none (the unweighted loss). */
  private readonly wBatch: FloatArray | null;
  private viewRows = -1;
  private xView: FloatArray;
  private yView: FloatArray;
  private wView: FloatArray | null;
  private readonly validation: EvaluationSet | null;
  private lastFiniteLoss: number | null = null;
  private best: { loss: number | null; wait: number; weights: FloatArray[] | null } = { loss: null, wait: 0, weights: null };
  /** The epoch in progress when it stopped between two batches; null between epochs. */
  private position: EpochPosition | null = null;

  constructor(
    readonly network: Network,
    private readonly data: Dataset,
    readonly options: TrainingOptions,
  ) {
    validateOptions(options);
    const inputs = network.inputWidth;
    const outputs = network.outputWidth;
    checkDataset(data, network);

    const seed = options.seed ?? 0;
    const split = splitRows(data.rows, options.validationSplit ?? 0, seed);
    this.trainRows = split.train;
    this.order = new Uint32Array(split.train.length);
    this.batchSize = Math.min(options.batchSize, split.train.length);
    this.xBatch = new network.Float(this.batchSize * inputs);
    this.yBatch = new network.Float(this.batchSize * outputs);
    this.wBatch = data.weights ? new network.Float(this.batchSize) : null;
    this.xView = this.xBatch;
    this.yView = this.yBatch;
    this.wView = this.wBatch;
    this.validation = split.validation.length > 0 ? this.gather(split.validation) : null;
    this.rng = new Rng(seed);
    this.optimizer = createOptimizer(options.optimizer, network.parameters().map((p) => p.length), network.Float, network);
    this.schedule = new LearningRateSchedule(options.schedule, options.optimizer.learningRate);
  }

  /** Continues a run from a checkpoint: same weights, optimizer moments, RNG state and epoch. */
  static fromCheckpoint(checkpoint: TrainingCheckpoint, data: Dataset): Trainer {
    if (checkpoint?.format !== CHECKPOINT_FORMAT) throw invalid('checkpoint.format', `"${CHECKPOINT_FORMAT}"`);
    const network = deserializeModel(checkpoint.model);
    const trainer = new Trainer(network, data, checkpoint.options);
    trainer.epoch = checkpoint.epoch;
    trainer.done = checkpoint.stopped || checkpoint.epoch >= checkpoint.options.epochs;
    trainer.rng.restore(checkpoint.rngState);
    const dtype = network.dtype;
    trainer.optimizer.step = checkpoint.optimizerState.step;
    trainer.optimizer.slots.forEach((slot, i) => {
      slot.set(decodeArray(checkpoint.optimizerState.slots[i], dtype, slot.length, `checkpoint.optimizerState.slots[${i}]`));
    });
    const es = checkpoint.earlyStopping;
    const bestWeights = es.bestWeights ? deserializeModel(es.bestWeights).parameters() : null;
    trainer.best = { loss: es.bestLoss, wait: es.wait, weights: bestWeights };
    if (trainer.schedule.state && checkpoint.schedule) trainer.schedule.state = { ...checkpoint.schedule };
    if (checkpoint.inEpoch) trainer.resumeEpoch(checkpoint.inEpoch, checkpoint.rngState);
    return trainer;
  }

  checkpoint(): TrainingCheckpoint {
    let bestWeights = null;
    if (this.best.weights) {
      const current = snapshotParameters(this.network);
      restoreParameters(this.network, this.best.weights);
      bestWeights = serializeModel(this.network);
      restoreParameters(this.network, current);
    }
    return {
      format: CHECKPOINT_FORMAT,
      model: serializeModel(this.network),
      options: structuredClone(this.options),
      epoch: this.epoch,
      rngState: this.rng.state(),
      optimizerState: { step: this.optimizer.step, slots: this.optimizer.slots.map(encodeArray) },
      earlyStopping: { bestLoss: this.best.loss, wait: this.best.wait, bestWeights },
      ...(this.schedule.state ? { schedule: { ...this.schedule.state } } : {}),
      ...(this.position ? { inEpoch: structuredClone(this.position) } : {}),
      stopped: this.done && this.epoch < this.options.epochs,
    };
  }

  /** Runs every remaining epoch; onEpoch may return 'stop' to end training after that epoch. */
  fit(onEpoch?: (report: EpochReport) => void | 'stop'): EpochReport[] {
    const reports: EpochReport[] = [];
    while (!this.done) {
      const report = this.runEpoch();
      reports.push(report);
      if (onEpoch?.(report) === 'stop') this.done = true;
    }
    return reports;
  }

  /** Optimizer updates so far, one per batch: it moves whenever the weights do. */
  get steps(): number {
    return this.optimizer.step;
  }

  runEpoch(): EpochReport {
    return this.runEpochUntil(() => false) as EpochReport;
  }

  /**
   * Runs the epoch (or the rest of the one that stopped) and asks `shouldStop` before each batch: on true it stops
   * at that batch boundary and answers null; the next call, or a checkpoint taken now, goes on from there.
   */
  runEpochUntil(shouldStop: () => boolean): EpochReport | null {
    if (this.done) throw invalid('trainer', 'a run that has epochs left');
    const started = performance.now();
    const epoch = this.epoch + 1;
    const net = this.network;
    const params = net.parameters();
    const grads = net.gradients();
    const at = this.position ?? this.startEpoch();
    // A plateau schedule's state changes only between epochs: a resumed epoch gets the rate it started with.
    const learningRate = this.schedule.rateFor(this.epoch);
    this.optimizer.learningRate = learningRate;

    let { lossSum, correct } = at;
    for (let start = at.next; start < this.order.length; start += this.batchSize) {
      if (shouldStop()) {
        this.position = { ...at, next: start, lossSum, correct, ms: at.ms + performance.now() - started };
        return null;
      }
      const rows = Math.min(this.batchSize, this.order.length - start);
      this.gatherBatch(start, rows);
      const x = this.xView;
      const y = this.yView;
      // Dropout masks come from the shuffling stream: the checkpoint's RNG state covers them too.
      const loss = net.lossAndGradients(x, y, rows, this.options.bpttSteps, this.wView, this.rng);
      // Checked before any update: a diverged batch must not write NaN into the weights.
      if (!Number.isFinite(loss)) throw new DivergenceError(epoch, this.lastFiniteLoss, learningRate);
      this.lastFiniteLoss = loss;
      lossSum += loss * rows;
      correct += countCorrect(net, y, rows);
      this.regularizeAndClip(params, grads);
      this.optimizer.apply(params, grads);
    }

    this.position = null;
    const loss = lossSum / this.order.length;
    let valLoss: number | null = null;
    let valAccuracy: number | null = null;
    if (this.validation) {
      const v = this.evaluate(this.validation);
      valLoss = v.loss;
      valAccuracy = v.accuracy;
      if (!Number.isFinite(valLoss)) throw new DivergenceError(epoch, this.lastFiniteLoss, learningRate);
    }
    this.epoch = epoch;
    this.schedule.observe(valLoss ?? loss);
    this.updateEarlyStopping(valLoss ?? loss);
    if (this.epoch >= this.options.epochs) this.finish();
    return { epoch, loss, valLoss, accuracy: accuracy(net, correct, this.order.length), valAccuracy, learningRate, ms: at.ms + performance.now() - started };
  }

  /** Shuffles the epoch's order; the RNG state before it lets a restored trainer shuffle the same order again. */
  private startEpoch(): EpochPosition {
    const shuffleRngState = this.rng.state();
    this.order.set(this.trainRows);
    if (this.options.shuffle ?? true) this.rng.shuffle(this.order);
    return { next: 0, shuffleRngState, lossSum: 0, correct: 0, ms: 0 };
  }

  /** The order of a checkpoint's epoch in progress, then the RNG where that epoch's batches had left it (dropout). */
  private resumeEpoch(position: EpochPosition, rngState: number[]): void {
    this.rng.restore(position.shuffleRngState);
    this.startEpoch();
    this.rng.restore(rngState);
    this.position = structuredClone(position);
  }

  /** Mean loss (weighted when the set has weights) and accuracy over a contiguous set of rows, chunk by chunk. */
  evaluate(set: EvaluationSet): { loss: number; accuracy: number | null } {
    const net = this.network;
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < set.rows; start += EVAL_CHUNK) {
      const rows = Math.min(EVAL_CHUNK, set.rows - start);
      const x = set.x.subarray(start * net.inputWidth, (start + rows) * net.inputWidth);
      const y = set.y.subarray(start * net.outputWidth, (start + rows) * net.outputWidth);
      const w = set.w ? set.w.subarray(start, start + rows) : null;
      lossSum += net.evaluate(x, y, rows, w) * rows;
      correct += countCorrect(net, y, rows);
    }
    return { loss: lossSum / set.rows, accuracy: accuracy(net, correct, set.rows) };
  }

  private regularizeAndClip(params: FloatArray[], grads: FloatArray[]): void {
    const decay = this.options.weightDecay ?? 0;
    if (decay > 0) {
      // Kernels and recurrent kernels are decayed, biases are not.
      for (const t of this.network.kernelIndices) {
        const w = params[t];
        const g = grads[t];
        for (let i = 0; i < w.length; i++) g[i] += decay * w[i];
      }
    }
    const clip = this.options.clipNorm ?? (this.network.recurrent ? DEFAULT_RECURRENT_CLIP_NORM : undefined);
    if (clip === undefined) return;
    let sumSquares = 0;
    for (const g of grads) for (let i = 0; i < g.length; i++) sumSquares += g[i] * g[i];
    const norm = Math.sqrt(sumSquares);
    if (norm <= clip) return;
    const scale = clip / norm;
    for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= scale;
  }

  private updateEarlyStopping(monitored: number): void {
    const es = this.options.earlyStopping;
    if (!es) return;
    const minDelta = es.minDelta ?? 0;
    if (this.best.loss === null || monitored < this.best.loss - minDelta) {
      this.best.loss = monitored;
      this.best.wait = 0;
      if (es.restoreBestWeights) this.best.weights = snapshotParameters(this.network);
      return;
    }
    this.best.wait++;
    if (this.best.wait >= es.patience) this.finish();
  }

  private finish(): void {
    this.done = true;
    if (this.options.earlyStopping?.restoreBestWeights && this.best.weights) {
      restoreParameters(this.network, this.best.weights);
    }
  }

  private gather(rows: Uint32Array): EvaluationSet {
    const x = new this.network.Float(rows.length * this.network.inputWidth);
    const y = new this.network.Float(rows.length * this.network.outputWidth);
    const w = this.data.weights ? new this.network.Float(rows.length) : null;
    this.gatherInto(rows, 0, rows.length, x, y, w);
    return { x, y, w, rows: rows.length };
  }

  /** Copies training rows order[start, start + rows) into the batch buffers and points the batch views at them. */
  private gatherBatch(start: number, rows: number): void {
    if (rows !== this.viewRows) {
      // Views are cached: only the last batch of an epoch can differ in size, so a step allocates nothing.
      this.viewRows = rows;
      this.xView = this.xBatch.subarray(0, rows * this.network.inputWidth);
      this.yView = this.yBatch.subarray(0, rows * this.network.outputWidth);
      this.wView = this.wBatch?.subarray(0, rows) ?? null;
    }
    this.gatherInto(this.order, start, rows, this.xBatch, this.yBatch, this.wBatch);
  }

  private gatherInto(order: Uint32Array, start: number, count: number, x: FloatArray, y: FloatArray, w: FloatArray | null): void {
    const nIn = this.network.inputWidth;
    const nOut = this.network.outputWidth;
    const { inputs, targets } = this.data;
    // Narrow rows are copied by plain loops, which beat subarray + set (a view allocated per row); wide rows (MNIST's
    // 784 pixels) by set, a memcpy.
    const wide = nIn >= WIDE_ROW;
    for (let r = 0; r < count; r++) {
      const row = order[start + r];
      const xs = row * nIn;
      const xd = r * nIn;
      if (wide) x.set(inputs.subarray(xs, xs + nIn), xd);
      else for (let j = 0; j < nIn; j++) x[xd + j] = inputs[xs + j];
      const ys = row * nOut;
      const yd = r * nOut;
      for (let j = 0; j < nOut; j++) y[yd + j] = targets[ys + j];
    }
    const { weights } = this.data;
    if (w && weights) for (let r = 0; r < count; r++) w[r] = weights[order[start + r]];
  }
}

/** Rows gathered for evaluation: inputs, targets and, when the dataset has them, sample weights. */
export interface EvaluationSet {
  x: FloatArray;
  y: FloatArray;
  w?: FloatArray | null;
  rows: number;
}

/**
 * Argmax accuracy for softmax outputs, thresholded (0.5) accuracy per unit for sigmoid outputs, and
 * none for regression. Sequence-to-sequence outputs count every step.
 */
function accuracy(net: Network, correct: number, samples: number): number | null {
  const perRow = net.spec.loss === 'categoricalCrossEntropy' ? 1 : net.spec.loss === 'binaryCrossEntropy' ? net.outputSize : 0;
  return perRow > 0 ? correct / (samples * net.outputSteps * perRow) : null;
}

/**
 * Correct predictions of the last forward pass over `samples` rows, as accuracy() counts them (0 for regression).
 * Both classification losses are fused with their output activation, so training skips it and this reads the
 * logits z: argmax softmax(z) = argmax z, and sigmoid(z) >= 0.5 exactly when z >= 0.
 */
function countCorrect(net: Network, y: FloatArray, samples: number): number {
  const rows = samples * net.outputSteps;
  const z = net.head.z(rows);
  const n = net.outputSize;
  if (net.spec.loss === 'categoricalCrossEntropy') {
    let correct = 0;
    for (let r = 0; r < rows; r++) {
      let best = 0;
      let target = 0;
      for (let j = 1; j < n; j++) {
        if (z[r * n + j] > z[r * n + best]) best = j;
        if (y[r * n + j] > y[r * n + target]) target = j;
      }
      if (best === target) correct++;
    }
    return correct;
  }
  if (net.spec.loss === 'binaryCrossEntropy') {
    let correct = 0;
    for (let i = 0; i < rows * n; i++) if (z[i] >= 0 === y[i] >= 0.5) correct++;
    return correct;
  }
  return 0;
}

/**
 * The rows a Trainer trains on and the rows it holds out for validation (validationSplit = fraction), drawn from
 * the seed's own stream: a caller can know which rows are training rows before training (e.g. to fit class weights
 * on them). Without a split every row trains, in order.
 */
export function splitRows(rows: number, fraction: number, seed: number): { train: Uint32Array; validation: Uint32Array } {
  const all = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) all[i] = i;
  const valCount = Math.floor(rows * fraction);
  if (fraction > 0 && (valCount < 1 || valCount >= rows)) {
    throw invalid('validationSplit', `a fraction leaving at least one row for training and one for validation (dataset has ${rows} rows)`, fraction);
  }
  if (valCount === 0) return { train: all, validation: new Uint32Array(0) };
  new Rng((seed ^ SPLIT_SEED_SALT) >>> 0).shuffle(all);
  return { train: all.slice(0, rows - valCount), validation: all.slice(rows - valCount) };
}

function checkDataset(data: Dataset, network: Network): void {
  if (data === null || typeof data !== 'object') throw invalid('data', 'an object with inputs, targets and rows');
  const { rows } = data;
  if (!Number.isInteger(rows) || rows < 1) throw invalid('data.rows', 'an integer >= 1', rows);
  const inputs = network.inputWidth;
  const outputs = network.outputWidth;
  const inputRow = data.inputs.length / rows;
  const targetRow = data.targets.length / rows;
  const steps = network.sequenceLength;
  if (data.inputs.length !== rows * inputs) {
    if (!network.recurrent) throw invalid('inputSize', `${inputRow} (the width of each input row)`, inputs);
    throw invalid(
      'inputSize',
      `${inputRow / steps} (each input row holds ${inputRow} values = sequenceLength ${steps} x inputSize)`,
      network.inputSize,
    );
  }
  if (data.targets.length !== rows * outputs) {
    const field = `layers[${network.layers.length - 1}].units`;
    if (network.outputSteps === 1) throw invalid(field, `${targetRow} (the width of each target row)`, outputs);
    throw invalid(
      field,
      `${targetRow / steps} (each target row holds ${targetRow} values = sequenceLength ${steps} x units, one output per step)`,
      network.outputSize,
    );
  }
  checkBatch(data.inputs, rows, inputs, 'inputs');
  checkBatch(data.targets, rows, outputs, 'targets');
  if (data.weights !== undefined) checkWeights(data.weights, rows);
}

function checkWeights(weights: FloatArray, rows: number): void {
  if (weights === null || typeof weights !== 'object' || weights.length !== rows) {
    throw invalid('weights', `${rows} numbers, one per row`, weights?.length ?? weights);
  }
  for (let r = 0; r < rows; r++) {
    const w = weights[r];
    if (!(Number.isFinite(w) && w >= 0)) throw invalid(`weights[${r}]`, 'a finite number >= 0', w);
  }
}

function validateOptions(o: TrainingOptions): void {
  if (o === null || typeof o !== 'object') throw invalid('training', 'an object');
  const isInt = (v: unknown, lo: number, hi: number) => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
  if (!isInt(o.epochs, 1, MAX_EPOCHS)) throw invalid('epochs', `an integer between 1 and ${MAX_EPOCHS}`, o.epochs);
  if (!isInt(o.batchSize, 1, Number.MAX_SAFE_INTEGER)) throw invalid('batchSize', 'an integer >= 1', o.batchSize);
  const split = o.validationSplit;
  if (split !== undefined && !(typeof split === 'number' && split >= 0 && split < 1)) {
    throw invalid('validationSplit', 'a number in [0, 1)', split);
  }
  if (o.seed !== undefined && !isInt(o.seed, 0, 0xffffffff)) throw invalid('seed', 'an integer between 0 and 4294967295', o.seed);
  if (o.weightDecay !== undefined && !(typeof o.weightDecay === 'number' && o.weightDecay >= 0 && Number.isFinite(o.weightDecay))) {
    throw invalid('weightDecay', 'a finite number >= 0', o.weightDecay);
  }
  if (o.clipNorm !== undefined && !(typeof o.clipNorm === 'number' && o.clipNorm > 0 && Number.isFinite(o.clipNorm))) {
    throw invalid('clipNorm', 'a finite number > 0', o.clipNorm);
  }
  if (o.bpttSteps !== undefined && !isInt(o.bpttSteps, 1, Number.MAX_SAFE_INTEGER)) throw invalid('bpttSteps', 'an integer >= 1', o.bpttSteps);
  const es = o.earlyStopping;
  if (es !== undefined) {
    if (!isInt(es.patience, 1, MAX_EPOCHS)) throw invalid('earlyStopping.patience', 'an integer >= 1', es.patience);
    if (es.minDelta !== undefined && !(typeof es.minDelta === 'number' && es.minDelta >= 0 && Number.isFinite(es.minDelta))) {
      throw invalid('earlyStopping.minDelta', 'a finite number >= 0', es.minDelta);
    }
  }
}
