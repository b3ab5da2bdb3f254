// A trained model in TensorFlow.js' layers format (model.json + one binary weights file), so it can be loaded
// with tf.loadLayersModel() in a browser or in Node. Keras and this engine store the same matrices the same way
// (kernel inputs x units, row-major; LSTM gates side by side in the order input, forget, cell, output, GRU gates in the
// order update, reset, candidate with one bias, reset_after false, the only form TensorFlow.js loads), so the
// weights are copied as they are; only the topology has to be written out. The model takes the encoded vector the
// network was trained on; userDefinedMetadata.encoding describes the fitted encoding exactly (every number of it, the
// input layout, what counts as missing), so a raw row can be encoded without this service (docs/tables-export.md).
import type { StoredPreprocessing } from '../contracts/preprocessing.js';
import { columnWidth, MISSING, OTHER, storedEncoding, type Encoding } from '../data/encoding.js';
import { deserializeModel, LEAKY_RELU_SLOPE, type ActivationName, type LayerSpec, type SerializedModel } from '../engine/index.js';

export const TFJS_WEIGHTS_PATH = 'weights.bin';

export interface TfjsExportMeta {
  /** Name of the Sequential model in the topology. */
  name?: string;
  /** Feature (input column) names, target names and class labels: kept in model.json's userDefinedMetadata. */
  features?: string[];
  targets?: string[];
  classes?: string[];
  /**
   * The model's stored preprocessing (with `features`, which names the columns of models from before the encoding):
   * described in userDefinedMetadata.encoding. The exported model takes the encoded vector, like the network.
   */
  preprocessing?: StoredPreprocessing;
  /** Where model.json's weightsManifest says the weights file is, relative to model.json. */
  weightsPath?: string;
}

/** One tensor in the weights file, in file order (tf.io.WeightsManifestEntry). */
export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

/** model.json of the layers format (tf.io.ModelJSON). */
export interface TfjsModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: { class_name: 'Sequential'; config: { name: string; layers: KerasLayer[] }; keras_version: string; backend: string };
  weightsManifest: { paths: string[]; weights: TfjsWeightSpec[] }[];
  userDefinedMetadata: Record<string, unknown>;
}

export interface TfjsLayersExport {
  modelJson: TfjsModelJson;
  /** The same list as modelJson.weightsManifest[0].weights, for tf.io.fromMemory(). */
  weightSpecs: TfjsWeightSpec[];
  /** The weights file: every tensor as little-endian float32, in weightSpecs order. */
  weightData: Uint8Array;
}

interface KerasLayer {
  class_name: 'Dense' | 'LeakyReLU' | 'SimpleRNN' | 'LSTM' | 'GRU' | 'Dropout';
  config: Record<string, unknown>;
}

/** Engine activation -> Keras activation name. leakyRelu has none: it becomes a separate LeakyReLU layer. */
const KERAS_ACTIVATIONS: Record<Exclude<ActivationName, 'leakyRelu'>, string> = {
  linear: 'linear',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  relu: 'relu',
  softmax: 'softmax',
};

const KERAS_CLASS = { dense: 'Dense', rnn: 'SimpleRNN', lstm: 'LSTM', gru: 'GRU', dropout: 'Dropout' } as const;
const KERAS_PREFIX = { dense: 'dense', rnn: 'simple_rnn', lstm: 'lstm', gru: 'gru', dropout: 'dropout' } as const;
/** Engine parameter name -> the weight's name in Keras. */
const KERAS_WEIGHT = { kernel: 'kernel', recurrentKernel: 'recurrent_kernel', bias: 'bias' } as const;

export class ExportError extends Error {
  override name = 'ExportError';
}

