import { z } from 'zod';
import { FLOAT32_MAX } from './common.js';
import { evaluationSchema } from './evaluation.js';
import { gemmBackendSchema } from './gemm-backends.js';
import { storedModelSpecSchema } from './model-spec.js';
import { storedPreprocessingSchema } from './preprocessing.js';

export const modelSchema = z
  .object({
    id: z.uuid(),
    jobId: z.uuid().nullable().describe('The job that trained the model; null for a model imported with POST /v1/models, or once that job was deleted'),
    datasetId: z.uuid().nullable().describe("The training job's dataset; null for an imported model, or once the job or the dataset was deleted"),
    spec: storedModelSpecSchema,
    preprocessing: storedPreprocessingSchema,
    features: z.array(z.string()),
    targets: z.array(z.string()),
    classes: z.array(z.string()).optional(),
    metrics: z.object({
      epochs: z.number().int(),
      loss: z.number().nullable(),
      valLoss: z.number().nullable(),
      accuracy: z.number().nullable(),
      valAccuracy: z.number().nullable(),
    }),
    evaluation: evaluationSchema
      .nullable()
      .describe('The final model judged on its job\'s validation split (or training rows without one); null for imported models'),
    backends: z
      .array(gemmBackendSchema)
      .nullable()
      .describe("What its job's runs multiplied on (the job's backends); null for an imported model"),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Model' });

const MAX_PREDICT_ROWS = 10_000;
/** Input rows x max(features, outputs): bounds the request's work and the size of the answer. */
export const MAX_PREDICT_CELLS = 1_000_000;
/** Models compute in float32: a larger magnitude would turn into Infinity. */
const featureValue = z.number().min(-FLOAT32_MAX).max(FLOAT32_MAX);

/** A raw cell of a keyed row: a number, a category, a boolean, or null (an absent key is missing too). */
const rawValue = z.union([featureValue, z.string().max(1000), z.boolean(), z.null()]);

/** One input: a row in feature order, a row keyed by feature name, or (sequence models) a sequence of steps. */
const predictRowSchema = z.union(
  [
    z.array(featureValue.nullable()).describe('Models with numeric and boolean features only: feature values in column order, null for missing'),
    z
      .record(z.string(), rawValue)
      .describe(
        'A row keyed by column name with raw values: numbers, category strings, booleans; null or an absent key for missing. ' +
          'Columns the training dataset ignored may be present',
      ),
    z.array(z.array(featureValue.nullable())).describe('Sequence models: a sequence, each step the features of that step in order'),
  ],
  {
    error:
      'expected a row (an object keyed by column name, or numbers in feature order) or, for sequence models, a sequence (an array of steps)',
  },
);

// The union is per row, so one request may mix arrays and objects, and a bad row is reported by its own index.
export const predictBodySchema = z.strictObject({
  inputs: z.array(predictRowSchema).refine((rows) => rows.length >= 1 && rows.length <= MAX_PREDICT_ROWS, {
    message: `inputs must have between 1 and ${MAX_PREDICT_ROWS} rows`,
  }),
});
export type PredictBody = z.infer<typeof predictBodySchema>;

/** Whether `body` holds more input rows than predictBodySchema allows, known without looking at a row. */
export function hasTooManyRows(body: unknown): boolean {
  const inputs = typeof body === 'object' && body !== null ? (body as { inputs?: unknown }).inputs : undefined;
  return Array.isArray(inputs) && inputs.length > MAX_PREDICT_ROWS;
}

/**
 * Whether `body` is the common case of predictBodySchema, rows of numbers in feature order, checked without zod:
 * true only for bodies the schema accepts (as its first row form). Everything else, errors included, goes through
 * the schema. zod's union of row forms cost a fifth of a prediction's CPU.
 */
export function isRowsOfNumbers(body: unknown): body is PredictBody {
  if (typeof body !== 'object' || body === null || Object.getPrototypeOf(body) !== Object.prototype) return false;
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'inputs') return false;
  const inputs = (body as { inputs: unknown }).inputs;
  if (!Array.isArray(inputs) || inputs.length < 1 || inputs.length > MAX_PREDICT_ROWS) return false;
  for (const row of inputs) {
    if (!Array.isArray(row)) return false;
    for (const value of row) {
      // The negated test also refuses NaN, which JSON cannot carry anyway.
      if (typeof value !== 'number' || !(value >= -FLOAT32_MAX && value <= FLOAT32_MAX)) return false;
    }
  }
  return true;
}

export const predictResponseSchema = z.object({
  outputs: z
    .union([z.array(z.array(z.number())), z.array(z.array(z.array(z.number())))])
    .describe('One array of output values per row or sequence; per step (an array of arrays) when the model outputs every step'),
  labels: z.array(z.string()).optional().describe('Predicted class per row or sequence, for classification models'),
  warnings: z
    .array(z.object({ row: z.number().int(), column: z.string(), value: z.string(), message: z.string() }))
    .optional()
    .describe('Values the model had not seen in training (answered through the column\'s "other" input), by row and column'),
});

export const evaluateBodySchema = z.strictObject({
  datasetId: z.uuid().describe("A dataset with the model's feature and target columns; encoded with the model's stored preprocessing, never refitted"),
});
