// CSV through csv-parse (RFC 4180: quotes, "" escapes, CRLF/LF/CR, a leading BOM), read record by record so
// limits apply while reading: csv-parse's max_record_size stops a header of a million columns after a bounded
// number of characters, the column limit is checked on every record, and no table of strings is ever built.
// readCsvStream parses bytes as they arrive (an HTTP body); readCsv parses a string already in memory (a CLI file).
// Cells are separated by a comma, a semicolon, a tab or a pipe: the one given, or the one detected on the header line.
import { finished, type Readable } from 'node:stream';
import { finished as streamFinished, pipeline } from 'node:stream/promises';
import { CsvError, parse as parseStream, type Options } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { DatasetError, DatasetTooLargeError } from './dataset-error.js';

export interface CsvLimits {
  maxColumns: number;
  maxRows: number;
}

type OnRecord = (cells: string[], line: number) => void;

/** The cell delimiters understood, the default first. */
export const DELIMITERS = [',', ';', '\t', '|'] as const;
export type Delimiter = (typeof DELIMITERS)[number];
const DELIMITER_CODES = DELIMITERS.map((d) => d.charCodeAt(0));
/** How much of a header line is looked at to detect its delimiter. */
const DETECT_BYTES = 64 * 1024;
const [QUOTE, LF, CR] = [0x22, 0x0a, 0x0d];
const BOM = [0xef, 0xbb, 0xbf];

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

/**
 * Detects the delimiter of a header line, fed the first bytes of the text as they arrive: the candidate found most
 * often outside quotes on the first non-empty line (or its first DETECT_BYTES), a comma on a tie or when there is
 * none. Bytes suffice: no byte of a multi-byte UTF-8 character is an ASCII delimiter, quote or line break.
 */
class DelimiterDetector {
  private readonly counts = DELIMITERS.map(() => 0);
  private inQuotes = false;
  private lineStarted = false;
  private seen = 0;
  private done = false;

  /** Reads on into the header line; true once its end (or the end of what is looked at) is reached. */
  feed(chunk: Uint8Array | string): boolean {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (let i = 0; i < bytes.length && !this.done; i++) {
      const byte = bytes[i];
      if (++this.seen > DETECT_BYTES) this.done = true;
      else if (this.seen <= BOM.length && byte === BOM[this.seen - 1] && !this.lineStarted) continue;
      else if (byte === QUOTE) this.inQuotes = !this.inQuotes;
      else if (this.inQuotes) continue;
      else if (byte === LF || byte === CR) this.done = this.lineStarted;
      else {
        this.lineStarted = true;
        const at = DELIMITER_CODES.indexOf(byte);
        if (at >= 0) this.counts[at]++;
      }
    }
    return this.done;
  }

  get delimiter(): Delimiter {
    const most = this.counts.reduce((best, count, i) => (count > this.counts[best] ? i : best), 0);
    return DELIMITERS[most];
  }
}

/** Reads a CSV from a string; returns the number of records. Without a delimiter, the header line's is used. */
export function readCsv(text: string, onRecord: OnRecord, limits: CsvLimits = UNLIMITED, delimiter?: Delimiter): number {
  const reader = recordReader(onRecord, limits);
  const detector = new DelimiterDetector();
  if (!delimiter) detector.feed(text.slice(0, DETECT_BYTES));
  try {
    parse(text, { ...reader.options, delimiter: delimiter ?? detector.delimiter });
  } catch (error) {
    throw reader.translate(error);
  }
  return reader.records;
}

/**
 * Reads a CSV from a stream of bytes as they arrive; resolves with the number of records. Without a delimiter, the
 * header line is read first to detect it. On the first error (of the input, of the CSV, or thrown by onRecord)
 * reading stops and `input` is destroyed.
 */
export async function readCsvStream(input: Readable, onRecord: OnRecord, limits: CsvLimits = UNLIMITED, delimiter?: Delimiter): Promise<number> {
  const reader = recordReader(onRecord, limits);
  try {
    const head = delimiter ? { chunks: [], ended: false, delimiter } : await readHeaderLine(input);
    const parser = parseStream({ ...reader.options, delimiter: head.delimiter });
    for (const chunk of head.chunks) if (!parser.destroyed) parser.write(chunk);
    if (head.ended) {
      parser.end();
      await streamFinished(parser, { readable: false });
    } else {
      await pipeline(input, parser);
    }
  } catch (error) {
    input.destroy();
    throw reader.translate(error);
  }
  return reader.records;
}

/**
 * Reads `input` up to the end of its header line (or the whole of a shorter input) and detects its delimiter; the
 * chunks read are returned for the parser, and the input is left paused just after them.
 */
function readHeaderLine(input: Readable): Promise<{ chunks: (Buffer | string)[]; ended: boolean; delimiter: Delimiter }> {
  return new Promise((resolve, reject) => {
    const detector = new DelimiterDetector();
    const chunks: (Buffer | string)[] = [];
    const settle = (ended: boolean) => {
      input.off('data', onData);
      stopWatching();
      input.pause();
      resolve({ chunks, ended, delimiter: detector.delimiter });
    };
    const onData = (chunk: Buffer | string) => {
      chunks.push(chunk);
      if (detector.feed(chunk)) settle(false);
    };
    // The end of a short input, an error, or a premature close (then an error too).
    const stopWatching = finished(input, { writable: false }, (err) => {
      if (!err) return settle(true);
      input.off('data', onData);
      reject(err);
    });
    input.on('data', onData);
  });
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
