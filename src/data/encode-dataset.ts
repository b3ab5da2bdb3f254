// Turns a table of cells (from JSON or CSV) into the packed arrays the engine trains on, or a DatasetError that
// names the row and column at fault. Feature columns must be numeric; a single non-numeric target column becomes
// classes (one-hot here, labels at prediction time). Rows are added one at a time and converted at once, so a CSV
// never exists as a table of strings, and every limit is checked before the memory it guards is allocated.
import { FLOAT32_MAX, UNSTORABLE_TEXT } from '../contracts/common.js';
import type { ColumnStats } from '../contracts/datasets.js';
import { MAX_LAYER_UNITS } from '../contracts/model-spec.js';
import { DatasetError, DatasetTooLargeError, listNames } from './dataset-error.js';
import { readCsv } from './parse-csv.js';

export type Cell = number | string;

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
export const FINITE_FLOAT32 = `a finite number (at most ${FLOAT32_MAX.toPrecision(3)} in magnitude)`;

/** The widest output layer a model may have, hence the most classes a target can usefully have. */
const MAX_CLASSES = MAX_LAYER_UNITS;
const MAX_NAME_LENGTH = 200;

export function toNumber(cell: Cell): number | null {
  const n = typeof cell === 'number' ? cell : cell.trim() === '' ? NaN : Number(cell);
  return Number.isFinite(n) && Math.abs(n) <= FLOAT32_MAX ? n : null;
}

export function describeCell(cell: Cell): string {
  if (typeof cell !== 'string') return String(cell);
  return JSON.stringify(cell.length > 40 ? `${cell.slice(0, 40)}…` : cell);
}

