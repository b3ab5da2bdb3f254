/**
 * Encoding at predict: keyed raw rows, as a predict body's objects arrive after JSON parsing, through the model's
 * RowEncoder.encodeObject, the call src/api/routes/models.ts makes per row (with its `inputs[r]` label), into one
 * input matrix. Timed over every row of the table, in several samples; the median sample is reported.
 */
import { RowEncoder } from '../src/data/encode-inputs.js';
import type { Cell } from '../src/data/cells.js';
import type { PreparedTable } from './real-tables.js';

const SAMPLES = 9;
/** Passes over the table per sample: enough for a sample to last tens of milliseconds. */
const PASSES = 100;

export interface EncodingTiming {
  rows: number;
  /** Keys per row: every column of the table (features, the target and ignored columns). */
  keys: number;
  microsPerRow: number;
  /** microsPerRow scaled to a row of 10 keys, the size the target is stated for. */
  microsPer10Keys: number;
  samples: number;
}

export function timeRowEncoding(table: PreparedTable, rows: Record<string, Cell>[]): EncodingTiming {
  const encoder = new RowEncoder(table.encoding, table.alsoKnown);
  const width = encoder.width;
  const x = new Float32Array(rows.length * width);
  const pass = () => {
    for (let r = 0; r < rows.length; r++) encoder.encodeObject(rows[r], x, r * width, `inputs[${r}]`);
  };
  for (let i = 0; i < PASSES; i++) pass(); // warm-up: the JIT sees every path before timing
  const perRow: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const started = performance.now();
    for (let i = 0; i < PASSES; i++) pass();
    perRow.push(((performance.now() - started) * 1000) / (PASSES * rows.length));
  }
  const microsPerRow = perRow.sort((a, b) => a - b)[SAMPLES >> 1];
  const keys = Object.keys(rows[0]).length;
  return { rows: rows.length, keys, microsPerRow, microsPer10Keys: (microsPerRow * 10) / keys, samples: SAMPLES };
}
