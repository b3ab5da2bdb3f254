// Turns a table of cells (from JSON or CSV) into what a dataset stores, or a DatasetError that names the row and
// column at fault. Every column gets a type (numeric, categorical, boolean; inferred, or declared in columnTypes) and
// a role (feature, target, or ignored); feature cells are stored raw as float32 (a number, a label's code, NaN for
// missing) and turned into the network's inputs only when a job trains, by an encoding fitted on its training rows
// (src/data/encoding.ts). Rows whose target is missing are skipped and counted. Rows are added one at a time, so a CSV
// streamed from a request never exists as a table of strings, and every limit is checked before the memory it
// guards is allocated.
import type { Readable } from 'node:stream';
import { VIEW_CATEGORIES, type ColumnStats, type ColumnType } from '../contracts/datasets.js';
import { describeCell, FINITE_FLOAT32, isMissing, toNumber, unusableName, type Cell } from './cells.js';
import { ColumnReader, type StoredColumn } from './column-reader.js';
import { NumericStats } from './column-stats.js';
import { DatasetError, DatasetTooLargeError, listNames } from './dataset-error.js';
import { TargetEncoder } from './encode-targets.js';
import { GrowingArray } from './growing-array.js';
import { readCsvStream, type Delimiter } from './parse-csv.js';

export interface EncodedDataset {
  /** Feature columns, in upload order. */
  features: string[];
  targets: string[];
  classes?: string[];
  /** Rows kept, or sequences for a sequence dataset. */
  rows: number;
  /**
   * rows x features.length raw feature cells (numbers, label codes, NaN for missing); for a sequence dataset rows x
   * sequenceLength x features.length, step after step.
   */
  inputs: Float32Array;
  /** rows x outputWidth (classes.length for classification, targets.length otherwise); x sequenceLength with perStepTargets */
  outputs: Float32Array;
  /** Output values per row, or per step with perStepTargets. */
  outputWidth: number;
  /** Sequence datasets only: steps per sequence. */
  sequenceLength?: number;
  /** Sequence datasets only: one target per step (sequence to sequence) rather than one per sequence. */
  perStepTargets?: boolean;
  /** Per feature and target column; over every step for the features of a sequence dataset. */
  stats: Record<string, ColumnStats>;
  /** Every column of the upload, in its order (tabular datasets). */
  columns?: StoredColumn[];
  /** Rows left out because their target was missing. */
  skippedRows?: number;
}

export interface DatasetLimits {
  maxRows: number;
  maxColumns: number;
  /** rows x columns, and rows x classes for the one-hot targets */
  maxCells: number;
}

/** What the uploader says about the columns: which to leave out, and types that override inference. */
export interface TableOptions {
  ignore?: readonly string[];
  columnTypes?: Readonly<Record<string, ColumnType>>;
  /** encodeCsv: the cell delimiter; by default the one detected on the header line. */
  delimiter?: Delimiter;
}

export const NO_DATASET_LIMITS: DatasetLimits = { maxRows: Infinity, maxColumns: Infinity, maxCells: Infinity };

