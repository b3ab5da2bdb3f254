// Per-column min, max, mean and standard deviation, updated as each row arrives with Welford's update (one pass, no
// catastrophic cancellation on large columns). Values are rounded to float32 first: the statistics describe exactly
// what is stored, and match a pass over the stored Float32Array bit for bit.
import type { ColumnStats } from '../contracts/datasets.js';

export class NumericStats {
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;
  /** Complete rows so far. */
  rows = 0;

  constructor(width: number) {
    this.min = new Float64Array(width).fill(Infinity);
    this.max = new Float64Array(width).fill(-Infinity);
    this.mean = new Float64Array(width);
    this.m2 = new Float64Array(width);
  }

  /** The value of `column` in the current row; endRow() once every column of the row is in. */
  add(column: number, value: number): void {
    const v = Math.fround(value);
    if (v < this.min[column]) this.min[column] = v;
    if (v > this.max[column]) this.max[column] = v;
    const delta = v - this.mean[column];
    this.mean[column] += delta / (this.rows + 1);
    this.m2[column] += delta * (v - this.mean[column]);
  }

  endRow(): void {
    this.rows++;
  }

  of(column: number): ColumnStats {
    return { kind: 'numeric', min: this.min[column], max: this.max[column], mean: this.mean[column], std: Math.sqrt(this.m2[column] / this.rows) };
  }

  /** Every column's statistics, keyed by its name (names in column order). */
  byName(names: readonly string[]): Record<string, ColumnStats> {
    return Object.fromEntries(names.map((name, column) => [name, this.of(column)]));
  }
}
