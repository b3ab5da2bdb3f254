// POST /v1/models/:id/evaluate: a stored dataset encoded with the model's own preprocessing (never refitted), its
// targets put in the model's order, and the model judged on every row (src/evaluation/judge.ts).
import type { Evaluation } from '../contracts/evaluation.js';
import type { EvaluationContext } from '../contracts/job-data.js';
import { DatasetError, listNames } from '../data/dataset-error.js';
import { encodeStored } from '../data/encode-inputs.js';
import type { TrainingData } from '../db/datasets.js';
import { judge } from '../evaluation/judge.js';
import type { LoadedModel } from './model-cache.js';


export function evaluateOnDataset({ model, network, encoder }: LoadedModel, data: TrainingData): Evaluation {
  const steps = data.sequenceLength ?? 1;
  if (network.recurrent !== (data.sequenceLength !== undefined) || network.sequenceLength !== steps) {
    const wanted = network.recurrent ? `sequences of ${network.sequenceLength} steps` : 'rows (a tabular dataset)';
    const got = data.sequenceLength === undefined ? 'a tabular dataset' : `sequences of ${data.sequenceLength} steps`;
    throw new DatasetError(`datasetId: the model reads ${wanted}, the dataset holds ${got}`, { field: 'datasetId' });
  }
  const encoding = encoder.encoding;
  const { inputs, unseen } = encodeStored(encoding, { columns: data.columns, values: data.inputs, steps });
  const { targets, context } = model.classes ? classTargets(model.classes, data) : regressionTargets(model.targets, data, encoding.target);
  const evaluation = judge(network, { inputs, targets }, context, null, 'dataset');
  if (!evaluation) throw new DatasetError('datasetId: the dataset has no rows to evaluate on', { field: 'datasetId' });
  return unseen.length ? { ...evaluation, unseenCategories: unseen } : evaluation;
}

/** The dataset's one-hot targets re-ordered into the model's classes; a class the model does not know is refused. */
function classTargets(classes: string[], data: TrainingData): { targets: Float32Array; context: EvaluationContext } {
  if (!data.classes) {
    throw new DatasetError(`datasetId: the model predicts the classes of "${data.targets[0] ?? 'its target'}", but the dataset's target is numeric`, { field: 'datasetId' });
  }
  const index = new Map(classes.map((c, i) => [c, i]));
  const unknown = data.classes.filter((c) => !index.has(c));
  if (unknown.length) {
    throw new DatasetError(`datasetId: the dataset has classes the model does not know: ${listNames(unknown)} (the model's: ${listNames(classes)})`, {
      field: 'datasetId',
    });
  }
  const k = classes.length;
  const from = data.classes.length;
  const targets = new Float32Array(data.rows * k);
  for (let r = 0; r < data.rows; r++) {
    for (let j = 0; j < from; j++) if (data.outputs[r * from + j] === 1) targets[r * k + index.get(data.classes[j])!] = 1;
  }
  return { targets, context: { kind: 'classification', labels: classes } };
}

/** The model's target columns from the dataset, scaled as the model was trained (the judge turns them back). */
function regressionTargets(names: string[], data: TrainingData, scale?: { center: number[]; scale: number[] }): { targets: Float32Array; context: EvaluationContext } {
  if (data.classes) throw new DatasetError('datasetId: the model predicts numbers, but the dataset\'s target holds classes', { field: 'datasetId' });
  const missing = names.filter((n) => !data.targets.includes(n));
  if (missing.length) {
    throw new DatasetError(`datasetId: the dataset has no target ${listNames(missing)} (its targets: ${listNames(data.targets)})`, { field: 'datasetId' });
  }
  const from = data.targets.length;
  const width = names.length;
  const source = names.map((n) => data.targets.indexOf(n));
  const values = data.outputs.length / from;
  const targets = new Float32Array(values * width);
  for (let i = 0; i < values; i++) {
    for (let k = 0; k < width; k++) {
      const v = data.outputs[i * from + source[k]];
      targets[i * width + k] = scale ? (v - scale.center[k]) / scale.scale[k] : v;
    }
  }
  return { targets, context: { kind: 'regression', names, ...(scale ? { scale } : {}) } };
}
