import { z } from 'zod';

const cellSchema = z.union([z.number(), z.string()]);

export const jsonDatasetBodySchema = z.object({
  name: z.string().trim().min(1).max(200),
  columns: z.array(z.string().trim().min(1)).min(2).max(10_000),
  rows: z.array(z.array(cellSchema)).min(1, 'rows must contain at least one row'),
  target: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).describe('Target column name or names'),
});
export type JsonDatasetBody = z.infer<typeof jsonDatasetBodySchema>;

export const csvDatasetQuerySchema = z.object({
  name: z.string().trim().min(1).max(200).optional().describe('Required for text/csv bodies'),
  target: z.string().min(1).optional().describe('Target column(s), comma separated; required for text/csv bodies'),
});

export const columnStatsSchema = z.union([
  z.object({ kind: z.literal('numeric'), min: z.number(), max: z.number(), mean: z.number(), std: z.number() }),
  z.object({ kind: z.literal('categorical'), counts: z.record(z.string(), z.number()) }),
]);
export type ColumnStats = z.infer<typeof columnStatsSchema>;

export const datasetSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    rows: z.number().int(),
    features: z.array(z.string()),
    targets: z.array(z.string()),
    classes: z.array(z.string()).optional(),
    createdAt: z.iso.datetime().optional(),
  })
  .meta({ id: 'Dataset' });

export const datasetDetailSchema = datasetSchema
  .extend({ stats: z.record(z.string(), columnStatsSchema) })
  .meta({ id: 'DatasetDetail' });

export const datasetListSchema = z.object({ items: z.array(datasetSchema) });
