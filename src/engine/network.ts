import { DenseLayer } from './dense-layer.js';
import { DropoutLayer } from './dropout-layer.js';
import { invalid } from './errors.js';
import { GruLayer } from './gru-layer.js';
import type { Layer } from './layer.js';
import { getLoss, type Loss } from './losses.js';
import { LstmLayer } from './lstm-layer.js';
import { RecurrentLayer } from './recurrent-layer.js';
import { Rng } from './rng.js';
import { RnnLayer } from './rnn-layer.js';
import { isRecurrent, validateSpec } from './spec-validation.js';
import type { DType, FloatArray, FloatArrayConstructor, LayerSpec, ModelSpec, RecurrentLayerSpec } from './types.js';

/**
 * A stack of layers and its loss: forward, loss, and one backward sweep from output to input. Recurrent layers
 * (if any) come first and read rows of sequenceLength x inputSize values; the dense layers after them see one
 * row per sample, or one row per step of every sample when the last recurrent layer returns sequences.
 */
export class Network {
  readonly layers: Layer[];
  /** The output layer, always dense. */
  readonly head: DenseLayer;
  readonly loss: Loss;
  readonly Float: FloatArrayConstructor;
  /** Steps per sample, 1 without recurrent layers. */
  readonly sequenceLength: number;
  /** Output rows per sample: sequenceLength for sequence-to-sequence models, else 1. */
  readonly outputSteps: number;
  readonly recurrent: boolean;
  /** Positions in parameters() of the tensors weight decay applies to: kernels, not biases. */
  readonly kernelIndices: readonly number[];
  private outGradBuf: FloatArray;
  private outGrad: FloatArray;

  constructor(
    readonly spec: ModelSpec,
    readonly dtype: DType = 'float32',
  ) {
    validateSpec(spec);
    this.Float = dtype === 'float64' ? Float64Array : Float32Array;
    this.sequenceLength = spec.sequenceLength ?? 1;
    this.recurrent = spec.layers.some(isRecurrent);
    const lastRecurrent = spec.layers.findLastIndex(isRecurrent);
    this.outputSteps = lastRecurrent >= 0 && (spec.layers[lastRecurrent] as RecurrentLayerSpec).returnSequences ? this.sequenceLength : 1;
    let width = spec.inputSize;
    this.layers = spec.layers.map((layerSpec) => {
      const layer = this.createLayer(layerSpec, width);
      width = layer.units;
      return layer;
    });
    this.head = this.layers[this.layers.length - 1] as DenseLayer;
    this.kernelIndices = this.layers.flatMap((l) => l.parameters).flatMap((p, i) => (p.name === 'bias' ? [] : [i]));
    this.loss = getLoss(spec.loss);
    this.outGradBuf = this.outGrad = new this.Float(0);
  }

  /** Input values per step (per row without recurrent layers). */
  get inputSize(): number {
    return this.spec.inputSize;
  }

  /** Units of the output layer: output values per step (per row without recurrent layers). */
  get outputSize(): number {
    return this.head.units;
  }

  /** Values in one input row: sequenceLength x inputSize. */
  get inputWidth(): number {
    return this.sequenceLength * this.spec.inputSize;
  }

  /** Values in one output (and target) row: outputSteps x outputSize. */
  get outputWidth(): number {
    return this.outputSteps * this.head.units;
  }

  /** Every layer's tensors in a fixed order: the order of optimizer slots and of serialization. */
  parameters(): FloatArray[] {
    return this.layers.flatMap((l) => l.parameters.map((p) => p.value));
  }

  gradients(): FloatArray[] {
    return this.layers.flatMap((l) => l.parameters.map((p) => p.grad));
  }

  /**
   * Moves every tensor into `values` and every gradient into `grads` (float32, laid out in parameters() order,
   * values copied), so an optimizer that owns those arrays updates them where they are: no copies in and out per
   * step. False, and nothing moved, when the network is float64 or has a layer whose tensors cannot move.
   */
  relocateParameters(values: Float32Array, grads: Float32Array): boolean {
    const total = this.parameters().reduce((sum, p) => sum + p.length, 0);
    if (values.length !== total || grads.length !== total) throw invalid('relocateParameters', `arrays of ${total} floats`, values.length);
    if (this.Float !== Float32Array || !this.layers.every((l) => l.relocate)) return false;
    let at = 0;
    for (const layer of this.layers) {
      const ranges = layer.parameters.map((p) => [at, (at += p.value.length)] as const);
      layer.relocate!(
        ranges.map(([from, to]) => values.subarray(from, to)),
        ranges.map(([from, to]) => grads.subarray(from, to)),
      );
    }
    return true;
  }

  /** Draws every layer's weights from one seeded stream, layer by layer. */
  initialize(seed: number): void {
    const rng = new Rng(seed);
    for (const layer of this.layers) layer.initialize(rng);
  }

  /** Forward pass over rows samples; the returned view (rows x outputWidth) is overwritten by the next pass. */
  forward(x: FloatArray, rows: number): FloatArray {
    return this.head.forward(this.forwardBelowHead(x, rows), rows * this.outputSteps);
  }

