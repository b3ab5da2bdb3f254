// A fitted encoding (src/data/encoding.ts) applied: stored dataset cells -> network inputs (training, evaluate), and
// predict rows of raw values -> network inputs. Both go through one writer per column, prepared once per encoding,
// so training and prediction cannot disagree about what a value means.
import type { EncodedColumn } from '../contracts/preprocessing.js';
import { booleanValue, describeCell, isMissing, labelOf, numberLabel, toNumber, type Cell } from './cells.js';
import type { StoredColumn } from './column-reader.js';
import { DatasetError, listNames } from './dataset-error.js';
import { columnWidth, type Encoding, type RawFeatures } from './encoding.js';

/** A value that was not one of a categorical column's categories, answered through its "other" input. */
export interface UnseenValue {
  column: string;
  value: string;
}

/** Writes the inputs of one scalar column: the scaled value (or fill), then the "was missing" flag if it has one. */
function writeScalar(column: Extract<EncodedColumn, { type: 'numeric' | 'boolean' }>, v: number, out: Float32Array, at: number): void {
  const missing = Number.isNaN(v);
  out[at] = ((missing ? column.fill : v) - column.center) / column.scale;
  if (column.indicator) out[at + 1] = missing ? 1 : 0;
}

/** Category -> input offset within the column; anything else is "other" (categories.length), missing the one after. */
function slotsOf(column: Extract<EncodedColumn, { type: 'categorical' }>): Map<string, number> {
  return new Map(column.categories.map((c, i) => [c, i]));
}

/**
 * Encodes every stored row of `data` (a dataset's feature cells) with `encoding`, matching columns by name. The
 * dataset must hold every column the encoding reads, of a compatible type. Counts values the encoding has not seen.
 */
export function encodeStored(encoding: Encoding, data: RawFeatures, out?: Float32Array): { inputs: Float32Array; unseen: (UnseenValue & { rows: number })[] } {
  const dataWidth = data.columns.length;
  const rows = dataWidth === 0 ? 0 : data.values.length / dataWidth;
  const width = encoding.inputs.length;
  const inputs = out ?? new Float32Array(rows * width);
  const unseen = new Map<string, UnseenValue & { rows: number }>();
  const sources = matchColumns(encoding, data.columns);
  let offset = 0;
  for (const [k, column] of encoding.columns.entries()) {
    const source = sources[k];
    const stored = data.columns[source];
    const at = offset;
    if (column.type !== 'categorical') {
      for (let r = 0; r < rows; r++) writeScalar(column, data.values[r * dataWidth + source], inputs, r * width + at);
    } else {
      const slots = slotsOf(column);
      const other = column.categories.length;
      const labelOfCode = (v: number) => (stored.type === 'categorical' ? stored.labels![v] : stored.type === 'boolean' ? (v ? 'true' : 'false') : numberLabel(v));
      // A categorical dataset column maps code -> slot once; other types map value -> label -> slot per cell.
      const byCode = stored.type === 'categorical' ? Int32Array.from(stored.labels!, (l) => slots.get(l) ?? other) : null;
      for (let r = 0; r < rows; r++) {
        const v = data.values[r * dataWidth + source];
        const base = r * width + at;
        inputs.fill(0, base, base + other + 2);
        if (Number.isNaN(v)) {
          inputs[base + other + 1] = 1;
          continue;
        }
        const label = byCode ? null : labelOfCode(v);
        const slot = byCode ? byCode[v] : (slots.get(label!) ?? other);
        inputs[base + slot] = 1;
        if (slot === other) {
          const value = label ?? labelOfCode(v);
          const key = `${column.name}\u0000${value}`;
          const seen = unseen.get(key);
          if (seen) seen.rows++;
          else unseen.set(key, { column: column.name, value, rows: 1 });
        }
      }
    }
    offset += columnWidth(column);
  }
  return { inputs, unseen: [...unseen.values()] };
}

/**
 * Where each column an encoding reads is among a dataset's feature columns; a DatasetError (naming `field`) when one
 * is absent, or holds categories where the encoding reads numbers.
 */
export function matchColumns(encoding: Encoding, columns: readonly StoredColumn[], field = 'datasetId'): number[] {
  return encoding.columns.map((column) => {
    const source = columns.findIndex((c) => c.name === column.name);
    if (source < 0) {
      const names = columns.map((c) => c.name);
      throw new DatasetError(`the dataset has no feature column "${column.name}", which the model reads (its feature columns: ${listNames(names)})`, {
        field,
        column: column.name,
      });
    }
    if (column.type !== 'categorical' && columns[source].type === 'categorical') {
      throw new DatasetError(`column "${column.name}" holds categories in the dataset, but the model reads it as ${column.type}`, { field, column: column.name });
    }
    return source;
  });
}

/** A predict row value the model cannot read: the message names `inputs[row].column`. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

type ColumnWriter = (cell: Cell | undefined, out: Float32Array, at: number, where: () => string) => string | null;

/**
 * Predict rows -> network inputs with a fitted encoding. Built once per model (the model cache keeps it): each
 * column's writer and category lookup is prepared here, so a row costs a few map lookups.
 */
