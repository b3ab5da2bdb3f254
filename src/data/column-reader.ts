// One column of a table as its cells arrive: what type it is (numeric, categorical, boolean), what to store for each
// cell, and what the dataset view says about it. A cell is stored as one float32: a number as itself, a label as its
// index in the column's dictionary, a missing cell as NaN. The type is known only at the end (a column of numbers may
// meet a label in its last row), so a column that has held both keeps one byte per row saying which cells were
// labels, and finish() rewrites the stored values once the type is decided.
import type { ColumnRole, ColumnType, NumericSummary } from '../contracts/datasets.js';
import { booleanValue, describeCell, isMissing, labelOf, MISSING_HELP, numberLabel, OUT_OF_RANGE, readNumber, unusableName, FINITE_FLOAT32, type Cell } from './cells.js';
import { NumericStats } from './column-stats.js';
import { DatasetError } from './dataset-error.js';
import { GrowingArray } from './growing-array.js';

/** A column as stored with its dataset (Dataset.columns). */
export interface StoredColumn {
  name: string;
  type: ColumnType;
  role: ColumnRole;
  /** Missing cells among the rows kept. */
  missing: number;
  distinct: number;
  distinctCapped?: boolean;
  stats?: NumericSummary;
  /**
   * Categorical features: every label in code order (a stored cell is an index into it). Other categorical columns
   * (ignored ones, the target): the most frequent labels, for the view.
   */
  labels?: string[];
  /** Rows carrying each label, in the order of `labels`. */
  counts?: number[];
  warnings: string[];
}

/** Distinct values counted for the view before counting stops (ignored columns' labels). */
const DISTINCT_CAP = 10_000;
/**
 * Distinct numbers remembered for the view across all the numeric columns of a table: a Set entry costs tens of
 * bytes, and an MNIST-wide table of 784 columns would otherwise keep millions of them during its upload.
 */
const DISTINCT_NUMBERS_BUDGET = 100_000;
/** A categorical feature with more labels than this is an identifier, not a category. */
export const MAX_FEATURE_CATEGORIES = 65_536;
/** Labels an ignored column keeps for the view. */
const IGNORED_LABELS = 50;

export interface CellPlace {
  /** 1-based data row, as the client counts them. */
  row: number;
  /** Column index in the upload. */
  index: number;
}

export class ColumnReader {
  private numbers = 0;
  private strings = 0;
  private missingCells = 0;
  private firstLabel: { place: CellPlace; cell: Cell } | null = null;
  private readonly codes = new Map<string, number>();
  private readonly labels: string[] = [];
  private readonly counts: number[] = [];
  private readonly distinctNumbers = new Set<number>();
  private distinctCapped = false;
  /** Whether every number so far was the previous one plus 1 (a row number), and the last of them. */
  private sequential = true;
  private previous = NaN;
  private readonly stats = new NumericStats(1);
  /** Rows stored so far, and per row whether its cell was a label; only once the column has held both kinds. */
  private stored = 0;
  private labelFlags: GrowingArray<Uint8Array> | null = null;

  /** `columns`: how many columns the table has, which share the budget of distinct numbers remembered. */
  constructor(
    readonly name: string,
    readonly role: ColumnRole,
    private readonly declared: ColumnType | undefined,
    columns = 1,
  ) {
    this.distinctCap = Math.max(100, Math.floor(DISTINCT_NUMBERS_BUDGET / columns));
  }

  private readonly distinctCap: number;

