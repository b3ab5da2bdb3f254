// CSV through csv-parse (RFC 4180: quotes, "" escapes, CRLF/LF/CR, a leading BOM), read record by record so
// limits apply while reading: csv-parse's max_record_size stops a header of a million columns after a bounded
// number of characters, the column limit is checked on every record, and no table of strings is ever built.
import { CsvError, parse } from 'csv-parse/sync';
import { DatasetError, DatasetTooLargeError } from './dataset-error.js';

export interface CsvLimits {
  maxColumns: number;
  maxRows: number;
}

const UNLIMITED: CsvLimits = { maxColumns: Infinity, maxRows: Infinity };
/** Characters allowed per column in one record before the record is refused as too large. */
const MAX_CHARS_PER_COLUMN = 256;

/**
 * Calls onRecord(cells, line) for the header and then for every data row, and returns the number of records.
 * Unquoted cells are trimmed; inside quotes, "" is a quote and line breaks are kept. Empty lines and a leading
 * byte-order mark are skipped. Ragged rows are passed on as they are, for the caller to name.
 */
export function readCsv(text: string, onRecord: (cells: string[], line: number) => void, limits: CsvLimits = UNLIMITED): number {
  let records = 0;
  const maxRecordSize = Number.isFinite(limits.maxColumns) ? limits.maxColumns * MAX_CHARS_PER_COLUMN : 0;
  try {
    parse(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      ltrim: true,
      rtrim: true,
      max_record_size: maxRecordSize,
      // Returning null keeps csv-parse from collecting the records: each one is handed on and dropped.
      on_record: (cells: string[], context) => {
        if (records > limits.maxRows) {
          throw new DatasetTooLargeError(`CSV has more than ${limits.maxRows} data rows (DATASET_MAX_ROWS)`, {
            field: 'body',
            row: records,
            limit: limits.maxRows,
          });
        }
        if (cells.length > limits.maxColumns) throw tooManyColumns(context.lines, records, limits.maxColumns);
        onRecord(cells, context.lines);
        records++;
        return null;
      },
    });
  } catch (error) {
    if (error instanceof CsvError) throw fromCsvError(error, records, limits.maxColumns);
    throw error;
  }
  return records;
}

function tooManyColumns(line: number, records: number, maxColumns: number): DatasetTooLargeError {
  return new DatasetTooLargeError(`line ${line} has more than ${maxColumns} columns (DATASET_MAX_COLUMNS)`, {
    field: 'body',
    ...(records > 0 ? { row: records } : {}),
    limit: maxColumns,
  });
}

/** csv-parse's own errors, as 400s that say where and what. */
function fromCsvError(error: CsvError, records: number, maxColumns: number): DatasetError {
  const line = (error as CsvError & { lines?: number }).lines;
  if (error.code === 'CSV_MAX_RECORD_SIZE') return tooManyColumns(line ?? records + 1, records, maxColumns);
  const where = line ? ` on line ${line}` : '';
  if (error.code === 'CSV_QUOTE_NOT_CLOSED') {
    return new DatasetError(`CSV is malformed: a quoted cell starting${where} is never closed`, { field: 'body' });
  }
  if (error.code === 'CSV_INVALID_CLOSING_QUOTE' || error.code === 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE') {
    return new DatasetError(`CSV is malformed: unexpected text after a closing quote${where}`, { field: 'body' });
  }
  return new DatasetError(`CSV is malformed${where}: ${error.message}`, { field: 'body' });
}
