import { decodeArray, encodeArray } from './base64.js';
import { invalid } from './errors.js';
import { Network } from './network.js';
import type { FloatArray, SerializedModel } from './types.js';

const FORMAT = 'backprop-engine/model@1';

/** The spec and every weight, bit for bit (base64 of the network's own element type). */
export function serializeModel(network: Network): SerializedModel {
  return {
    format: FORMAT,
    dtype: network.dtype,
    spec: structuredClone(network.spec),
    weights: network.layers.map((l) => ({ kernel: encodeArray(l.kernel), bias: encodeArray(l.bias) })),
  };
}

export function deserializeModel(model: SerializedModel): Network {
  if (model === null || typeof model !== 'object' || model.format !== FORMAT) throw invalid('model.format', `"${FORMAT}"`);
  if (model.dtype !== 'float32' && model.dtype !== 'float64') throw invalid('model.dtype', '"float32" or "float64"', model.dtype);
  const network = new Network(model.spec, model.dtype);
  if (!Array.isArray(model.weights) || model.weights.length !== network.layers.length) {
    throw invalid('model.weights', `${network.layers.length} entries, one per layer`);
  }
  network.layers.forEach((layer, i) => {
    const w = model.weights[i];
    layer.kernel.set(decodeArray(w.kernel, model.dtype, layer.kernel.length, `model.weights[${i}].kernel`));
    layer.bias.set(decodeArray(w.bias, model.dtype, layer.bias.length, `model.weights[${i}].bias`));
  });
  return network;
}

/** Copies every parameter of a network (early stopping keeps the best ones this way). */
export function snapshotParameters(network: Network): FloatArray[] {
  return network.parameters().map((p) => p.slice());
}

export function restoreParameters(network: Network, snapshot: FloatArray[]): void {
  network.parameters().forEach((p, i) => p.set(snapshot[i]));
}