  /** The value to store for `cell` (ignored columns only count). */
  read(cell: Cell, place: CellPlace): number {
    const stored = this.stored++;
    if (isMissing(cell)) {
      this.missingCells++;
      this.labelFlags?.push(0);
      return NaN;
    }
    const read = readNumber(cell);
    const declared = this.declared;
    // A JSON number out of range is refused whatever the type; text like "1e39" may be a declared category's label.
    if (read === OUT_OF_RANGE && (declared !== 'categorical' || typeof cell === 'number')) throw this.cellError(place, cell, FINITE_FLOAT32);
    const n = typeof read === 'number' ? read : null;
    // Text that is no number is its own label (trimmed); labelOf only for what may read as one.
    if (n === null && read === null && declared !== 'numeric' && typeof cell === 'string') return this.readLabel(cell.trim(), cell, place, stored);
    if (declared === 'categorical' || (n === null && declared !== 'numeric')) return this.readLabel(labelOf(cell), cell, place, stored);
    if (n === null) throw this.cellError(place, cell, `${FINITE_FLOAT32}: the column is declared numeric`);
    if (declared === 'boolean' && n !== 0 && n !== 1) throw this.cellError(place, cell, 'true/false, yes/no or 1/0: the column is declared boolean');
    this.numbers++;
    if (this.strings > 0 && !this.labelFlags) this.startFlags(stored, 1);
    this.labelFlags?.push(0);
    this.countNumber(n);
    return n;
  }

  private readLabel(label: string, cell: Cell, place: CellPlace, stored: number): number {
    if (this.declared === 'boolean') {
      const b = booleanValue(label);
      if (b === null) throw this.cellError(place, cell, 'true/false, yes/no or 1/0: the column is declared boolean');
      this.numbers++;
      this.countNumber(b);
      return b;
    }
    this.strings++;
    this.firstLabel ??= { place, cell };
    if (this.numbers > 0 && !this.labelFlags && this.declared !== 'categorical') this.startFlags(stored, 0);
    this.labelFlags?.push(1);
    return this.codeOf(label, place);
  }

  private codeOf(label: string, place: CellPlace): number {
    let code = this.codes.get(label);
    if (code !== undefined) {
      this.counts[code]++;
      return code;
    }
    if (this.role === 'ignored') {
      if (this.codes.size >= DISTINCT_CAP) {
        this.distinctCapped = true;
        return 0;
      }
    } else {
      const problem = unusableName(label);
      if (problem) throw new DatasetError(`${where(place, this.name)}: the label ${describeCell(label)} ${problem}`, details(place, this.name));
      if (this.codes.size >= MAX_FEATURE_CATEGORIES) {
        throw new DatasetError(
          `column "${this.name}" has more than ${MAX_FEATURE_CATEGORIES} distinct values: it looks like an identifier; leave it out with ignore`,
          { field: 'ignore', column: this.name },
        );
      }
    }
    code = this.labels.length;
    this.codes.set(label, code);
    this.labels.push(label);
    this.counts.push(1);
    return code;
  }

  private countNumber(n: number): void {
    this.stats.add(0, n);
    if (this.sequential) {
      this.sequential = Number.isInteger(n) && (Number.isNaN(this.previous) || n === this.previous + 1);
      this.previous = n;
    }
    if (!this.distinctCapped) {
      this.distinctNumbers.add(Math.fround(n));
      if (this.distinctNumbers.size >= this.distinctCap) this.distinctCapped = true;
    }
  }

  /** The column holds both kinds from stored row `rows` on: every earlier row was of the one kind seen so far. */
  private startFlags(rows: number, earlier: 0 | 1): void {
    this.labelFlags = new GrowingArray(Uint8Array);
    for (let r = 0; r < rows; r++) this.labelFlags.push(earlier);
  }

  private cellError(place: CellPlace, cell: Cell, expected: string): DatasetError {
    return new DatasetError(`${where(place, this.name)}: expected ${expected}, got ${describeCell(cell)}`, details(place, this.name));
  }

