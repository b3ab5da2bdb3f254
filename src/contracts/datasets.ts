import { z } from 'zod';
import { nameSchema } from './common.js';

/** Absolute ceiling on dataset columns; DATASET_MAX_COLUMNS (at most this) is the limit in force. */
export const COLUMNS_CEILING = 100_000;

const cellSchema = z.union([z.number(), z.string()]);
const columnNameSchema = nameSchema();

export const jsonDatasetBodySchema = z.strictObject({
  name: nameSchema(),
  columns: z.array(columnNameSchema).min(2).max(COLUMNS_CEILING).describe('At most DATASET_MAX_COLUMNS'),
  rows: z
    .array(z.array(cellSchema))
    .min(1, 'rows must contain at least one row')
    .describe('At most DATASET_MAX_ROWS rows and DATASET_MAX_CELLS cells'),
  target: z.union([columnNameSchema, z.array(columnNameSchema).min(1)]).describe('Target column name or names'),
});
export type JsonDatasetBody = z.infer<typeof jsonDatasetBodySchema>;

export const sequenceDatasetBodySchema = z
  .strictObject({
    name: nameSchema(),
    sequences: z
      .array(z.array(z.array(z.number())))
      .describe(
        'One entry per sequence: its steps in order, each step an array of feature values. Every sequence has the same ' +
          'number of steps and every step the same number of features (ragged or empty sequences answer 400)',
      ),
    targets: z
      .array(z.union([z.number(), z.string(), z.array(z.number()), z.array(z.array(z.number()))]))
      .describe(
        'One entry per sequence, all of one kind: a number (regression), an array of numbers (several outputs), a string ' +
          '(class label, one-hot for training), or an array with one array of numbers per step (per-step targets, for ' +
          'sequence-to-sequence models whose last recurrent layer returns sequences)',
      ),
    featureNames: z.array(columnNameSchema).optional().describe('Names of the features of a step; default x0, x1, ...'),
    targetNames: z.array(columnNameSchema).min(1).optional().describe('Names of the target values; default y (y0, y1, ... for several)'),
  })
  .meta({ id: 'SequenceDataset' });
export type SequenceDatasetBody = z.infer<typeof sequenceDatasetBodySchema>;

export const csvDatasetQuerySchema = z.object({
  name: nameSchema().optional().describe('Required for text/csv bodies'),
  target: nameSchema(20_000).optional().describe('Target column(s), comma separated; required for text/csv bodies'),
  sequence: nameSchema()
    .optional()
    .describe(
      'Sequence CSV: the column holding a sequence id. Each row is one step; consecutive rows with the same id form one ' +
        'sequence, in order, and every sequence has the same number of steps. The other non-target columns are the ' +
        'features of a step. The target of a sequence is taken from its last row',
    ),
  perStepTargets: z
    .enum(['true', 'false'])
    .optional()
    .describe('Sequence CSV: true takes the target of every row (one per step, numeric) instead of the last row\'s only'),
});

export const columnStatsSchema = z.union([
  z.object({ kind: z.literal('numeric'), min: z.number(), max: z.number(), mean: z.number(), std: z.number() }),
  z.object({ kind: z.literal('categorical'), counts: z.record(z.string(), z.number()) }),
]);
export type ColumnStats = z.infer<typeof columnStatsSchema>;

export const datasetKindSchema = z.enum(['tabular', 'sequence']);
export type DatasetKind = z.infer<typeof datasetKindSchema>;

export const datasetSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    kind: datasetKindSchema,
    rows: z.number().int().describe('Rows; for a sequence dataset, sequences'),
    sequenceLength: z.number().int().optional().describe('Sequence datasets: steps per sequence'),
    perStepTargets: z.boolean().optional().describe('Sequence datasets: one target per step rather than per sequence'),
    features: z.array(z.string()).describe('Feature columns; for a sequence dataset, the features of one step'),
    targets: z.array(z.string()),
    classes: z.array(z.string()).optional(),
    createdAt: z.iso.datetime().optional(),
  })
  .meta({ id: 'Dataset' });

export const datasetDetailSchema = datasetSchema
  .extend({ stats: z.record(z.string(), columnStatsSchema) })
  .meta({ id: 'DatasetDetail' });

export const datasetListSchema = z.object({ items: z.array(datasetSchema) });