  /** Runs every layer but the head and returns the head's input; `masks` switches dropout on (training). */
  private forwardBelowHead(x: FloatArray, rows: number, masks?: Rng): FloatArray {
    let a = x;
    for (let i = 0; i < this.layers.length - 1; i++) {
      const layer = this.layers[i];
      a = layer.forward(a, this.rowsOf(layer, rows), masks);
    }
    return a;
  }

  /**
   * The forward pass a loss needs: a fused loss reads the logits and computes the output activation itself, so
   * the head's activation is skipped (it would be computed twice); the other losses read the outputs.
   */
  private forwardForLoss(x: FloatArray, rows: number, masks?: Rng): FloatArray {
    const below = this.forwardBelowHead(x, rows, masks);
    const n = rows * this.outputSteps;
    return this.loss.wrt === 'z' ? this.head.forwardLogits(below, n) : this.head.forward(below, n);
  }

  /** Outputs for a batch of rows x inputWidth inputs, as a fresh array (rows x outputWidth). */
  predict(inputs: FloatArray, rows: number): FloatArray {
    checkBatch(inputs, rows, this.inputWidth, 'inputs');
    return this.Float.from(this.forward(inputs, rows));
  }

  /** Mean loss of a batch, without gradients; weighted by `weights` (one per row) when given. */
  evaluate(x: FloatArray, y: FloatArray, rows: number, weights: FloatArray | null = null): number {
    return this.computeLoss(this.forwardForLoss(x, rows), y, null, rows, weights);
  }

  /**
   * One forward pass, the loss, and one backward pass: fills every layer's gradients with the gradient of the
   * batch-mean loss and returns that loss. Nothing is updated here. bpttSteps truncates backpropagation through
   * time in recurrent layers. With `weights` (one per row), the loss is sum_r w_r · l_r / rows. With `masks`, dropout
   * layers draw their masks from it; without, they pass values through (the same masks twice: two Rngs in one state).
   */
  lossAndGradients(x: FloatArray, y: FloatArray, rows: number, bpttSteps?: number, weights: FloatArray | null = null, masks?: Rng): number {
    const input = this.forwardForLoss(x, rows, masks);
    const n = rows * this.outputSteps;
    const grad = this.outGradView(n * this.outputSize);
    const loss = this.computeLoss(input, y, grad, rows, weights);
    const hasBelow = this.layers.length > 1;
    // Fused losses hand over dL/dz; the others dL/da, which the head turns into dL/dz itself.
    let d = this.loss.wrt === 'z' ? this.head.backwardFromZ(grad, n, hasBelow) : this.head.backward(grad, n, hasBelow);
    // Chain rule from the output layer back to the first: each layer's dL/dx is dL/d(output) of the one below.
    for (let i = this.layers.length - 2; i >= 0; i--) {
      const layer = this.layers[i];
      d = layer.backward(d!, this.rowsOf(layer, rows), i > 0, bpttSteps);
    }
    return loss;
  }

  private computeLoss(input: FloatArray, y: FloatArray, grad: FloatArray | null, rows: number, weights: FloatArray | null): number {
    return this.loss.compute(input, y, grad, rows * this.outputSteps, this.outputSize, weights, this.outputSteps);
  }

  /** dL/d(output) of n values; the view is cached, since a fresh subarray per step is garbage per step. */
  private outGradView(n: number): FloatArray {
    if (this.outGrad.length !== n) {
      if (this.outGradBuf.length < n) this.outGradBuf = new this.Float(n);
      this.outGrad = this.outGradBuf.subarray(0, n);
    }
    return this.outGrad;
  }

  /** Recurrent layers see samples; dense and dropout layers one row per output step of each sample. */
  private rowsOf(layer: Layer, rows: number): number {
    return layer instanceof RecurrentLayer ? rows : rows * this.outputSteps;
  }

  private createLayer(spec: LayerSpec, inputs: number): Layer {
    if (spec.type === 'dense') return new DenseLayer(spec, inputs, this.Float);
    if (spec.type === 'dropout') return new DropoutLayer(spec, inputs, this.Float);
    const Recurrent = spec.type === 'lstm' ? LstmLayer : spec.type === 'gru' ? GruLayer : RnnLayer;
    return new Recurrent(spec, inputs, this.sequenceLength, this.Float);
  }
}

export function createNetwork(spec: ModelSpec, seed = 0, dtype: DType = 'float32'): Network {
  const network = new Network(spec, dtype);
  network.initialize(seed);
  return network;
}

/** Shape and finiteness of a row-major batch: NaN or Infinity would silently poison every weight. */
export function checkBatch(values: FloatArray, rows: number, width: number, field: string): void {
  if (!Number.isInteger(rows) || rows < 1) throw invalid(`${field}.rows`, 'an integer >= 1', rows);
  if (values.length !== rows * width) {
    throw invalid(field, `${rows} rows of ${width} values (${rows * width} numbers)`, `${values.length} numbers`);
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      const row = Math.floor(i / width);
      throw invalid(`${field}[${row}][${i - row * width}]`, 'a finite number', values[i]);
    }
  }
}
