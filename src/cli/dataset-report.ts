// What a person should know about an uploaded table before trusting a model trained on it (GET /v1/datasets/:id):
// the columns left out, missing cells (imputed at training), rows skipped for a missing target, column warnings.
import type { z } from 'zod';
import type { datasetDetailSchema } from '../contracts/datasets.js';

export type DatasetDetail = z.infer<typeof datasetDetailSchema>;

/** Lines for stderr; none for a clean table. */
export function formatDatasetNotes(dataset: DatasetDetail): string {
  const lines: string[] = [];
  const ignored = dataset.columns.filter((c) => c.role === 'ignored').map((c) => c.name);
  if (ignored.length) lines.push(`ignored columns: ${ignored.join(', ')}`);
  const categorical = dataset.columns.filter((c) => c.role === 'feature' && c.type === 'categorical').map((c) => c.name);
  if (categorical.length) lines.push(`categorical features (one-hot encoded): ${categorical.join(', ')}`);
  const missing = dataset.columns.filter((c) => c.role === 'feature' && c.missing > 0).map((c) => `${c.name} ${c.missing}`);
  if (missing.length) lines.push(`missing cells (imputed at training): ${missing.join(', ')}`);
  const { count, reason } = dataset.skippedRows;
  if (count > 0) lines.push(`skipped ${count} row${count === 1 ? '' : 's'}: ${reason}`);
  // An ignored column's warnings ("looks like an identifier: ignore it?") are already acted on.
  for (const column of dataset.columns.filter((c) => c.role !== 'ignored')) {
    for (const warning of column.warnings) lines.push(`warning: column ${column.name}: ${warning}`);
  }
  return lines.map((line) => `  ${line}\n`).join('');
}
