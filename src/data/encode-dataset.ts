// Turns a table of cells (from JSON or CSV) into the packed arrays the engine trains on, or a DatasetError that
// names the row and column at fault. Feature columns must be numeric; a single non-numeric target column becomes
// classes (one-hot, labels at prediction time). Rows are added one at a time, straight into float32 storage with
// their statistics updated as they arrive, so a CSV streamed from a request never exists as a table of strings, and
// every limit is checked before the memory it guards is allocated.
import type { Readable } from 'node:stream';
import type { ColumnStats } from '../contracts/datasets.js';
import { describeCell, FINITE_FLOAT32, toNumber, unusableName, type Cell } from './cells.js';
import { NumericStats } from './column-stats.js';
import { DatasetError, DatasetTooLargeError, listNames } from './dataset-error.js';
import { TargetEncoder } from './encode-targets.js';
import { GrowingArray } from './growing-array.js';
import { readCsvStream } from './parse-csv.js';

export interface EncodedDataset {
  features: string[];
  targets: string[];
  classes?: string[];
  /** Rows, or sequences for a sequence dataset. */
  rows: number;
  /** rows x features.length; for a sequence dataset rows x sequenceLength x features.length, step after step */
  inputs: Float32Array;
  /** rows x outputWidth (classes.length for classification, targets.length otherwise); x sequenceLength with perStepTargets */
  outputs: Float32Array;
  /** Output values per row, or per step with perStepTargets. */
  outputWidth: number;
  /** Sequence datasets only: steps per sequence. */
  sequenceLength?: number;
  /** Sequence datasets only: one target per step (sequence to sequence) rather than one per sequence. */
  perStepTargets?: boolean;
  /** Per column; over every step for the features of a sequence dataset. */
  stats: Record<string, ColumnStats>;
}

export interface DatasetLimits {
  maxRows: number;
  maxColumns: number;
  /** rows x columns, and rows x classes for the one-hot targets */
  maxCells: number;
}

export const NO_DATASET_LIMITS: DatasetLimits = { maxRows: Infinity, maxColumns: Infinity, maxCells: Infinity };

export function checkColumns(columns: string[], target: string[], limits: DatasetLimits): void {
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
  if (target.length >= columns.length) {
    throw new DatasetError('every column is a target: expected at least one feature column', { field: 'target' });
  }
  if (new Set(target).size !== target.length) throw new DatasetError('target names a column twice', { field: 'target' });
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

/** Appends the feature cells of data row `row` (1-based) as numbers, or names the first cell that is not one. */
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
    const v = toNumber(cells[c]);
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
  stats.endRow();
}

export class DatasetBuilder {
  private readonly targetIdx: number[];
  private readonly featureIdx: number[];
  private readonly features: string[];
  private readonly inputs = new GrowingArray(Float32Array);
  private readonly featureStats: NumericStats;
  private readonly targets: TargetEncoder;
  private rows = 0;

  constructor(
    private readonly columns: string[],
    private readonly targetNames: string[],
    private readonly limits: DatasetLimits = NO_DATASET_LIMITS,
  ) {
    checkColumns(columns, targetNames, limits);
    this.targetIdx = targetNames.map((t) => columns.indexOf(t));
    this.featureIdx = columns.map((_, i) => i).filter((i) => !this.targetIdx.includes(i));
    this.features = this.featureIdx.map((i) => columns[i]);
    this.featureStats = new NumericStats(this.features.length);
    this.targets = new TargetEncoder(targetNames);
  }

  addRow(row: readonly Cell[]): void {
    if (this.rows >= this.limits.maxRows) {
      throw new DatasetTooLargeError(`dataset has more than ${this.limits.maxRows} rows (DATASET_MAX_ROWS)`, { field: 'rows', limit: this.limits.maxRows });
    }
    checkRow(row, this.rows + 1, this.columns, this.limits.maxCells);
    pushFeatures(this.inputs, this.featureStats, row, this.rows + 1, this.featureIdx, this.columns);
    for (const t of this.targetIdx) this.targets.add(row[t]);
    this.rows++;
  }

  finish(): EncodedDataset {
    if (this.rows === 0) throw new DatasetError('dataset has no data rows', { field: 'rows' });
    const { features, targetNames, targetIdx, columns } = this;
    const stats: Record<string, ColumnStats> = this.featureStats.byName(features);
    const encoded = this.targets.finish({
      column: (k) => `column "${columns[targetIdx[k]]}"`,
      at: (r, k) => ({
        message: `row ${r + 1}, column "${columns[targetIdx[k]]}"`,
        details: { field: `rows[${r}][${targetIdx[k]}]`, row: r + 1, column: columns[targetIdx[k]] },
      }),
      maxCells: this.limits.maxCells,
    });
    return { features, targets: targetNames, rows: this.rows, inputs: this.inputs.toArray(), ...encoded, stats: { ...stats, ...encoded.stats } };
  }
}

export function encodeDataset(columns: string[], rows: readonly (readonly Cell[])[], targetNames: string[], limits: DatasetLimits = NO_DATASET_LIMITS): EncodedDataset {
  const builder = new DatasetBuilder(columns, targetNames, limits);
  for (const row of rows) builder.addRow(row);
  return builder.finish();
}

/** A CSV with a header row, encoded while its bytes arrive: one row of strings exists at a time. */
export async function encodeCsv(input: Readable, targetNames: string[], limits: DatasetLimits = NO_DATASET_LIMITS): Promise<EncodedDataset> {
  let builder: DatasetBuilder | undefined;
  await readCsvStream(
    input,
    (cells) => {
      if (builder) builder.addRow(cells);
      else builder = new DatasetBuilder(cells, targetNames, limits);
    },
    { maxColumns: limits.maxColumns, maxRows: limits.maxRows },
  );
  if (!builder) throw new DatasetError('CSV is empty: expected a header row and data rows', { field: 'body' });
  return builder.finish();
}
