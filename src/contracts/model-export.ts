// A model as JSON (GET /v1/models/:id/export, POST /v1/models) and the TensorFlow.js layers format.
import { z } from 'zod';
import { MODEL_JSON_FORMAT } from '../export/model-json.js';
import { nameSchema } from './common.js';
import { storedModelSpecSchema } from './model-spec.js';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');

const layerWeightsSchema = z.strictObject({
  kernel: base64.describe('inputs x units, row-major; 4·units columns for lstm (gates input, forget, cell, output)'),
  recurrentKernel: base64.optional().describe('rnn and lstm layers: units x units (4·units columns for lstm)'),
  bias: base64,
});

const modelJsonShape = {
  format: z.literal(MODEL_JSON_FORMAT),
  dtype: z.enum(['float32', 'float64']).describe('Element type of the base64 weight arrays (little-endian)'),
  spec: storedModelSpecSchema,
  weights: z.array(layerWeightsSchema).min(1).max(32).describe('One entry per layer of spec.layers'),
  features: z.array(nameSchema()).min(1).describe('Input columns in order (per step for sequence models)'),
  targets: z.array(nameSchema()).min(1),
  classes: z.array(nameSchema()).min(2).max(4096).optional().describe('Class labels, in output order, for classification models'),
  preprocessing: z
    .strictObject({ standardize: z.boolean(), mean: z.array(z.number()).optional(), std: z.array(z.number()).optional() })
    .describe('standardize: true needs mean and std, one per feature'),
};

/** What GET /v1/models/:id/export answers. */
export const modelJsonSchema = z.object(modelJsonShape).meta({ id: 'ModelJson' });

/** POST /v1/models: the same document, strict, so a typo is a 400 rather than a silently ignored field. */
export const importModelBodySchema = z.strictObject(modelJsonShape).meta({ id: 'ImportModel' });
export type ImportModelBody = z.infer<typeof importModelBodySchema>;

export const exportQuerySchema = z.object({
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
    userDefinedMetadata: z.record(z.string(), z.unknown()).describe('loss, features, targets, classes'),
  })
  .meta({ id: 'TfjsModelJson' });