export function toTfjsLayers(model: SerializedModel, meta: TfjsExportMeta = {}): TfjsLayersExport {
  // Decoding through the engine validates the weights against the spec (count, lengths, base64).
  const network = deserializeModel(model);
  const { spec } = model;
  const encoding = meta.preprocessing ? encodingMetadata(meta.preprocessing, meta.features ?? [], spec.inputSize, spec.sequenceLength) : null;
  const layers: KerasLayer[] = [];
  const weightSpecs: TfjsWeightSpec[] = [];
  const tensors: Float32Array[] = [];

  spec.layers.forEach((layerSpec, i) => {
    const layer = network.layers[i];
    const name = `${KERAS_PREFIX[layerSpec.type]}_${i + 1}`;
    if (layerSpec.type === 'dropout') {
      // The identity at predict, as in the engine; kept so the model trains on in TensorFlow.js as it did here.
      layers.push({ class_name: 'Dropout', config: { name, trainable: true, dtype: 'float32', rate: layerSpec.rate } });
      return;
    }
    const activation = layerSpec.activation ?? 'tanh';
    if (layerSpec.type !== 'dense' && activation === 'leakyRelu') {
      throw new ExportError(`layer ${i} (${layerSpec.type}): TensorFlow.js has no leakyRelu activation for recurrent layers; it cannot be exported`);
    }
    const config: Record<string, unknown> = {
      name,
      trainable: true,
      dtype: 'float32',
      units: layerSpec.units,
      activation: activation === 'leakyRelu' ? 'linear' : KERAS_ACTIVATIONS[activation],
      use_bias: true,
      ...recurrentConfig(layerSpec),
    };
    if (i === 0) config.batch_input_shape = spec.sequenceLength ? [null, spec.sequenceLength, spec.inputSize] : [null, spec.inputSize];
    layers.push({ class_name: KERAS_CLASS[layerSpec.type], config });
    if (activation === 'leakyRelu') {
      layers.push({ class_name: 'LeakyReLU', config: { name: `leaky_re_lu_${i + 1}`, trainable: true, dtype: 'float32', alpha: LEAKY_RELU_SLOPE } });
    }

    const width = layer.bias.length;
    for (const p of layer.parameters) {
      const rows = p.name === 'kernel' ? layer.kernel.length / width : p.name === 'recurrentKernel' ? layerSpec.units : null;
      weightSpecs.push({ name: `${name}/${KERAS_WEIGHT[p.name]}`, shape: rows === null ? [width] : [rows, width], dtype: 'float32' });
      tensors.push(Float32Array.from(p.value));
    }
  });

  const modelJson: TfjsModelJson = {
    format: 'layers-model',
    generatedBy: 'backprop-service',
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: { name: meta.name ?? 'sequential', layers },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [{ paths: [meta.weightsPath ?? TFJS_WEIGHTS_PATH], weights: weightSpecs }],
    userDefinedMetadata: {
      loss: spec.loss,
      ...(meta.features ? { features: meta.features } : {}),
      ...(meta.targets ? { targets: meta.targets } : {}),
      ...(meta.classes ? { classes: meta.classes } : {}),
      ...(encoding ? { encoding } : {}),
    },
  };
  return { modelJson, weightSpecs, weightData: concatLittleEndian(tensors) };
}

function recurrentConfig(spec: LayerSpec): Record<string, unknown> {
  if (spec.type === 'dense' || spec.type === 'dropout') return {};
  const shared = { return_sequences: spec.returnSequences ?? false, return_state: false, go_backwards: false, stateful: false, unroll: false };
  // TensorFlow.js defaults the LSTM's gates to hardSigmoid; the engine's gates are sigmoid.
  if (spec.type === 'lstm') return { ...shared, recurrent_activation: 'sigmoid', unit_forget_bias: true, implementation: 1 };
  return spec.type === 'gru' ? { ...shared, recurrent_activation: 'sigmoid', reset_after: false, implementation: 1 } : shared;
}

/** One feature column in userDefinedMetadata.encoding: where its inputs are in the vector and how they are computed. */
type ColumnMetadata =
  | { name: string; type: 'numeric' | 'boolean'; offset: number; width: number; fill: number; indicator: boolean; center: number; scale: number }
  | { name: string; type: 'categorical'; offset: number; width: number; categories: string[]; otherSlot: number; missingSlot: number };

