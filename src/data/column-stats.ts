// Per-column min, max, mean and standard deviation, updated as each value arrives with Welford's update (one pass,
// no catastrophic cancellation on large columns). Values are rounded to float32 first: the statistics describe exactly
// what is stored, and match a pass over the stored Float32Array bit for bit. Missing values (NaN) are counted, not
// averaged in: each column keeps its own count of values.
import type { ColumnStats } from '../contracts/datasets.js';

export class NumericStats {
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private readonly count: Float64Array;
  private readonly missingCount: Float64Array;

  constructor(width: number) {
    this.min = new Float64Array(width).fill(Infinity);
    this.max = new Float64Array(width).fill(-Infinity);
    this.mean = new Float64Array(width);
    this.m2 = new Float64Array(width);
    this.count = new Float64Array(width);
    this.missingCount = new Float64Array(width);
  }

  /** The value of `column` in the current row; NaN is a missing value. */
  add(column: number, value: number): void {
    if (Number.isNaN(value)) {
      this.missingCount[column]++;
      return;
    }
    const v = Math.fround(value);
    if (v < this.min[column]) this.min[column] = v;
    if (v > this.max[column]) this.max[column] = v;
    const n = ++this.count[column];
    const delta = v - this.mean[column];
    this.mean[column] += delta / n;
    this.m2[column] += delta * (v - this.mean[column]);
  }

  missing(column: number): number {
    return this.missingCount[column];
  }

  /** Values (not missing) seen in `column`. */
  values(column: number): number {
    return this.count[column];
  }

  of(column: number): Extract<ColumnStats, { kind: 'numeric' }> {
    if (this.count[column] === 0) return { kind: 'numeric', min: 0, max: 0, mean: 0, std: 0 };
    return { kind: 'numeric', min: this.min[column], max: this.max[column], mean: this.mean[column], std: Math.sqrt(this.m2[column] / this.count[column]) };
  }

  /** Every column's statistics, keyed by its name (names in column order). */
  byName(names: readonly string[]): Record<string, ColumnStats> {
    return Object.fromEntries(names.map((name, column) => [name, this.of(column)]));
  }
}
