// The service's own export: everything POST /v1/models/:id/predict uses, as one JSON document. The engine part
// (dtype, spec, weights) is a SerializedModel, so fromModelJson() + deserializeModel() rebuilds the network bit for bit.
import type { StoredPreprocessing } from '../contracts/preprocessing.js';
import { deserializeModel, type SerializedModel } from '../engine/index.js';

export const MODEL_JSON_FORMAT = 'backprop-service/model@1';

export interface ModelJsonMeta {
  features: string[];
  targets: string[];
  classes?: string[];
  preprocessing: StoredPreprocessing;
}

export interface ModelJsonExport extends ModelJsonMeta {
  format: typeof MODEL_JSON_FORMAT;
  /** Element type of the base64 weight arrays (little-endian). */
  dtype: SerializedModel['dtype'];
  spec: SerializedModel['spec'];
  /** Per layer: base64 kernel (inputs x units, row-major), recurrentKernel for recurrent layers, bias. */
  weights: SerializedModel['weights'];
}

export function toModelJson(model: SerializedModel, meta: ModelJsonMeta): ModelJsonExport {
  deserializeModel(model); // refuses weights that do not fit the spec before they are handed out
  return {
    format: MODEL_JSON_FORMAT,
    dtype: model.dtype,
    spec: model.spec,
    weights: model.weights,
    features: meta.features,
    targets: meta.targets,
    ...(meta.classes ? { classes: meta.classes } : {}),
    preprocessing: meta.preprocessing,
  };
}

/** The engine's SerializedModel inside an export, for deserializeModel(). */
export function fromModelJson(exported: ModelJsonExport): SerializedModel {
  if (exported?.format !== MODEL_JSON_FORMAT) throw new Error(`format: expected "${MODEL_JSON_FORMAT}"`);
  return { format: 'backprop-engine/model@1', dtype: exported.dtype, spec: exported.spec, weights: exported.weights };
}
