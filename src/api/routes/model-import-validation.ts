// What POST /v1/models checks beyond the zod schema: the parts of the document must agree with each other, the
// model must fit MODEL_MAX_PARAMETERS (counted before anything is allocated), and the engine must accept the spec
// and the weights. Failures are 422 naming the field of the body.
import type { ImportModelBody } from '../../contracts/model-export.js';
import { isMissing, labelOf } from '../../data/cells.js';
import { columnWidth, encodingOf } from '../../data/encoding.js';
import { fromModelJson } from '../../export/model-json.js';
import { EngineError, deserializeModel, outputUnits, type Network } from '../../engine/index.js';
import { Errors } from '../errors.js';
import { countParameters } from './job-validation.js';

const mismatch = (field: string, message: string) => Errors.UNPROCESSABLE(`${field}: ${message}`, { field });

const quoted = (names: readonly string[]) => names.map((n) => JSON.stringify(n)).join(', ');

/** Engine fields are relative to the spec ("layers[1].units") or to the serialized model ("model.weights[0].bias"). */
function engineField(field: string): string {
  return field.startsWith('model.') ? `body.${field.slice('model.'.length)}` : `body.spec.${field}`;
}

export function checkImport(body: ImportModelBody, maxParameters: number): Network {
  const { spec, targets, classes } = body;
  if (body.preprocessing.columns) checkEncoding(body);
  else checkOlderPreprocessing(body);
  const units = outputUnits(spec.layers);
  const outputs = classes ? { field: 'body.classes', count: classes.length, what: 'class labels' } : { field: 'body.targets', count: targets.length, what: 'target names' };
  if (outputs.count !== units) {
    throw mismatch(outputs.field, `expected ${units} ${outputs.what} (the units of the last layer), got ${outputs.count}`);
  }
  if (classes && targets.length !== 1) throw mismatch('body.targets', `expected the one target column the classes belong to, got ${targets.length}`);
  const parameters = countParameters(spec);
  if (parameters > maxParameters) {
    throw Errors.MODEL_TOO_LARGE(`body.spec: ${parameters} weights and biases, more than the ${maxParameters} allowed (MODEL_MAX_PARAMETERS)`, {
      field: 'body.spec',
      parameters,
      limit: maxParameters,
    });
  }
  try {
    return deserializeModel(fromModelJson(body));
  } catch (err) {
    if (!(err instanceof EngineError)) throw err;
    const field = engineField(err.field);
    const message = err.message.startsWith(err.field) ? `${field}${err.message.slice(err.field.length)}` : `${field}: ${err.message}`;
    throw Errors.UNPROCESSABLE(message, { field, expected: err.expected });
  }
}

/** Fields of the fitted form: without `columns` nothing would apply them, so predictions would silently differ. */
const FITTED_ONLY = ['impute', 'maxCategories', 'standardizeTargets', 'inputs', 'ignored', 'target'] as const;

/** Models from before the encoding: one input per feature, standardized with mean and std when standardize is set. */
function checkOlderPreprocessing({ spec, features, preprocessing }: ImportModelBody): void {
  const fitted = FITTED_ONLY.find((key) => preprocessing[key] !== undefined);
  if (fitted) {
    throw mismatch('body.preprocessing.columns', `expected the fitted columns with preprocessing.${fitted} (without columns only standardize, mean and std apply)`);
  }
  if (features.length !== spec.inputSize) {
    throw mismatch('body.features', `expected ${spec.inputSize} names (spec.inputSize), got ${features.length}`);
  }
  if (!preprocessing.standardize) return;
  for (const key of ['mean', 'std'] as const) {
    const values = preprocessing[key];
    if (!values || values.length !== features.length) {
      throw mismatch(`body.preprocessing.${key}`, `expected ${features.length} numbers (one per feature) with standardize: true, got ${values?.length ?? 'none'}`);
    }
  }
  const bad = preprocessing.std!.findIndex((v) => !(v > 0) || !Number.isFinite(v));
  if (bad >= 0) throw mismatch(`body.preprocessing.std[${bad}]`, 'expected a positive finite number');
}

/**
 * The fitted form: one column per feature, in order, that encode to exactly spec.inputSize inputs named as the
 * columns encode, categories a predict value can match, and target scales for regression outputs only.
 */
function checkEncoding({ spec, features, targets, classes, preprocessing }: ImportModelBody): void {
  const columns = preprocessing.columns!;
  const field = 'body.preprocessing';
  for (const key of ['mean', 'std'] as const) {
    if (preprocessing[key] !== undefined) throw mismatch(`${field}.${key}`, 'belongs to the older form: with columns, each numeric column carries its center and scale');
  }
  const names = columns.map((c) => c.name);
  if (names.length !== features.length || names.some((name, i) => name !== features[i])) {
    throw mismatch('body.features', `expected the names of preprocessing.columns in order (${quoted(names)}), got ${quoted(features)}`);
  }
  const seen = new Set<string>();
  columns.forEach((column, i) => {
    if (seen.has(column.name)) throw mismatch(`${field}.columns[${i}].name`, `"${column.name}" is a column already`);
    seen.add(column.name);
    if (column.type !== 'categorical') return;
    const categories = new Set<string>();
    column.categories.forEach((category, j) => {
      const where = `${field}.columns[${i}].categories[${j}]`;
      // Predict values are matched as labelOf() reads them: trimmed text, numbers in their shortest form.
      if (isMissing(category)) throw mismatch(where, `"${category}" reads as a missing value, which has its own "(missing)" input`);
      if (labelOf(category) !== category) throw mismatch(where, `"${category}" can never match a value: predict values are read as "${labelOf(category)}"`);
      if (categories.has(category)) throw mismatch(where, `"${category}" is a category of this column already`);
      categories.add(category);
    });
  });
  const width = columns.reduce((n, c) => n + columnWidth(c), 0);
  if (width !== spec.inputSize) {
    throw mismatch(`${field}.columns`, `encode to ${width} inputs, but spec.inputSize is ${spec.inputSize} (the network's inputs must be the encoded row)`);
  }
  const expected = encodingOf(columns).inputs;
  const inputs = preprocessing.inputs;
  if (!inputs || inputs.length !== width) throw mismatch(`${field}.inputs`, `expected the ${width} names the columns encode to, got ${inputs?.length ?? 'none'}`);
  const wrong = inputs.findIndex((name, i) => name !== expected[i]);
  if (wrong >= 0) throw mismatch(`${field}.inputs[${wrong}]`, `expected "${expected[wrong]}" (what the columns encode to), got "${inputs[wrong]}"`);
  const target = preprocessing.target;
  if (!target) return;
  if (classes) throw mismatch(`${field}.target`, 'scales regression outputs; a classification model (classes) has none');
  for (const key of ['center', 'scale'] as const) {
    if (target[key].length !== targets.length) {
      throw mismatch(`${field}.target.${key}`, `expected ${targets.length} numbers (one per target), got ${target[key].length}`);
    }
  }
}
