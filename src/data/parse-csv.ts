import { parse } from 'csv-parse/sync';
import { DatasetError } from './dataset-error.js';

export interface RawTable {
  columns: string[];
  rows: string[][];
}

/** Header row + data rows. Ragged rows are kept so the encoder can name them. */
export function parseCsv(text: string): RawTable {
  let records: string[][];
  try {
    records = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: true, bom: true });
  } catch (err) {
    const e = err as { message: string; lines?: number };
    throw new DatasetError(`CSV is malformed: ${e.message}`, { field: 'body', row: e.lines });
  }
  if (records.length === 0) throw new DatasetError('CSV is empty: expected a header row and data rows', { field: 'body' });
  const [columns, ...rows] = records;
  return { columns, rows };
}
