import { z } from 'zod';

/** What a job asks of data preparation; fitted on the job's training rows when it starts. */
export const preprocessingBodySchema = z
  .strictObject({
    standardize: z.boolean().default(true).describe('Scale numeric features to zero mean and unit variance (training-row statistics)'),
    impute: z.enum(['mean', 'median']).default('mean').describe('What a missing numeric cell becomes (a 0/1 "was missing" input is added too)'),
    maxCategories: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(50)
      .describe('One-hot slots per categorical feature, most frequent first; the rest share an "other" slot with unseen values'),
    standardizeTargets: z
      .boolean()
      .default(true)
      .describe('Regression (meanSquaredError): train on standardized targets; predictions are answered in the original units'),
  })
  .meta({ id: 'Preprocessing' });
export type PreprocessingOptions = z.infer<typeof preprocessingBodySchema>;
export const DEFAULT_PREPROCESSING: PreprocessingOptions = preprocessingBodySchema.parse({});

/** A numeric or boolean feature: missing -> fill (and indicator 1 when there is one), then (x - center) / scale. */
const scalarColumnSchema = z.object({
  name: z.string(),
  type: z.enum(['numeric', 'boolean']),
  fill: z.number().describe('What a missing value becomes, before scaling'),
  indicator: z.boolean().describe('Whether a 0/1 "was missing" input follows the value'),
  center: z.number(),
  scale: z.number(),
});
/** A categorical feature: one input per category, then "other" (unseen or beyond maxCategories), then "missing". */
const categoricalColumnSchema = z.object({
  name: z.string(),
  type: z.literal('categorical'),
  categories: z.array(z.string()),
});
export const encodedColumnSchema = z.discriminatedUnion('type', [scalarColumnSchema, categoricalColumnSchema]);
export type EncodedColumn = z.infer<typeof encodedColumnSchema>;

/**
 * Preprocessing as stored with a job and its model. A job stores the options it was asked for until its first run
 * fits them; a model always carries the fitted form (`columns`, `inputs`, and `target` for scaled regression
 * targets). Models from before the encoding carry `standardize` with `mean` and `std` per feature only.
 */
export const storedPreprocessingSchema = z
  .object({
    standardize: z.boolean(),
    impute: z.enum(['mean', 'median']).optional(),
    maxCategories: z.number().int().optional(),
    standardizeTargets: z.boolean().optional(),
    mean: z.array(z.number()).optional().describe('Older models: per-feature mean (standardize only)'),
    std: z.array(z.number()).optional().describe('Older models: per-feature standard deviation (standardize only)'),
    columns: z.array(encodedColumnSchema).optional().describe('Per feature column, in order: how its raw value becomes inputs'),
    inputs: z.array(z.string()).optional().describe('Names of the network inputs the columns encode to, in order'),
    ignored: z.array(z.string()).optional().describe('Columns of the training dataset left out (ignored): a predict row may carry them'),
    target: z
      .object({ center: z.array(z.number()), scale: z.array(z.number()) })
      .optional()
      .describe('Regression trained on standardized targets: prediction = output x scale + center, per target'),
  })
  .meta({ id: 'StoredPreprocessing' });
export type StoredPreprocessing = z.infer<typeof storedPreprocessingSchema>;

/** The options a stored preprocessing was asked with (older jobs and models stored `standardize` only). */
export function optionsOf(stored: StoredPreprocessing): PreprocessingOptions {
  return {
    standardize: stored.standardize,
    impute: stored.impute ?? DEFAULT_PREPROCESSING.impute,
    maxCategories: stored.maxCategories ?? DEFAULT_PREPROCESSING.maxCategories,
    standardizeTargets: stored.standardizeTargets ?? false,
  };
}
