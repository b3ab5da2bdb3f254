import { z } from 'zod';
import { modelSpecBodySchema } from './model-spec.js';
import { storedPreprocessingSchema } from './training.js';

export const modelSchema = z
  .object({
    id: z.uuid(),
    jobId: z.uuid(),
    datasetId: z.uuid(),
    spec: modelSpecBodySchema.extend({ inputSize: z.number().int() }),
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
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Model' });

const MAX_PREDICT_ROWS = 10_000;

export const predictBodySchema = z.object({
  inputs: z
    .union([
      z.array(z.array(z.number())).describe('Rows of feature values in dataset column order'),
      z.array(z.record(z.string(), z.number())).describe('Rows keyed by feature name'),
    ], { error: 'expected an array of rows: number arrays in feature order, or objects keyed by feature name' })
    .refine((rows) => rows.length >= 1 && rows.length <= MAX_PREDICT_ROWS, {
      message: `inputs must have between 1 and ${MAX_PREDICT_ROWS} rows`,
    }),
});
export type PredictBody = z.infer<typeof predictBodySchema>;

export const predictResponseSchema = z.object({
  outputs: z.array(z.array(z.number())),
  labels: z.array(z.string()).optional().describe('Predicted class per row, for classification models'),
});