  /**
   * Decides the type and rewrites this column's stored values (values[offset + r * stride] for stored row r) to
   * match it: labels of a boolean column become 1/0, numbers of a categorical column become label codes.
   */
  finish(values: Float32Array | null, stride: number, offset: number): StoredColumn {
    const type = this.decideType();
    if (type === 'boolean' && this.strings > 0) {
      const bits = this.labels.map((l) => booleanValue(l)!);
      if (values) for (let i = offset; i < values.length; i += stride) if (!Number.isNaN(values[i])) values[i] = bits[values[i]];
      // The statistics (the share of true values) and distinct count describe the stored 1s and 0s.
      bits.forEach((bit, code) => {
        for (let n = 0; n < this.counts[code]; n++) this.countNumber(bit);
      });
    }
    if (values && type === 'categorical' && this.numbers > 0) {
      // Numbers read before the column turned out categorical: each becomes the code of its label.
      const flags = this.labelFlags?.toArray();
      const nowhere = { row: 0, index: 0 };
      for (let r = 0, i = offset; i < values.length; r++, i += stride) {
        if (Number.isNaN(values[i]) || (flags && flags[r] === 1)) continue;
        values[i] = this.codeOf(numberLabel(values[i]), nowhere);
      }
    }
    return this.describe(type);
  }

  private decideType(): ColumnType {
    if (this.declared) return this.declared;
    const { numbers, strings } = this;
    if (strings === 0) return 'numeric';
    if (numbers === 0) return this.labels.every((l) => booleanValue(l) !== null) ? 'boolean' : 'categorical';
    if (numbers > strings && this.role !== 'ignored') {
      const { place, cell } = this.firstLabel!;
      throw new DatasetError(
        `${where(place, this.name)}: expected a number like the column's other ${numbers} values, got ${describeCell(cell)}; ` +
          `mark the cell missing (${MISSING_HELP}) or declare the column's type (columnTypes ${this.name}:categorical)`,
        details(place, this.name),
      );
    }
    return 'categorical';
  }

  private describe(type: ColumnType): StoredColumn {
    const values = this.numbers + this.strings;
    if (values === 0 && this.role === 'feature') {
      throw new DatasetError(`column "${this.name}": every cell is missing; leave it out with ignore`, { field: 'ignore', column: this.name });
    }
    const categorical = type === 'categorical';
    // A row number has as many distinct values as rows, however many were remembered.
    const rowNumbers = type === 'numeric' && this.sequential && this.missingCells === 0 && values > 0;
    const distinct = categorical ? this.labels.length : rowNumbers ? values : this.distinctNumbers.size;
    const column: StoredColumn = { name: this.name, type, role: this.role, missing: this.missingCells, distinct, warnings: [] };
    if (this.distinctCapped && !rowNumbers) column.distinctCapped = true;
    if (!categorical && values > 0) {
      const { min, max, mean, std } = this.stats.of(0);
      column.stats = { min, max, mean, std };
    }
    if (categorical) {
      if (this.role === 'feature') {
        column.labels = this.labels;
        column.counts = this.counts;
      } else {
        const top = this.labels.map((label, i) => ({ label, count: this.counts[i] })).sort((a, b) => b.count - a.count).slice(0, IGNORED_LABELS);
        column.labels = top.map((t) => t.label);
        column.counts = top.map((t) => t.count);
      }
    }
    column.warnings = warningsFor(column, values, rowNumbers);
    return column;
  }
}

function warningsFor(column: StoredColumn, values: number, rowNumbers: boolean): string[] {
  const warnings: string[] = [];
  if (values === 0) warnings.push('every cell is missing');
  else if (column.distinct === 1) warnings.push('constant: every value is the same, so it carries no information');
  // Categories repeat; a column where most values are new (ids, names, dates) only adds inputs that cannot generalize.
  if (column.type === 'categorical' && column.role === 'feature' && values >= 20 && column.distinct >= 0.5 * values) {
    warnings.push(`looks like an identifier (${column.distinct} distinct values in ${values} rows): ignore it?`);
  }
  if (rowNumbers && column.role === 'feature' && values >= 20) {
    warnings.push(`looks like a row number (every value a different integer from ${column.stats!.min} to ${column.stats!.max}): ignore it?`);
  }
  return warnings;
}

const where = (place: CellPlace, name: string) => `row ${place.row}, column "${name}"`;
const details = (place: CellPlace, name: string) => ({ field: `rows[${place.row - 1}][${place.index}]`, row: place.row, column: name });
