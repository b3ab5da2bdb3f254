import { z } from 'zod';
import { nameSchema, pageOf, pageQuerySchema } from './common.js';

/** Absolute ceiling on dataset columns; DATASET_MAX_COLUMNS (at most this) is the limit in force. */
export const COLUMNS_CEILING = 100_000;

const cellSchema = z.union([z.number(), z.string(), z.boolean(), z.null()]);
const columnNameSchema = nameSchema();

export const columnTypeSchema = z
  .enum(['numeric', 'categorical', 'boolean'])
  .describe('numeric: every value a finite number; categorical: labels (one-hot encoded); boolean: true/false or yes/no, trained as 1/0');
export type ColumnType = z.infer<typeof columnTypeSchema>;
export const columnRoleSchema = z.enum(['feature', 'target', 'ignored']);
export type ColumnRole = z.infer<typeof columnRoleSchema>;

const ignoreSchema = z
  .array(columnNameSchema)
  .max(COLUMNS_CEILING)
  .describe('Columns that are neither feature nor target (ids, names, dates): not stored, shown in the dataset view as ignored');
const columnTypesSchema = z
  .record(columnNameSchema, columnTypeSchema)
  .describe('Declared column types, overriding inference (e.g. { "cylinders": "categorical" })');

export const jsonDatasetBodySchema = z.strictObject({
  name: nameSchema(),
  columns: z.array(columnNameSchema).min(2).max(COLUMNS_CEILING).describe('At most DATASET_MAX_COLUMNS'),
  rows: z
    .array(z.array(cellSchema))
    .min(1, 'rows must contain at least one row')
    .describe('At most DATASET_MAX_ROWS rows and DATASET_MAX_CELLS cells'),
  target: z.union([columnNameSchema, z.array(columnNameSchema).min(1)]).describe('Target column name or names'),
  ignore: ignoreSchema.optional(),
  columnTypes: columnTypesSchema.optional(),
});
export type JsonDatasetBody = z.infer<typeof jsonDatasetBodySchema>;

export const sequenceDatasetBodySchema = z
  .strictObject({
    name: nameSchema(),
    sequences: z
      .array(z.array(z.array(z.number().nullable())))
      .describe(
        'One entry per sequence: its steps in order, each step an array of feature values (null for a missing one, imputed ' +
          'at training). Every sequence has the same ' +
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

export const csvDatasetQuerySchema = z.strictObject({
  name: nameSchema().optional().describe('Required for text/csv bodies'),
  target: nameSchema(20_000).optional().describe('Target column(s), comma separated; required for text/csv bodies'),
  sequence: nameSchema()
    .optional()
    .describe(
      'Sequence CSV: the column holding a sequence id. Each row is one step; consecutive rows with the same id form one ' +
        'sequence, in order, and every sequence has the same number of steps. The other non-target columns are the ' +
        'features of a step. The target of a sequence is taken from its last row',
    ),
  ignore: z.string().max(20_000).optional().describe('Columns to leave out, comma separated (e.g. name,id)'),
  columnTypes: z
    .string()
    .max(20_000)
    .optional()
    .describe('Declared column types, comma separated column:type pairs (e.g. cylinders:categorical,vip:boolean)'),
  perStepTargets: z
    .enum(['true', 'false'])
    .optional()
    .describe('Sequence CSV: true takes the target of every row (one per step, numeric) instead of the last row\'s only'),
  delimiter: z
    .enum([',', ';', '\t', '\\t', 'tab', '|'])
    .optional()
    .describe(
      'The cell delimiter: , ; | or a tab (sent as %09, \\t or tab). By default a tab for text/tab-separated-values, ' +
        'else the one found most often outside quotes on the header line (a comma on a tie)',
    ),
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

export const numericSummarySchema = z.object({ min: z.number(), max: z.number(), mean: z.number(), std: z.number() });
export type NumericSummary = z.infer<typeof numericSummarySchema>;

/** How many category counts a dataset view shows per column, most frequent first. */
export const VIEW_CATEGORIES = 50;

export const columnViewSchema = z
  .object({
    name: z.string(),
    type: columnTypeSchema,
    role: columnRoleSchema,
    missing: z.number().int().describe('Missing cells (empty, null, NA, N/A, NaN, null, ?) among the rows kept'),
    distinct: z.number().int().optional().describe('Distinct values other than missing (not counted for sequence datasets)'),
    distinctCapped: z.boolean().optional().describe('true when there are more distinct values than counted (distinct is a lower bound)'),
    stats: numericSummarySchema.optional().describe('Numeric and boolean columns: over the values present'),
    categories: z
      .array(z.object({ value: z.string(), count: z.number().int() }))
      .optional()
      .describe(`Categorical columns: the ${VIEW_CATEGORIES} most frequent values with their counts`),
    warnings: z.array(z.string()).describe('Things a person should look at: an identifier-like column, a constant column'),
  })
  .meta({ id: 'DatasetColumn' });
export type ColumnView = z.infer<typeof columnViewSchema>;

export const datasetDetailSchema = datasetSchema
  .extend({
    stats: z.record(z.string(), columnStatsSchema).describe('Per feature and target column (kept for older clients; columns says more)'),
    columns: z.array(columnViewSchema).describe('Every column of the upload in its order: type, role, missing and distinct counts, statistics'),
    skippedRows: z
      .object({ count: z.number().int(), reason: z.string() })
      .describe('Rows left out of training: rows whose target is missing'),
  })
  .meta({ id: 'DatasetDetail' });

export const datasetListSchema = pageOf(datasetSchema);
export const listDatasetsQuerySchema = pageQuerySchema.extend({
  // 100 by default, the whole answer before pages existed: an older client still gets what it got.
  limit: z.coerce.number().int().min(1).max(100).default(100),
  name: z.string().max(200).optional().describe('Only datasets with exactly this name'),
});
