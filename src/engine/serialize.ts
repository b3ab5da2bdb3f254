import { decodeArray, encodeArray } from './base64.js';
import { invalid } from './errors.js';
import { Network } from './network.js';
import type { FloatArray, SerializedModel, SerializedWeights } from './types.js';

const FORMAT = 'backprop-engine/model@1';

/** The spec and every weight, bit for bit (base64 of the network's own element type). */
export function serializeModel(network: Network): SerializedModel {
  return {
    format: FORMAT,
    dtype: network.dtype,
    spec: structuredClone(network.spec),
    // Dense layers give { kernel, bias }; recurrent ones { kernel, recurrentKernel, bias }.
    weights: network.layers.map(
      (l) => Object.fromEntries(l.parameters.map((p) => [p.name, encodeArray(p.value)])) as unknown as SerializedWeights,
    ),
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
    if (w === null || typeof w !== 'object') throw invalid(`model.weights[${i}]`, `an object with ${layer.parameters.map((p) => p.name).join(', ')}`);
    for (const p of layer.parameters) {
      p.value.set(decodeArray(w[p.name] as string, model.dtype, p.value.length, `model.weights[${i}].${p.name}`));
    }
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
