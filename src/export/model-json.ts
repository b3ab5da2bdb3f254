// The service's own export: everything POST /v1/models/:id/predict uses, as one JSON document. The engine part
// (dtype, spec, weights) is a SerializedModel, so fromModelJson() + deserializeModel() rebuilds the network bit for bit;
// the preprocessing is the fitted encoding as stored (src/data/encoding.ts), so an import encodes rows the same way.
import type { Evaluation } from '../contracts/evaluation.js';
import type { StoredPreprocessing } from '../contracts/preprocessing.js';
import { storedEncoding } from '../data/encoding.js';
import { deserializeModel, type SerializedModel } from '../engine/index.js';

export const MODEL_JSON_FORMAT = 'backprop-service/model@1';

export interface ModelJsonMeta {
  features: string[];
  targets: string[];
  classes?: string[];
  preprocessing: StoredPreprocessing;
  /** How the model was judged on its job's validation split; informational, an import does not keep it. */
  evaluation?: Evaluation | null;
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
    preprocessing: exportedPreprocessing(meta.preprocessing, meta.features),
    ...(meta.evaluation !== undefined ? { evaluation: meta.evaluation } : {}),
  };
}

/**
 * The fitted form with exactly the fields an import accepts (input names as the columns encode to, `ignored` always
 * present), or the older form ({ standardize, mean, std }) as it is.
 */
function exportedPreprocessing(p: StoredPreprocessing, features: readonly string[]): StoredPreprocessing {
  if (!p.columns) return { standardize: p.standardize, ...(p.mean ? { mean: p.mean } : {}), ...(p.std ? { std: p.std } : {}) };
  const encoding = storedEncoding(p, features)!;
  return {
    standardize: p.standardize,
    ...(p.impute !== undefined ? { impute: p.impute } : {}),
    ...(p.maxCategories !== undefined ? { maxCategories: p.maxCategories } : {}),
    ...(p.standardizeTargets !== undefined ? { standardizeTargets: p.standardizeTargets } : {}),
    columns: encoding.columns,
    inputs: encoding.inputs,
    ignored: p.ignored ?? [],
    ...(encoding.target ? { target: encoding.target } : {}),
  };
}

/** The engine's SerializedModel inside an export, for deserializeModel(). */
export function fromModelJson(exported: Pick<ModelJsonExport, 'format' | 'dtype' | 'spec' | 'weights'>): SerializedModel {
  if (exported?.format !== MODEL_JSON_FORMAT) throw new Error(`format: expected "${MODEL_JSON_FORMAT}"`);
  return { format: 'backprop-engine/model@1', dtype: exported.dtype, spec: exported.spec, weights: exported.weights };
}