export function checkColumns(columns: string[], target: string[], limits: DatasetLimits, options: TableOptions = {}): void {
  if (columns.length > limits.maxColumns) {
    throw new DatasetTooLargeError(`dataset has ${columns.length} columns, more than ${limits.maxColumns} (DATASET_MAX_COLUMNS)`, {
      field: 'columns',
      limit: limits.maxColumns,
    });
  }
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    if (c.trim() === '') throw new DatasetError(`column ${i + 1} has an empty name`, { field: `columns[${i}]` });
    const problem = unusableName(c);
    if (problem) throw new DatasetError(`column ${i + 1}: the name ${describeCell(c)} ${problem}`, { field: `columns[${i}]` });
    if (seen.has(c)) throw new DatasetError(`column "${c}" appears twice`, { field: `columns[${i}]`, column: c });
    seen.add(c);
  });
  for (const t of target) {
    if (!seen.has(t)) {
      throw new DatasetError(`target column ${describeCell(t)} is not one of the columns: ${listNames(columns)}`, { field: 'target', column: t });
    }
  }
  if (target.length === 0) throw new DatasetError('no target column: expected at least one', { field: 'target' });
  if (new Set(target).size !== target.length) throw new DatasetError('target names a column twice', { field: 'target' });
  const ignore = options.ignore ?? [];
  const unknown = (names: readonly string[]) => names.filter((n) => !seen.has(n));
  const unknownIgnored = unknown(ignore);
  if (unknownIgnored.length) {
    throw new DatasetError(`ignore names ${listNames(unknownIgnored)}, not columns of the dataset (${listNames(columns)})`, { field: 'ignore' });
  }
  const ignoredTarget = ignore.find((n) => target.includes(n));
  if (ignoredTarget !== undefined) throw new DatasetError(`ignore names "${ignoredTarget}", which is a target column`, { field: 'ignore', column: ignoredTarget });
  const unknownTyped = unknown(Object.keys(options.columnTypes ?? {}));
  if (unknownTyped.length) {
    throw new DatasetError(`columnTypes names ${listNames(unknownTyped)}, not columns of the dataset (${listNames(columns)})`, { field: 'columnTypes' });
  }
  if (target.length + new Set(ignore).size >= columns.length) {
    throw new DatasetError('no feature column: every column is a target or ignored; expected at least one feature column', { field: 'target' });
  }
}

/** Data row `row` (1-based) of a table with a header: within DATASET_MAX_CELLS and exactly as wide as the header. */
export function checkRow(cells: readonly Cell[], row: number, columns: string[], maxCells: number): void {
  if (row * columns.length > maxCells) {
    throw new DatasetTooLargeError(`dataset has more than ${maxCells} cells (rows x columns, DATASET_MAX_CELLS)`, { field: 'rows', limit: maxCells });
  }
  if (cells.length !== columns.length) {
    throw new DatasetError(`row ${row} has ${cells.length} cells, expected ${columns.length} (${listNames(columns)})`, { field: `rows[${row - 1}]`, row });
  }
}

/**
 * Appends numeric feature cells of data row `row` (1-based), a missing cell as NaN, or names the first cell that is
 * not a number (sequence datasets, whose features are numeric).
 */
export function pushFeatures(
  out: GrowingArray<Float32Array>,
  stats: NumericStats,
  cells: readonly Cell[],
  row: number,
  featureIdx: readonly number[],
  columns: string[],
): void {
  for (let f = 0; f < featureIdx.length; f++) {
    const c = featureIdx[f];
    const v = isMissing(cells[c]) ? NaN : toNumber(cells[c]);
    if (v === null) {
      throw new DatasetError(`row ${row}, column "${columns[c]}": expected ${FINITE_FLOAT32}, got ${describeCell(cells[c])}`, {
        field: `rows[${row - 1}][${c}]`,
        row,
        column: columns[c],
      });
    }
    out.push(v);
    stats.add(f, v);
  }
}

export class DatasetBuilder {
  private readonly targetIdx: number[];
  private readonly featureIdx: number[];
  private readonly ignoredIdx: number[];
  private readonly readers: ColumnReader[];
  private readonly inputs = new GrowingArray(Float32Array);
  private readonly targets: TargetEncoder;
  /** Data rows read (kept or skipped), and rows kept. */
  private read = 0;
  private rows = 0;

  constructor(
    private readonly columns: string[],
    private readonly targetNames: string[],
    private readonly limits: DatasetLimits = NO_DATASET_LIMITS,
    options: TableOptions = {},
  ) {
    checkColumns(columns, targetNames, limits, options);
    const ignored = new Set(options.ignore ?? []);
    const types = options.columnTypes ?? {};
    this.targetIdx = targetNames.map((t) => columns.indexOf(t));
    const roleOf = (name: string, i: number) => (this.targetIdx.includes(i) ? 'target' : ignored.has(name) ? 'ignored' : 'feature');
    this.readers = columns.map((name, i) => new ColumnReader(name, roleOf(name, i), Object.hasOwn(types, name) ? types[name] : undefined, columns.length));
    this.featureIdx = columns.flatMap((_, i) => (this.readers[i].role === 'feature' ? [i] : []));
    this.ignoredIdx = columns.flatMap((_, i) => (this.readers[i].role === 'ignored' ? [i] : []));
    const targetType = targetNames.length === 1 ? types[targetNames[0]] : undefined;
    this.targets = new TargetEncoder(targetNames, targetType === 'categorical' || targetType === 'boolean' ? 'classes' : undefined);
  }

