// Target cells, one target row at a time, into the engine's targets: numbers as they are or, when any cell is not a
// number, the class labels of a single target column one-hot encoded in sorted class order. While rows arrive the
// encoder keeps a float32 per value (while every cell so far is a number) and a class index per row (while the
// labels so far could be classes); the one-hot matrix is built once at the end, when the classes are known. The
// first label that could not be a class is remembered and reported at the end, and only if the target is classes.
import type { ColumnStats } from '../contracts/datasets.js';
import { MAX_LAYER_UNITS } from '../contracts/model-spec.js';
import { NumericStats } from './column-stats.js';
import { DatasetError, DatasetTooLargeError } from './dataset-error.js';
import { describeCell, labelOf, toNumber, unusableName, type Cell } from './cells.js';
import { GrowingArray } from './growing-array.js';

/** The widest output layer a model may have, hence the most classes a target can usefully have. */
const MAX_CLASSES = MAX_LAYER_UNITS;

/** How the encoder names a target and the cell it found at fault. */
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

export class TargetEncoder {
  private readonly width: number;
  private cells = 0;
  /** Null once a cell is not a number: the target is then classes. */
  private values: GrowingArray<Float32Array> | null = new GrowingArray(Float32Array);
  private readonly numericStats: NumericStats;
  /** Class index per row, for a single target column, until a label turns out unusable as a class. */
  private classIds: GrowingArray<Uint16Array> | null;
  /** Label -> class index, in order of first appearance; counts[index] rows carry it. */
  private readonly classOf = new Map<string, number>();
  private readonly counts: number[] = [];
  /** The first label that cannot be a class, as the error to raise if the target is classes. */
  private labelError: ((locate: TargetLocator) => DatasetError) | null = null;

  /** kind 'classes': the cells are class labels even when they are numbers (a target declared categorical). */
  constructor(
    private readonly names: readonly string[],
    kind?: 'classes',
  ) {
    this.width = names.length;
    this.numericStats = new NumericStats(this.width);
    this.classIds = this.width === 1 ? new GrowingArray(Uint16Array) : null;
    if (kind === 'classes') this.values = null;
  }

  /** The next target cell: row after row, `names.length` cells per row. */
  add(cell: Cell): void {
    const k = this.cells % this.width;
    const r = (this.cells - k) / this.width;
    this.cells++;
    if (this.values) {
      const v = toNumber(cell);
      if (v === null) {
        this.values = null;
      } else {
        this.values.push(v);
        this.numericStats.add(k, v);
      }
    }
    if (this.classIds) this.addLabel(typeof cell === 'string' ? cell.trim() : labelOf(cell), r);
  }

  private addLabel(label: string, r: number): void {
    // Messages are built only on failure: this runs once per row.
    const fail = (what: (where: string, locate: TargetLocator) => string) => {
      this.labelError = (locate) => {
        const { message, details } = locate.at(r, 0);
        return new DatasetError(what(message, locate), details);
      };
      this.classIds = null;
    };
    if (label === '') return fail((where) => `${where}: class label is empty`);
    const problem = unusableName(label);
    if (problem) return fail((where) => `${where}: the class label ${describeCell(label)} ${problem}`);
    let id = this.classOf.get(label);
    if (id === undefined) {
      if (this.classOf.size === MAX_CLASSES) {
        return fail((_, locate) => `${locate.column(0)} has more than ${MAX_CLASSES} distinct class labels (the widest output layer a model can have)`);
      }
      id = this.classOf.size;
      this.classOf.set(label, id);
      this.counts.push(0);
    }
    this.counts[id]++;
    this.classIds!.push(id);
  }

  finish(locate: TargetLocator): EncodedTargets {
    const rows = this.cells / this.width;
    if (this.values) {
      const stats = this.numericStats.byName(this.names);
      return { outputs: this.values.toArray(), outputWidth: this.width, stats };
    }
    if (this.width !== 1) {
      throw new DatasetError('a non-numeric target must be a single column (its values become classes)', { field: 'target' });
    }
    if (this.labelError) throw this.labelError(locate);
    const classes = [...this.classOf.keys()].sort();
    if (rows * classes.length > locate.maxCells) {
      throw new DatasetTooLargeError(
        `${rows} rows x ${classes.length} classes exceed ${locate.maxCells} one-hot target cells (DATASET_MAX_CELLS)`,
        { field: 'target', limit: locate.maxCells },
      );
    }
    const column = new Uint16Array(classes.length);
    classes.forEach((label, c) => (column[this.classOf.get(label)!] = c));
    const ids = this.classIds!.toArray();
    const outputs = new Float32Array(rows * classes.length);
    for (let r = 0; r < rows; r++) outputs[r * classes.length + column[ids[r]]] = 1;
    const counts = Object.fromEntries([...this.classOf].map(([label, id]) => [label, this.counts[id]]));
    return { outputs, outputWidth: classes.length, classes, stats: { [this.names[0]]: { kind: 'categorical', counts } } };
  }
}
