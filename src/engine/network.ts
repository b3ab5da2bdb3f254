import { getActivation } from './activations.js';
import { DenseLayer } from './dense-layer.js';
import { invalid } from './errors.js';
import { defaultInitializer, initializers } from './initializers.js';
import { checkLossOutput, getLoss, type Loss } from './losses.js';
import { Rng } from './rng.js';
import type { DType, FloatArray, FloatArrayConstructor, ModelSpec } from './types.js';

/** Chosen so that no layer's buffers exceed a few hundred MB even at the largest sizes we accept. */
export const MAX_UNITS = 1 << 20;

/** A stack of dense layers and its loss: forward, loss, and one backward sweep from output to input. */
export class Network {
  readonly layers: DenseLayer[];
  readonly loss: Loss;
  readonly Float: FloatArrayConstructor;
  private outGrad: FloatArray;

  constructor(
    readonly spec: ModelSpec,
    readonly dtype: DType = 'float32',
  ) {
    validateSpec(spec);
    this.Float = dtype === 'float64' ? Float64Array : Float32Array;
    let width = spec.inputSize;
    this.layers = spec.layers.map((layerSpec) => {
      const layer = new DenseLayer(layerSpec, width, this.Float);
      width = layerSpec.units;
      return layer;
    });
    this.loss = getLoss(spec.loss);
    this.outGrad = new this.Float(0);
  }

  get inputSize(): number {
    return this.spec.inputSize;
  }

  get outputSize(): number {
    return this.layers[this.layers.length - 1].units;
  }

  /** Kernels and biases in a fixed order: the order of optimizer slots and of serialization. */
  parameters(): FloatArray[] {
    return this.layers.flatMap((l) => [l.kernel, l.bias]);
  }

  gradients(): FloatArray[] {
    return this.layers.flatMap((l) => [l.kernelGrad, l.biasGrad]);
  }

  /** Draws every kernel from its initializer; biases start at zero. */
  initialize(seed: number): void {
    const rng = new Rng(seed);
    for (const layer of this.layers) {
      const name = layer.spec.kernelInitializer ?? defaultInitializer(layer.spec.activation);
      initializers[name](layer.kernel, layer.inputs, layer.units, rng);
      layer.bias.fill(0);
    }
  }

  /** Forward pass; the returned view is overwritten by the next pass. */
  forward(x: FloatArray, rows: number): FloatArray {
    let a = x;
    for (const layer of this.layers) a = layer.forward(a, rows);
    return a;
  }

  /** Outputs for a batch of rows x inputSize inputs, as a fresh array (rows x outputSize). */
  predict(inputs: FloatArray, rows: number): FloatArray {
    checkBatch(inputs, rows, this.inputSize, 'inputs');
    return this.Float.from(this.forward(inputs, rows));
  }

  /** Mean loss of a batch, without gradients. */
  evaluate(x: FloatArray, y: FloatArray, rows: number): number {
    this.forward(x, rows);
    const last = this.layers[this.layers.length - 1];
    const input = this.loss.wrt === 'z' ? last.z(rows) : last.output(rows);
    return this.loss.compute(input, y, null, rows, this.outputSize);
  }

  /**
   * One forward pass, the loss, and one backward pass: fills every layer's kernelGrad and biasGrad with
   * the gradient of the batch-mean loss and returns that loss. Nothing is updated here.
   */
  lossAndGradients(x: FloatArray, y: FloatArray, rows: number): number {
    this.forward(x, rows);
    const out = this.outputSize;
    if (this.outGrad.length < rows * out) this.outGrad = new this.Float(rows * out);
    const grad = this.outGrad.subarray(0, rows * out);
    const last = this.layers[this.layers.length - 1];
    let loss: number;
    if (this.loss.wrt === 'z') {
      loss = this.loss.compute(last.z(rows), y, grad, rows, out);
    } else {
      loss = this.loss.compute(last.output(rows), y, grad, rows, out);
      last.activation.backward(last.output(rows), grad, rows, out);
    }
    // Chain rule from the output layer back to the first: each layer's dL/dx is the error of the one below.
    let dz: FloatArray = grad;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const dx = this.layers[i].backward(dz, rows, i > 0);
      if (i > 0) {
        const below = this.layers[i - 1];
        below.activation.backward(below.output(rows), dx!, rows, below.units);
        dz = dx!;
      }
    }
    return loss;
  }
}

export function createNetwork(spec: ModelSpec, seed = 0, dtype: DType = 'float32'): Network {
  const network = new Network(spec, dtype);
  network.initialize(seed);
  return network;
}

function validateSpec(spec: ModelSpec): void {
  if (spec === null || typeof spec !== 'object') throw invalid('model', 'an object with inputSize, layers and loss');
  if (!isCount(spec.inputSize, MAX_UNITS)) throw invalid('inputSize', `an integer between 1 and ${MAX_UNITS}`, spec.inputSize);
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) throw invalid('layers', 'a non-empty array of layers');
  spec.layers.forEach((layer, i) => {
    const field = `layers[${i}]`;
    if (layer === null || typeof layer !== 'object') throw invalid(field, 'a layer object');
    if (layer.type !== 'dense') throw invalid(`${field}.type`, '"dense"', layer.type);
    if (!isCount(layer.units, MAX_UNITS)) throw invalid(`${field}.units`, `an integer between 1 and ${MAX_UNITS}`, layer.units);
    if (layer.kernelInitializer !== undefined && !Object.hasOwn(initializers, layer.kernelInitializer)) {
      throw invalid(`${field}.kernelInitializer`, `one of ${Object.keys(initializers).join(', ')}`, layer.kernelInitializer);
    }
  });
  getLoss(spec.loss);
  spec.layers.forEach((layer, i) => {
    if (i < spec.layers.length - 1) getActivation(layer.activation, `layers[${i}].activation`);
  });
  const last = spec.layers.length - 1;
  checkLossOutput(spec.loss, spec.layers[last].activation, `layers[${last}].activation`);
}

function isCount(value: unknown, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max;
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
