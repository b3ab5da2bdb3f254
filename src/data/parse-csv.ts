// CSV through csv-parse (RFC 4180: quotes, "" escapes, CRLF/LF/CR, a leading BOM), read record by record so
// limits apply while reading: csv-parse's max_record_size stops a header of a million columns after a bounded
// number of characters, the column limit is checked on every record, and no table of strings is ever built.
// readCsvStream parses bytes as they arrive (an HTTP body); readCsv parses a string already in memory (a CLI file).
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse as parseStream, type Options } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { DatasetError, DatasetTooLargeError } from './dataset-error.js';

export interface CsvLimits {
  maxColumns: number;
  maxRows: number;
}

type OnRecord = (cells: string[], line: number) => void;

const UNLIMITED: CsvLimits = { maxColumns: Infinity, maxRows: Infinity };
/** Characters allowed per column in one record before the record is refused as too large. */
const MAX_CHARS_PER_COLUMN = 256;

/**
 * csv-parse options that hand each record to onRecord(cells, line) (the header, then every data row) and count
 * them. Unquoted cells are trimmed; inside quotes, "" is a quote and line breaks are kept. Empty lines and a leading
 * byte-order mark are skipped. Ragged rows are passed on as they are, for the caller to name.
 */
function recordReader(onRecord: OnRecord, limits: CsvLimits) {
  const reader = {
    records: 0,
    options: {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      ltrim: true,
      rtrim: true,
      max_record_size: Number.isFinite(limits.maxColumns) ? limits.maxColumns * MAX_CHARS_PER_COLUMN : 0,
      // Returning null keeps csv-parse from collecting (or, as a stream, emitting) the records: each one is handed
      // on and dropped.
      on_record: (cells: string[], context) => {
        if (reader.records > limits.maxRows) {
          throw new DatasetTooLargeError(`CSV has more than ${limits.maxRows} data rows (DATASET_MAX_ROWS)`, {
            field: 'body',
            row: reader.records,
            limit: limits.maxRows,
          });
        }
        if (cells.length > limits.maxColumns) throw tooManyColumns(context.lines, reader.records, limits.maxColumns);
        onRecord(cells, context.lines);
        reader.records++;
        return null;
      },
    } satisfies Options,
    /** csv-parse's own errors as 400s that say where and what; any other error as it is. */
    translate(error: unknown): unknown {
      return error instanceof CsvError ? fromCsvError(error, reader.records, limits.maxColumns) : error;
    },
  };
  return reader;
}

/** Reads a CSV from a string; returns the number of records. */
export function readCsv(text: string, onRecord: OnRecord, limits: CsvLimits = UNLIMITED): number {
  const reader = recordReader(onRecord, limits);
  try {
    parse(text, reader.options);
  } catch (error) {
    throw reader.translate(error);
  }
  return reader.records;
}

/**
 * Reads a CSV from a stream of bytes as they arrive; resolves with the number of records. On the first error (of
 * the input, of the CSV, or thrown by onRecord) reading stops and `input` is destroyed.
 */
export async function readCsvStream(input: Readable, onRecord: OnRecord, limits: CsvLimits = UNLIMITED): Promise<number> {
  const reader = recordReader(onRecord, limits);
  try {
    await pipeline(input, parseStream(reader.options));
  } catch (error) {
    throw reader.translate(error);
  }
  return reader.records;
}

function tooManyColumns(line: number, records: number, maxColumns: number): DatasetTooLargeError {
  return new DatasetTooLargeError(`line ${line} has more than ${maxColumns} columns (DATASET_MAX_COLUMNS)`, {
    field: 'body',
    ...(records > 0 ? { row: records } : {}),
    limit: maxColumns,
  });
}

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