/** Why a column name or class label cannot be stored, or null. */
export function unusableName(name: string): string | null {
  if (name.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  if (UNSTORABLE_TEXT.test(name)) return 'contains a NUL character or invalid Unicode';
  if (name === '__proto__') return 'is reserved';
  return null;
}

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

export function numericStats(values: Float32Array, stride: number, offset: number, rows: number): ColumnStats {
  let min = Infinity;
  let max = -Infinity;
  let mean = 0;
  let m2 = 0;
  for (let r = 0; r < rows; r++) {
    const v = values[r * stride + offset];
    if (v < min) min = v;
    if (v > max) max = v;
    // Welford's update: one pass, no catastrophic cancellation on large columns.
    const delta = v - mean;
    mean += delta / (r + 1);
    m2 += delta * (v - mean);
  }
  return { kind: 'numeric', min, max, mean, std: Math.sqrt(m2 / rows) };
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
export function pushFeatures(out: GrowingFloat32, cells: readonly Cell[], row: number, featureIdx: readonly number[], columns: string[]): void {
  for (const c of featureIdx) {
    const v = toNumber(cells[c]);
    if (v === null) {
      throw new DatasetError(`row ${row}, column "${columns[c]}": expected ${FINITE_FLOAT32}, got ${describeCell(cells[c])}`, {
        field: `rows[${row - 1}][${c}]`,
        row,
        column: columns[c],
      });
    }
    out.push(v);
  }
}

/** A Float32Array that doubles its capacity as values are appended. */
export class GrowingFloat32 {
  private data = new Float32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  toArray(): Float32Array {
    return this.data.slice(0, this.length);
  }
}

export class DatasetBuilder {
  private readonly targetIdx: number[];
  private readonly featureIdx: number[];
  private readonly features: string[];
  private readonly inputs = new GrowingFloat32();
  /** rows x targets, kept as given until finish() knows whether the target is numeric or classes. */
  private readonly targetCells: Cell[] = [];
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
  }

  addRow(row: readonly Cell[]): void {
    if (this.rows >= this.limits.maxRows) {
      throw new DatasetTooLargeError(`dataset has more than ${this.limits.maxRows} rows (DATASET_MAX_ROWS)`, { field: 'rows', limit: this.limits.maxRows });
    }
    checkRow(row, this.rows + 1, this.columns, this.limits.maxCells);
    pushFeatures(this.inputs, row, this.rows + 1, this.featureIdx, this.columns);
    for (const t of this.targetIdx) this.targetCells.push(row[t]);
    this.rows++;
  }

  finish(): EncodedDataset {
    const n = this.rows;
    if (n === 0) throw new DatasetError('dataset has no data rows', { field: 'rows' });
    const { features, targetNames, targetIdx, columns } = this;
    const inputs = this.inputs.toArray();
    const stats = Object.fromEntries(features.map((name, f) => [name, numericStats(inputs, features.length, f, n)]));
    const encoded = encodeTargets(this.targetCells, targetNames, n, {
      column: (k) => `column "${columns[targetIdx[k]]}"`,
      at: (r, k) => ({
        message: `row ${r + 1}, column "${columns[targetIdx[k]]}"`,
        details: { field: `rows[${r}][${targetIdx[k]}]`, row: r + 1, column: columns[targetIdx[k]] },
      }),
      maxCells: this.limits.maxCells,
    });
    return { features, targets: targetNames, rows: n, inputs, ...encoded, stats: { ...stats, ...encoded.stats } };
  }
}

/** How encodeTargets names a target and the cell it found at fault. */
export interface TargetLocator {
  /** E.g. `column "species"`. */
  column(k: number): string;
  /** The k-th target of target row r: a message prefix and the error's details. */
  at(r: number, k: number): { message: string; details: DatasetError['details'] };
  maxCells: number;
}

export interface EncodedTargets {
  outputs: Float32Array;
  outputWidth: number;
  classes?: string[];
  stats: Record<string, ColumnStats>;
}

/**
 * Target cells (rows x names.length, row-major) as the engine's targets: numbers as they are, or, when any cell is
 * not a number, class labels of a single target one-hot encoded in sorted class order.
 */
export function encodeTargets(cells: readonly Cell[], names: string[], rows: number, locate: TargetLocator): EncodedTargets {
  const width = names.length;
  const categorical = cells.some((cell) => toNumber(cell) === null);
  if (!categorical) {
    const outputs = Float32Array.from(cells, (cell) => toNumber(cell) as number);
    const stats = Object.fromEntries(names.map((name, k) => [name, numericStats(outputs, width, k, rows)]));
    return { outputs, outputWidth: width, stats };
  }

  if (width !== 1) {
    throw new DatasetError('a non-numeric target must be a single column (its values become classes)', { field: 'target' });
  }
  const counts = new Map<string, number>();
  // Messages are built only on failure: this runs once per row.
  const fail = (r: number, what: (where: string) => string): never => {
    const { message, details } = locate.at(r, 0);
    throw new DatasetError(what(message), details);
  };
  const labels = cells.map((cell, r) => {
    const label = String(cell).trim();
    if (label === '') fail(r, (where) => `${where}: class label is empty`);
    const problem = unusableName(label);
    if (problem) fail(r, (where) => `${where}: the class label ${describeCell(label)} ${problem}`);
    counts.set(label, (counts.get(label) ?? 0) + 1);
    if (counts.size > MAX_CLASSES) {
      fail(r, () => `${locate.column(0)} has more than ${MAX_CLASSES} distinct class labels (the widest output layer a model can have)`);
    }
    return label;
  });
  const classes = [...counts.keys()].sort();
  if (rows * classes.length > locate.maxCells) {
    throw new DatasetTooLargeError(
      `${rows} rows x ${classes.length} classes exceed ${locate.maxCells} one-hot target cells (DATASET_MAX_CELLS)`,
      { field: 'target', limit: locate.maxCells },
    );
  }
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const outputs = new Float32Array(rows * classes.length);
  labels.forEach((l, r) => (outputs[r * classes.length + classIndex.get(l)!] = 1));
  return { outputs, outputWidth: classes.length, classes, stats: { [names[0]]: { kind: 'categorical', counts: Object.fromEntries(counts) } } };
}

export function encodeDataset(columns: string[], rows: readonly (readonly Cell[])[], targetNames: string[], limits: DatasetLimits = NO_DATASET_LIMITS): EncodedDataset {
  const builder = new DatasetBuilder(columns, targetNames, limits);
  for (const row of rows) builder.addRow(row);
  return builder.finish();
}

/** A CSV with a header row, encoded while it is read: one row of strings exists at a time. */
export function encodeCsv(text: string, targetNames: string[], limits: DatasetLimits = NO_DATASET_LIMITS): EncodedDataset {
  let builder: DatasetBuilder | undefined;
  readCsv(
    text,
    (cells) => {
      if (builder) builder.addRow(cells);
      else builder = new DatasetBuilder(cells, targetNames, limits);
    },
    { maxColumns: limits.maxColumns, maxRows: limits.maxRows },
  );
  if (!builder) throw new DatasetError('CSV is empty: expected a header row and data rows', { field: 'body' });
  return builder.finish();
}
