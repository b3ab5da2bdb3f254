// What POST /v1/models checks beyond the zod schema: the parts of the document must agree with each other, the
// model must fit MODEL_MAX_PARAMETERS (counted before anything is allocated), and the engine must accept the spec
// and the weights. Failures are 422 naming the field of the body.
import type { ImportModelBody } from '../../contracts/model-export.js';
import { fromModelJson } from '../../export/model-json.js';
import { EngineError, deserializeModel, type Network } from '../../engine/index.js';
import { Errors } from '../errors.js';
import { countParameters } from './job-validation.js';

const mismatch = (field: string, message: string) => Errors.UNPROCESSABLE(`${field}: ${message}`, { field });

/** Engine fields are relative to the spec ("layers[1].units") or to the serialized model ("model.weights[0].bias"). */
function engineField(field: string): string {
  return field.startsWith('model.') ? `body.${field.slice('model.'.length)}` : `body.spec.${field}`;
}

export function checkImport(body: ImportModelBody, maxParameters: number): Network {
  const { spec, features, targets, classes, preprocessing } = body;
  if (features.length !== spec.inputSize) {
    throw mismatch('body.features', `expected ${spec.inputSize} names (spec.inputSize), got ${features.length}`);
  }
  if (preprocessing.standardize) {
    for (const key of ['mean', 'std'] as const) {
      const values = preprocessing[key];
      if (!values || values.length !== features.length) {
        throw mismatch(`body.preprocessing.${key}`, `expected ${features.length} numbers (one per feature) with standardize: true, got ${values?.length ?? 'none'}`);
      }
    }
    const bad = preprocessing.std!.findIndex((v) => !(v > 0) || !Number.isFinite(v));
    if (bad >= 0) throw mismatch(`body.preprocessing.std[${bad}]`, 'expected a positive finite number');
  }
  const units = spec.layers[spec.layers.length - 1].units;
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