export class RowEncoder {
  readonly width: number;
  /** Every feature numeric or boolean: rows may also come as arrays of numbers in feature order. */
  readonly allScalar: boolean;
  private readonly writers: ColumnWriter[];
  private readonly offsets: number[];
  private readonly known: Set<string>;
  /** Models from before the encoding have no imputation: every feature must be in a keyed row. */
  private readonly absentAllowed: boolean;

  /**
   * `alsoKnown`: column names a keyed row may carry and that are ignored (the dataset's targets and ignored
   * columns); null for a model from before the encoding, whose rows must hold every feature.
   */
  constructor(
    readonly encoding: Encoding,
    alsoKnown: readonly string[] | null,
  ) {
    this.width = encoding.inputs.length;
    this.allScalar = encoding.columns.every((c) => c.type !== 'categorical');
    this.writers = encoding.columns.map((c) => writerFor(c, alsoKnown !== null));
    this.offsets = [];
    let offset = 0;
    for (const column of encoding.columns) {
      this.offsets.push(offset);
      offset += columnWidth(column);
    }
    this.known = new Set([...encoding.columns.map((c) => c.name), ...(alsoKnown ?? [])]);
    this.absentAllowed = alsoKnown !== null;
  }

  /** A row of values in feature order (numbers, null for missing), written at out[at...]. */
  encodeArray(values: ArrayLike<number | null>, out: Float32Array, at: number, where: () => string): void {
    const columns = this.encoding.columns;
    for (let c = 0; c < columns.length; c++) {
      const v = values[c];
      this.writers[c](v === null ? null : v, out, at + this.offsets[c], () => `${where()}[${c}]`);
    }
  }

  /** A row keyed by column name, written at out[at...]; returns the unseen categories it held. */
  encodeObject(row: Record<string, Cell>, out: Float32Array, at: number, where: string): UnseenValue[] {
    let unseen: UnseenValue[] | null = null;
    const columns = this.encoding.columns;
    const keys = Object.keys(row);
    const unknown = keys.filter((k) => !this.known.has(k));
    const absent = this.absentAllowed ? [] : columns.filter((c) => !Object.hasOwn(row, c.name)).map((c) => c.name);
    if (unknown.length || absent.length) {
      const parts = [absent.length ? `missing ${listNames(absent)}` : '', unknown.length ? `unknown ${listNames(unknown)}` : ''].filter(Boolean);
      throw new InputError(`${where}: expected the columns ${listNames(columns.map((c) => c.name))}; ${parts.join('; ')}`, where);
    }
    for (let c = 0; c < columns.length; c++) {
      const name = columns[c].name;
      const value = this.writers[c](Object.hasOwn(row, name) ? row[name] : null, out, at + this.offsets[c], () => `${where}.${name}`);
      if (value !== null) (unseen ??= []).push({ column: name, value });
    }
    return unseen ?? [];
  }
}

/** `imputes`: whether the model learnt what a missing value becomes (models from before the encoding did not). */
function writerFor(column: EncodedColumn, imputes: boolean): ColumnWriter {
  if (column.type === 'categorical') return categoryWriter(column);
  const read = column.type === 'numeric' ? readNumber : readBoolean;
  return (cell, out, at, where) => {
    const missing = isMissing(cell ?? null);
    if (missing && !imputes) {
      throw new InputError(`${where()}: expected a number; this model was trained before missing values were supported, so it cannot impute one`, where());
    }
    writeScalar(column, missing ? NaN : read(cell!, where), out, at);
    return null;
  };
}

function readNumber(cell: Cell, where: () => string): number {
  const v = typeof cell === 'number' ? toNumber(cell) : null;
  if (v === null) throw new InputError(`${where()}: expected a finite number (or null for missing), got ${describeCell(cell)}`, where());
  // Datasets store float32: a value is rounded the same way here, so a row predicts exactly as it trained.
  return Math.fround(v);
}

function readBoolean(cell: Cell, where: () => string): number {
  const v = typeof cell === 'boolean' ? Number(cell) : typeof cell === 'string' ? booleanValue(cell.trim()) : cell === 0 || cell === 1 ? cell : null;
  if (v === null) throw new InputError(`${where()}: expected true/false, yes/no or 1/0 (or null for missing), got ${describeCell(cell)}`, where());
  return v;
}

/** One-hot: the category's input, or "other" for a value not among them (returned, to be reported); missing last. */
function categoryWriter(column: Extract<EncodedColumn, { type: 'categorical' }>): ColumnWriter {
  const slots = slotsOf(column);
  const other = column.categories.length;
  return (cell, out, at) => {
    out.fill(0, at, at + other + 2);
    if (isMissing(cell ?? null)) {
      out[at + other + 1] = 1;
      return null;
    }
    const label = labelOf(cell!);
    const slot = slots.get(label);
    out[at + (slot ?? other)] = 1;
    return slot === undefined ? label : null;
  };
}