/** userDefinedMetadata.encoding: the fitted encoding, laid out so a raw row can be encoded from it alone. */
export interface EncodingMetadata {
  howTo: string[];
  /** Inputs per row (per step for sequence models): the length of the vector the model takes. */
  width: number;
  sequenceLength?: number;
  /** Text that means missing (trimmed, lower-cased), besides null and an absent key. */
  missingText: string[];
  columns: ColumnMetadata[];
  inputs: string[];
  ignored: string[];
  target?: Encoding['target'];
}

/** src/data/cells.ts isMissing(): the tokens it treats as no value (test/export/tfjs-layers.test.ts holds them to it). */
const MISSING_TEXT = ['', 'na', 'n/a', 'nan', 'null', '?'];

const HOW_TO = [
  'A value is missing when its key is absent, it is null, or it is text whose trimmed, lower-cased form is in missingText.',
  'Start from a vector of `width` zeros; each feature column writes its `width` inputs from `offset` on.',
  'numeric and boolean: v = the value (numeric: rounded to float32, Math.fround, as datasets store it; boolean: true, 1 ' +
    'or the text true/yes in any case -> 1; false, 0 or false/no -> 0), or `fill` when missing; ' +
    'input[offset] = (v - center) / scale; when `indicator`, input[offset + 1] = 1 if missing, else 0.',
  'categorical: one-hot on the value as a label: a number (or text that reads as one) as the shortest decimal that reads ' +
    'back as the same float32 (4.0 -> "4"), other text trimmed, a boolean as "true"/"false". ' +
    `input[offset + i] = 1 when the label is categories[i]; input[offset + otherSlot] = 1 ("${OTHER}") for any other ` +
    `label; input[offset + missingSlot] = 1 ("${MISSING}") when missing.`,
  'Sequence models (sequenceLength): every step is encoded like a row; the model takes [sequences, sequenceLength, width].',
  'Classification: the outputs are the probabilities of `classes`, in order. Regression with `target`: ' +
    'prediction[k] = output[k] * target.scale[k] + target.center[k]; without it the outputs are the predictions.',
];

/**
 * The stored preprocessing as the metadata that travels with the exported model. Models from before the encoding
 * become numeric columns without imputation, centred on their mean and scaled by their std when they were
 * standardized: the same vector the network was trained on.
 */
function encodingMetadata(p: StoredPreprocessing, features: readonly string[], inputSize: number, sequenceLength?: number): EncodingMetadata {
  if (!p.columns && features.length !== inputSize) throw new ExportError(`features: expected ${inputSize} names (one per input), got ${features.length}`);
  const encoding = storedEncoding(p, features);
  if (!encoding) throw new ExportError('preprocessing: the encoding has not been fitted');
  if (encoding.inputs.length !== inputSize) {
    throw new ExportError(`preprocessing: the columns encode to ${encoding.inputs.length} inputs, but the network takes ${inputSize}`);
  }
  let offset = 0;
  const columns = encoding.columns.map((column): ColumnMetadata => {
    const width = columnWidth(column);
    const at = offset;
    offset += width;
    if (column.type !== 'categorical') {
      const { name, type, fill, indicator, center, scale } = column;
      return { name, type, offset: at, width, fill, indicator, center, scale };
    }
    const other = column.categories.length;
    return { name: column.name, type: 'categorical', offset: at, width, categories: column.categories, otherSlot: other, missingSlot: other + 1 };
  });
  return {
    howTo: HOW_TO,
    width: encoding.inputs.length,
    ...(sequenceLength ? { sequenceLength } : {}),
    missingText: MISSING_TEXT,
    columns,
    inputs: encoding.inputs,
    ignored: p.ignored ?? [],
    ...(encoding.target ? { target: encoding.target } : {}),
  };
}

function concatLittleEndian(tensors: Float32Array[]): Uint8Array {
  const out = new Uint8Array(tensors.reduce((n, t) => n + t.length, 0) * 4);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const t of tensors) {
    for (let i = 0; i < t.length; i++, offset += 4) view.setFloat32(offset, t[i], true);
  }
  return out;
}