  addRow(row: readonly Cell[]): void {
    if (this.read >= this.limits.maxRows) {
      throw new DatasetTooLargeError(`dataset has more than ${this.limits.maxRows} rows (DATASET_MAX_ROWS)`, { field: 'rows', limit: this.limits.maxRows });
    }
    const dataRow = ++this.read;
    checkRow(row, dataRow, this.columns, this.limits.maxCells);
    const { readers, targetIdx } = this;
    for (const t of targetIdx) if (isMissing(row[t])) return; // a row without its target cannot be learnt from
    for (const c of this.ignoredIdx) readers[c].read(row[c], { row: dataRow, index: c });
    for (const c of this.featureIdx) this.inputs.push(readers[c].read(row[c], { row: dataRow, index: c }));
    for (const t of targetIdx) {
      readers[t].read(row[t], { row: dataRow, index: t });
      this.targets.add(row[t]);
    }
    this.rows++;
  }

  finish(): EncodedDataset {
    if (this.rows === 0) {
      const why = this.read === 0 ? 'dataset has no data rows' : `every one of the ${this.read} rows has a missing target, so none can be learnt from`;
      throw new DatasetError(why, { field: 'rows' });
    }
    const { columns, targetIdx, readers } = this;
    const inputs = this.inputs.toArray();
    const width = this.featureIdx.length;
    const stored = readers.map((reader, i) => (reader.role === 'feature' ? reader.finish(inputs, width, this.featureIdx.indexOf(i)) : reader.finish(null, 1, 0)));
    const encoded = this.targets.finish({
      column: (k) => `column "${columns[targetIdx[k]]}"`,
      at: (r, k) => ({
        message: `target row ${r + 1}, column "${columns[targetIdx[k]]}"`,
        details: { field: `rows[${r}][${targetIdx[k]}]`, row: r + 1, column: columns[targetIdx[k]] },
      }),
      maxCells: this.limits.maxCells,
    });
    const features = this.featureIdx.map((i) => columns[i]);
    const featureStats = Object.fromEntries(this.featureIdx.map((i) => [columns[i], legacyStats(stored[i])]));
    return {
      features,
      targets: this.targetNames,
      rows: this.rows,
      inputs,
      ...encoded,
      stats: { ...featureStats, ...encoded.stats },
      columns: stored,
      skippedRows: this.read - this.rows,
    };
  }
}

/** The per-column statistics older clients read (`stats`): numeric summaries, or category counts. */
function legacyStats(column: StoredColumn): ColumnStats {
  if (column.type !== 'categorical') return { kind: 'numeric', ...(column.stats ?? { min: 0, max: 0, mean: 0, std: 0 }) };
  const labels = column.labels ?? [];
  const top = labels.map((label, i) => [label, column.counts![i]] as const).sort((a, b) => b[1] - a[1]).slice(0, VIEW_CATEGORIES);
  return { kind: 'categorical', counts: Object.fromEntries(top) };
}

export function encodeDataset(
  columns: string[],
  rows: readonly (readonly Cell[])[],
  targetNames: string[],
  limits: DatasetLimits = NO_DATASET_LIMITS,
  options: TableOptions = {},
): EncodedDataset {
  const builder = new DatasetBuilder(columns, targetNames, limits, options);
  for (const row of rows) builder.addRow(row);
  return builder.finish();
}

/** A CSV with a header row, encoded while its bytes arrive: one row of strings exists at a time. */
export async function encodeCsv(
  input: Readable,
  targetNames: string[],
  limits: DatasetLimits = NO_DATASET_LIMITS,
  options: TableOptions = {},
): Promise<EncodedDataset> {
  let builder: DatasetBuilder | undefined;
  await readCsvStream(
    input,
    (cells) => {
      if (builder) builder.addRow(cells);
      else builder = new DatasetBuilder(cells, targetNames, limits, options);
    },
    { maxColumns: limits.maxColumns, maxRows: limits.maxRows },
    options.delimiter,
  );
  if (!builder) throw new DatasetError('CSV is empty: expected a header row and data rows', { field: 'body' });
  return builder.finish();
}
