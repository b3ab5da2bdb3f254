// A model as JSON (GET /v1/models/:id/export, POST /v1/models) and the TensorFlow.js layers format.
import { z } from 'zod';
import { MODEL_JSON_FORMAT } from '../export/model-json.js';
import { nameSchema } from './common.js';
import { evaluationSchema } from './evaluation.js';
import { storedModelSpecSchema } from './model-spec.js';
import { modelNameSchema } from './registry.js';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');

const layerWeightsSchema = z.strictObject({
  kernel: base64.describe('inputs x units, row-major; 4·units columns for lstm (gates input, forget, cell, output)'),
  recurrentKernel: base64.optional().describe('rnn and lstm layers: units x units (4·units columns for lstm)'),
  bias: base64,
});

// Zod 4's z.number() refuses NaN and ±Infinity: every number below is finite.
const scale = z.number().positive().describe('Divisor of the centred value: positive');

const scalarColumnSchema = z.strictObject({
  name: nameSchema(),
  type: z.enum(['numeric', 'boolean']).describe('boolean: true/yes/1 read as 1, false/no/0 as 0'),
  fill: z.number().describe('What a missing value becomes, before scaling'),
  indicator: z.boolean().describe('Whether a 0/1 "was missing" input follows the value'),
  center: z.number(),
  scale,
});

const categoricalColumnSchema = z.strictObject({
  name: nameSchema(),
  type: z.literal('categorical'),
  categories: z
    .array(z.string().min(1).max(1000))
    .max(1000)
    .describe('One input per category, in order; then an "(other)" input (any other value) and a "(missing)" input'),
});

const encodedColumnSchema = z.discriminatedUnion('type', [scalarColumnSchema, categoricalColumnSchema]);

/**
 * The fitted encoding (columns, inputs, ignored, target, with the options it was fitted with), or the form of models
 * from before it (standardize with mean and std per feature). Which fields go together is checked on import (422).
 */
const preprocessingSchema = z
  .strictObject({
    standardize: z.boolean().describe('Whether numeric features were standardized (the option the encoding was fitted with)'),
    impute: z.enum(['mean', 'median']).optional().describe('Fitted form: the option `fill` was computed with'),
    maxCategories: z.number().int().min(1).max(1000).optional().describe('Fitted form: the option `categories` were cut to'),
    standardizeTargets: z.boolean().optional().describe('Fitted form: the option `target` comes from'),
    mean: z.array(z.number()).optional().describe('Older form only: per-feature mean, with standardize: true'),
    std: z.array(z.number()).optional().describe('Older form only: per-feature standard deviation, with standardize: true'),
    columns: z
      .array(encodedColumnSchema)
      .min(1)
      .optional()
      .describe('Fitted form: per feature column, in the order of `features`, how its raw value becomes inputs'),
    inputs: z.array(z.string()).optional().describe('Fitted form: the names of the inputs the columns encode to, spec.inputSize of them'),
    ignored: z.array(nameSchema()).optional().describe('Fitted form: columns of the training dataset left out; a predict row may carry them'),
    target: z
      .strictObject({ center: z.array(z.number()).min(1), scale: z.array(scale).min(1) })
      .optional()
      .describe('Fitted form, regression trained on standardized targets: prediction = output x scale + center, per target'),
  })
  .describe(
    'How a raw row becomes the network inputs. Fitted form: columns, inputs, ignored and (scaled regression targets) ' +
      'target. Older form: standardize, with mean and std (one per feature) when true',
  );

const modelJsonShape = {
  format: z.literal(MODEL_JSON_FORMAT),
  dtype: z.enum(['float32', 'float64']).describe('Element type of the base64 weight arrays (little-endian)'),
  spec: storedModelSpecSchema,
  weights: z.array(layerWeightsSchema).min(1).max(32).describe('One entry per layer of spec.layers'),
  features: z.array(nameSchema()).min(1).describe('Feature columns in order (per step for sequence models)'),
  targets: z.array(nameSchema()).min(1),
  classes: z.array(nameSchema()).min(2).max(4096).optional().describe('Class labels, in output order, for classification models'),
  preprocessing: preprocessingSchema,
  evaluation: evaluationSchema
    .nullable()
    .optional()
    .describe(
      "How the model was judged on its training job's validation split (null when it was not). Informational: an " +
        'import does not keep it, since the imported model was not judged here (POST /v1/models/{id}/evaluate judges it)',
    ),
};

/** What GET /v1/models/:id/export answers. */
export const modelJsonSchema = z.object(modelJsonShape).meta({ id: 'ModelJson' });

/** POST /v1/models: the same document, strict, so a typo is a 400 rather than a silently ignored field. */
export const importModelBodySchema = z
  .strictObject({
    ...modelJsonShape,
    modelName: modelNameSchema.optional().describe('Register the imported model as the next version of this name in the model registry'),
  })
  .meta({ id: 'ImportModel' });
export type ImportModelBody = z.infer<typeof importModelBodySchema>;
export type ExportedPreprocessing = z.infer<typeof preprocessingSchema>;

export const exportQuerySchema = z.strictObject({
  format: z.enum(['json']).default('json').describe('json: this service\'s format (POST /v1/models imports it). TensorFlow.js: GET tfjs/model.json'),
});

/** model.json of the TensorFlow.js layers format; weights.bin is beside it. */
export const tfjsModelJsonSchema = z
  .object({
    format: z.literal('layers-model'),
    generatedBy: z.string(),
    convertedBy: z.null(),
    modelTopology: z.record(z.string(), z.unknown()).describe('A Keras Sequential model'),
    weightsManifest: z.array(
      z.object({
        paths: z.array(z.string()).describe('Relative to model.json: ["weights.bin"]'),
        weights: z.array(z.object({ name: z.string(), shape: z.array(z.number()), dtype: z.string() })),
      }),
    ),
    userDefinedMetadata: z
      .record(z.string(), z.unknown())
      .describe('loss, features, targets, classes, and encoding: how a raw row becomes the input vector the model takes (docs/tables-export.md)'),
  })
  .meta({ id: 'TfjsModelJson' });
