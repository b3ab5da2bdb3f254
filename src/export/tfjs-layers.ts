// A trained model in TensorFlow.js' layers format (model.json + one binary weights file), so it can be loaded
// with tf.loadLayersModel() in a browser or in Node. Keras and this engine store the same matrices the same way
// (kernel inputs x units, row-major; LSTM gates side by side in the order input, forget, cell, output), so the
// weights are copied as they are; only the topology has to be written out.
import type { StoredPreprocessing } from '../contracts/preprocessing.js';
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
   * The model's stored preprocessing. Standardization is folded into the first layer's input weights
   * (W' = W / std, b' = b - (mean / std)·W), so the exported model takes raw feature values, as POST predict does.
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
  class_name: 'Dense' | 'LeakyReLU' | 'SimpleRNN' | 'LSTM';
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

const KERAS_CLASS = { dense: 'Dense', rnn: 'SimpleRNN', lstm: 'LSTM' } as const;
const KERAS_PREFIX = { dense: 'dense', rnn: 'simple_rnn', lstm: 'lstm' } as const;
/** Engine parameter name -> the weight's name in Keras. */
const KERAS_WEIGHT = { kernel: 'kernel', recurrentKernel: 'recurrent_kernel', bias: 'bias' } as const;

export class ExportError extends Error {
  override name = 'ExportError';
}

export function toTfjsLayers(model: SerializedModel, meta: TfjsExportMeta = {}): TfjsLayersExport {
  // Decoding through the engine validates the weights against the spec (count, lengths, base64).
  const network = deserializeModel(model);
  const { spec } = model;
  const layers: KerasLayer[] = [];
  const weightSpecs: TfjsWeightSpec[] = [];
  const tensors: Float32Array[] = [];

  spec.layers.forEach((layerSpec, i) => {
    const layer = network.layers[i];
    const name = `${KERAS_PREFIX[layerSpec.type]}_${i + 1}`;
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
    let values: Record<string, Float64Array> = Object.fromEntries(layer.parameters.map((p) => [p.name, Float64Array.from(p.value)]));
    if (i === 0 && meta.preprocessing?.standardize) values = foldStandardization(values, meta.preprocessing, spec.inputSize, width);
    for (const p of layer.parameters) {
      const rows = p.name === 'kernel' ? layer.kernel.length / width : p.name === 'recurrentKernel' ? layerSpec.units : null;
      weightSpecs.push({ name: `${name}/${KERAS_WEIGHT[p.name]}`, shape: rows === null ? [width] : [rows, width], dtype: 'float32' });
      tensors.push(Float32Array.from(values[p.name]));
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
      // Standardization now lives in the first layer; say so, so nobody applies it twice.
      ...(meta.preprocessing?.standardize ? { preprocessing: 'standardization folded into the first layer: inputs are raw feature values' } : {}),
    },
  };
  return { modelJson, weightSpecs, weightData: concatLittleEndian(tensors) };
}

function recurrentConfig(spec: LayerSpec): Record<string, unknown> {
  if (spec.type === 'dense') return {};
  const shared = { return_sequences: spec.returnSequences ?? false, return_state: false, go_backwards: false, stateful: false, unroll: false };
  // TensorFlow.js defaults the LSTM's gates to hardSigmoid; the engine's gates are sigmoid.
  return spec.type === 'lstm' ? { ...shared, recurrent_activation: 'sigmoid', unit_forget_bias: true, implementation: 1 } : shared;
}

/**
 * ((x - mean) / std)·W + b = x·(W / std) + (b - (mean / std)·W): row c of the input kernel is divided by std[c], and
 * the bias absorbs the shift. Computed in float64 before the cast to float32. A recurrent first layer sees the same
 * features at every step, so its input kernel folds the same way; its recurrent kernel is untouched.
 */
function foldStandardization(
  values: Record<string, Float64Array>,
  p: StoredPreprocessing,
  inputs: number,
  width: number,
): Record<string, Float64Array> {
  const { mean, std } = p;
  if (!mean || !std || mean.length !== inputs || std.length !== inputs) {
    throw new ExportError(`preprocessing: expected mean and std of ${inputs} values (one per input feature)`);
  }
  const kernel = values.kernel.slice();
  const bias = values.bias.slice();
  for (let c = 0; c < inputs; c++) {
    for (let j = 0; j < width; j++) {
      kernel[c * width + j] /= std[c];
      bias[j] -= mean[c] * kernel[c * width + j];
    }
  }
  return { ...values, kernel, bias };
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
