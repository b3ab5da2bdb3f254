import { getActivation } from './activations.js';
import { invalid } from './errors.js';
import { initializers } from './initializers.js';
import { checkLossOutput, getLoss } from './losses.js';
import type { DenseLayerSpec, DropoutLayerSpec, LayerSpec, ModelSpec, RecurrentLayerSpec, WeightedLayerSpec } from './types.js';

/** Chosen so that no layer's buffers exceed a few hundred MB even at the largest sizes we accept. */
export const MAX_UNITS = 1 << 20;

const LAYER_TYPES = ['dense', 'rnn', 'lstm', 'gru', 'dropout'];

export function isRecurrent(layer: LayerSpec): layer is RecurrentLayerSpec {
  return layer.type === 'rnn' || layer.type === 'lstm' || layer.type === 'gru';
}

/** Every rule a ModelSpec must meet, failing with an EngineError that names the field and the expectation. */
export function validateSpec(spec: ModelSpec): void {
  if (spec === null || typeof spec !== 'object') throw invalid('model', 'an object with inputSize, layers and loss');
  if (!isCount(spec.inputSize, MAX_UNITS)) throw invalid('inputSize', `an integer between 1 and ${MAX_UNITS}`, spec.inputSize);
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) throw invalid('layers', 'a non-empty array of layers');
  spec.layers.forEach((layer, i) => {
    const field = `layers[${i}]`;
    if (layer === null || typeof layer !== 'object') throw invalid(field, 'a layer object');
    if (!LAYER_TYPES.includes(layer.type)) throw invalid(`${field}.type`, `one of ${LAYER_TYPES.map((t) => `"${t}"`).join(', ')}`, layer.type);
    if (layer.type === 'dropout') {
      validateDropout(spec, i);
      return;
    }
    if (!isCount(layer.units, MAX_UNITS)) throw invalid(`${field}.units`, `an integer between 1 and ${MAX_UNITS}`, layer.units);
    if (layer.type === 'dense' && layer.kernelInitializer !== undefined && !Object.hasOwn(initializers, layer.kernelInitializer)) {
      throw invalid(`${field}.kernelInitializer`, `one of ${Object.keys(initializers).join(', ')}`, layer.kernelInitializer);
    }
  });
  validateRecurrence(spec);
  getLoss(spec.loss);
  spec.layers.forEach((layer, i) => {
    if (layer.type === 'dense' && i < spec.layers.length - 1) getActivation(layer.activation, `layers[${i}].activation`);
  });
  const last = spec.layers.length - 1;
  checkLossOutput(spec.loss, (spec.layers[last] as DenseLayerSpec).activation, `layers[${last}].activation`);
}

/** Units of the last layer with weights: the model's outputs per step (a valid spec ends with a dense layer). */
export function outputUnits(layers: readonly LayerSpec[]): number {
  const last = layers.findLast((l) => l.type !== 'dropout') as WeightedLayerSpec | undefined;
  return last?.units ?? 0;
}

/** A dropout layer has a rate in [0, 1) and stands between a layer with weights and a dense layer. */
function validateDropout(spec: ModelSpec, i: number): void {
  const field = `layers[${i}]`;
  const { rate } = spec.layers[i] as DropoutLayerSpec;
  if (!(typeof rate === 'number' && rate >= 0 && rate < 1)) throw invalid(`${field}.rate`, 'a number in [0, 1)', rate);
  if (i === 0 || spec.layers[i - 1].type === 'dropout') {
    throw invalid(`${field}.type`, 'a layer with weights: dropout follows a dense or recurrent layer', 'dropout');
  }
  const next = spec.layers[i + 1];
  if (next !== undefined && next.type !== 'dense') {
    throw invalid(`layers[${i + 1}].type`, '"dense": a dropout layer feeds a dense layer', next.type);
  }
}

/** Recurrent layers: where they may stand, what they need from the spec. */
function validateRecurrence(spec: ModelSpec): void {
  const layers = spec.layers;
  const firstDense = layers.findIndex((l) => l.type === 'dense');
  const last = layers.length - 1;
  if (layers[last].type !== 'dense') {
    throw invalid(`layers[${last}].type`, '"dense": a network ends in a dense output layer (recurrent layers feed dense ones)', layers[last].type);
  }
  layers.forEach((layer, i) => {
    if (!isRecurrent(layer)) return;
    const field = `layers[${i}]`;
    if (i > firstDense) throw invalid(`${field}.type`, '"dense": recurrent layers (rnn, lstm, gru) come before every dense layer', layer.type);
    if (layer.activation !== undefined) {
      getActivation(layer.activation, `${field}.activation`);
      if (layer.activation === 'softmax') throw invalid(`${field}.activation`, 'an elementwise activation (not softmax) in a recurrent layer', layer.activation);
    }
    if (layer.returnSequences !== undefined && typeof layer.returnSequences !== 'boolean') {
      throw invalid(`${field}.returnSequences`, 'a boolean', layer.returnSequences);
    }
    const next = layers[i + 1];
    if (isRecurrent(next) && !layer.returnSequences) {
      throw invalid(`${field}.returnSequences`, `true: layers[${i + 1}] is a recurrent layer and reads the whole sequence`, layer.returnSequences ?? false);
    }
  });
  const maxSteps = Math.floor(MAX_UNITS / spec.inputSize);
  if (firstDense > 0) {
    if (!isCount(spec.sequenceLength, maxSteps)) {
      throw invalid('sequenceLength', `an integer between 1 and ${maxSteps} (steps per sequence; required with recurrent layers)`, spec.sequenceLength);
    }
  } else if (spec.sequenceLength !== undefined) {
    throw invalid('sequenceLength', 'no value: only models with recurrent layers (rnn, lstm, gru) read sequences', spec.sequenceLength);
  }
}

function isCount(value: unknown, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max;
}
