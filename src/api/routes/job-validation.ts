// Checks that need the dataset (or the engine's own rules) and so cannot live in the zod schema. Failures are
// 422: the request is well-formed but does not fit the data it references.
import type { ModelSpec } from '../../engine/index.js';
import { EngineError, createNetwork } from '../../engine/index.js';
import type { Training } from '../../contracts/training.js';
import { Errors } from '../errors.js';

interface DatasetShape {
  rows: number;
  features: string[];
  targets: string[];
  classes?: string[];
}

const SPEC_FIELDS = /^(layers|loss|inputSize|model)\b/;

export function checkModelFitsDataset(spec: ModelSpec, training: Training & { seed: number }, dataset: DatasetShape): void {
  const last = spec.layers.length - 1;
  const width = dataset.classes?.length ?? dataset.targets.length;
  const units = spec.layers[last].units;
  if (units !== width) {
    const what = dataset.classes
      ? `${width} classes of "${dataset.targets[0]}" (${dataset.classes.join(', ')})`
      : `${width} target column(s) (${dataset.targets.join(', ')})`;
    throw Errors.UNPROCESSABLE(`model.layers[${last}].units: expected ${width} to match the dataset's ${what}, got ${units}`, {
      field: `model.layers[${last}].units`,
      expected: width,
    });
  }
  const validationRows = Math.floor(dataset.rows * training.validationSplit);
  if (training.validationSplit > 0 && (validationRows < 1 || validationRows >= dataset.rows)) {
    throw Errors.UNPROCESSABLE(
      `training.validationSplit: expected a fraction leaving at least one training and one validation row of the dataset's ${dataset.rows} rows, got ${training.validationSplit}`,
      { field: 'training.validationSplit' },
    );
  }
  try {
    createNetwork(spec, training.seed); // the engine's own rules, e.g. which output activation suits the loss
  } catch (err) {
    if (!(err instanceof EngineError)) throw err;
    const field = SPEC_FIELDS.test(err.field) ? `model.${err.field.replace(/^model\.?/, '')}` : `training.${err.field}`;
    throw Errors.UNPROCESSABLE(`${field}: expected ${err.expected}`, { field, expected: err.expected, engineCode: err.code });
  }
}
