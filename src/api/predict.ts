// Predictions, shared by POST /v1/models/:id/predict and POST /v1/registry/:name/predict: rows (keyed or in feature
// order) or sequences are encoded with the model's stored preprocessing, run through the network, and answered in the
// target's own units with class labels.
import type { FastifyRequest } from 'fastify';
import type { FastifyRouteSchemaDef } from 'fastify/types/schema.js';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { idParamsSchema } from '../contracts/common.js';
import { hasTooManyRows, isRowsOfNumbers, MAX_PREDICT_CELLS, type PredictBody } from '../contracts/models.js';
import { registryNameParamsSchema } from '../contracts/registry.js';
import { listNames } from '../data/dataset-error.js';
import { InputError, type RowEncoder } from '../data/encode-inputs.js';
import type { Network } from '../engine/index.js';
import { Errors } from './errors.js';
import { PREDICT_CHUNK, type LoadedModel, type ModelCache } from './model-cache.js';

type PredictRow = PredictBody['inputs'][number];

const describeRow = (row: PredictRow): string => {
  if (!Array.isArray(row)) return 'an object';
  return row.some(Array.isArray) ? `a sequence of ${row.length} steps` : `an array of ${row.length} values`;
};

/** What a predict request asked about values the model had not seen. */
type Warning = { row: number; column: string; value: string; message: string };

/** Rows (objects keyed by column name, or arrays in feature order) -> the network's rows x encoder.width inputs. */
function toMatrix(inputs: PredictBody['inputs'], encoder: RowEncoder, features: string[]): { x: Float32Array; warnings: Warning[] } {
  const width = encoder.width;
  const x = new Float32Array(inputs.length * width);
  const warnings: Warning[] = [];
  inputs.forEach((row, r) => {
    const where = `inputs[${r}]`;
    if (!Array.isArray(row)) {
      for (const { column, value } of encoder.encodeObject(row, x, r * width, where)) {
        warnings.push({ row: r, column, value, message: `${where}.${column}: "${value}" was not seen in training; answered as the column's "other" category` });
      }
      return;
    }
    if (!encoder.allScalar) {
      const categorical = encoder.encoding.columns.filter((c) => c.type === 'categorical').map((c) => c.name);
      throw Errors.INVALID_INPUT(`${where}: this model has categorical columns (${listNames(categorical)}): send each row as an object keyed by column name`, {
        field: where,
        features,
      });
    }
    if (row.length !== features.length || row.some(Array.isArray)) {
      const got = row.some(Array.isArray) ? `${describeRow(row)} (this model reads rows, not sequences)` : `${row.length} values`;
      throw Errors.INVALID_INPUT(`${where}: expected ${features.length} features (${listNames(features)}), got ${got}`, { field: where, features });
    }
    encoder.encodeArray(row as (number | null)[], x, r * width, () => where);
  });
  return { x, warnings };
}

/** Sequences (arrays of steps, each the features of a step in order) -> rows x steps x inputs, step after step. */
function toSequenceMatrix(inputs: PredictBody['inputs'], encoder: RowEncoder, features: string[], steps: number): Float32Array {
  const width = features.length;
  const out = new Float32Array(inputs.length * steps * encoder.width);
  const step = `${width} feature${width === 1 ? '' : 's'} (${listNames(features)})`;
  const expected = `a sequence of ${steps} steps, each an array of ${step}`;
  inputs.forEach((row, r) => {
    const details = { field: `inputs[${r}]`, sequenceLength: steps, features };
    if (!Array.isArray(row) || (row.length > 0 && !row.every(Array.isArray))) {
      throw Errors.INVALID_INPUT(`inputs[${r}]: expected ${expected}; got ${describeRow(row)}`, details);
    }
    if (row.length !== steps) throw Errors.INVALID_INPUT(`inputs[${r}]: expected ${expected}; got ${row.length} steps`, details);
    (row as (number | null)[][]).forEach((values, t) => {
      if (values.length !== width) {
        throw Errors.INVALID_INPUT(`inputs[${r}][${t}]: expected ${step}, got ${values.length} values`, { ...details, field: `inputs[${r}][${t}]` });
      }
      encoder.encodeArray(values, out, (r * steps + t) * encoder.width, () => `inputs[${r}][${t}]`);
    });
  });
  return out;
}

/** Index of the first NaN or infinity, -1 if none: a plain loop, cheaper than findIndex with a callback. */
function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

const farOutside = (row: number, where: string) =>
  Errors.UNPROCESSABLE(`inputs[${row}]: values are so far outside the training data that they overflow ${where}`, { field: `inputs[${row}]` });


function forwardInChunks(network: Network, x: Float32Array, rows: number): Float32Array {
  if (rows <= PREDICT_CHUNK) return network.predict(x, rows) as Float32Array;
  const inW = network.inputWidth;
  const outW = network.outputWidth;
  const y = new Float32Array(rows * outW);
  for (let start = 0; start < rows; start += PREDICT_CHUNK) {
    const n = Math.min(PREDICT_CHUNK, rows - start);
    y.set(network.predict(x.subarray(start * inW, (start + n) * inW), n), start * outW);
  }
  return y;
}

/** Route options of every predict route (spread into the route's options). */
export const predictCompilers = {
  // The schemas still type the handler and document the route, but the answer is not re-checked against them
  // at run time: the handler builds it from a Float32Array (non-finite values are refused above) and the model's
  // class names. Checking it with zod cost 7% of a prediction's CPU.
  serializerCompiler: () => (data: unknown) => JSON.stringify(data),
  // Rows of numbers skip zod (isRowsOfNumbers accepts nothing the schema refuses); any other body, and every
  // error, gets the schema's checks and messages.
  validatorCompiler: (route: FastifyRouteSchemaDef<unknown>) => {
    // Fastify hands the compiler one part's schema at a time, whatever the route-level type says.
    const bySchema = validatorCompiler(route as unknown as Parameters<typeof validatorCompiler>[0]);
    if (route.httpPart !== 'body') return bySchema;
    return (data: unknown) => {
      if (isRowsOfNumbers(data)) return { value: data };
      // Too many rows is refused before a single row is checked (a 1M-row body took seconds of zod): the schema's own
      // answer to a body of no rows carries the same message.
      if (hasTooManyRows(data)) return bySchema({ inputs: [] });
      return bySchema(data);
    };
  },
};

/**
 * preValidation of POST /v1/models/:id/predict: the model must be the tenant's before a row of the body is checked, so
 * an unknown or another tenant's model id answers 404 for one indexed lookup (none when the model is cached, which
 * makes it the tenant's), never for validating its rows. An id that is not a UUID is left to the schema (400).
 */
export function ownedModelFirst(cache: ModelCache, exists: (tenantId: string, id: string) => Promise<boolean>) {
  return async (request: FastifyRequest): Promise<void> => {
    const params = idParamsSchema.safeParse(request.params);
    if (!params.success || cache.peek(request.tenantId, params.data.id)) return;
    if (!(await exists(request.tenantId, params.data.id))) throw Errors.NOT_FOUND(`model ${params.data.id} not found`);
  };
}

/**
 * preValidation of POST /v1/registry/:name/predict: a body that is not plain rows of numbers (the ones zod checks row
 * by row) is only checked once the name is the tenant's; an unknown name answers 404 for one indexed lookup. Rows of
 * numbers cost nothing to check, so the usual request pays no extra lookup.
 */
export function registeredNameFirst(exists: (tenantId: string, name: string) => Promise<boolean>, notFound: (name: string) => Error) {
  return async (request: FastifyRequest): Promise<void> => {
    if (isRowsOfNumbers(request.body)) return;
    const params = registryNameParamsSchema.safeParse(request.params);
    if (params.success && !(await exists(request.tenantId, params.data.name))) throw notFound(params.data.name);
  };
}

/** The answer to a predict request: outputs, labels for class targets, and warnings about unseen values. */
export function predictRows(loaded: LoadedModel, inputs: PredictBody['inputs']) {
  const { model, network, encoder } = loaded;
  const width = network.outputWidth;
  const cellsPerRow = Math.max(network.inputWidth, width);
  if (inputs.length * cellsPerRow > MAX_PREDICT_CELLS) {
    const most = Math.floor(MAX_PREDICT_CELLS / cellsPerRow);
    throw Errors.VALIDATION(`body.inputs: at most ${most} rows per request for this model (${MAX_PREDICT_CELLS} values in or out), got ${inputs.length}`, {
      field: 'body.inputs',
    });
  }
  let x: Float32Array;
  let warnings: Warning[] = [];
  try {
    if (network.recurrent) x = toSequenceMatrix(inputs, encoder, model.features, network.sequenceLength);
    else ({ x, warnings } = toMatrix(inputs, encoder, model.features));
  } catch (err) {
    if (err instanceof InputError) throw Errors.INVALID_INPUT(err.message, { field: err.field, features: model.features });
    throw err;
  }
  // Standardization can push a float32 value past its range (a feature far outside the training data), and
  // the network can overflow on its own: both are the input's fault, never a 500.
  const badInput = firstNonFinite(x);
  if (badInput >= 0) throw farOutside(Math.floor(badInput / network.inputWidth), 'after standardization');
  const y = forwardInChunks(network, x, inputs.length);
  const badOutput = firstNonFinite(y);
  if (badOutput >= 0) throw farOutside(Math.floor(badOutput / width), 'in the model\'s output');
  const scale = encoder.encoding.target;
  if (scale) {
    // Trained on standardized targets: answered in the target's own units.
    const units = scale.center.length;
    for (let i = 0; i < y.length; i++) y[i] = y[i] * scale.scale[i % units] + scale.center[i % units];
  }
  const extra = warnings.length ? { warnings } : {};
  const units = network.outputSize;
  const rowOf = (r: number) => {
    const row = new Array<number>(width);
    for (let c = 0; c < width; c++) row[c] = y[r * width + c];
    return row;
  };
  if (network.outputSteps > 1) {
    // Sequence to sequence: per sequence, one array of outputs per step.
    const steps = network.outputSteps;
    const outputs = inputs.map((_, r) => {
      const row = rowOf(r);
      return Array.from({ length: steps }, (_, t) => row.slice(t * units, (t + 1) * units));
    });
    return { outputs, ...extra };
  }
  const outputs = inputs.map((_, r) => rowOf(r));
  if (!model.classes) return { outputs, ...extra };
  const classes = model.classes;
  const labels = outputs.map((row) => classes[row.indexOf(Math.max(...row))]);
  return { outputs, labels, ...extra };
}
