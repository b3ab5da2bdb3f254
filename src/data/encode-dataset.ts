// Turns a table of cells (from JSON or CSV) into the packed arrays the engine trains on, or a DatasetError that
// names the row and column at fault. Feature columns must be numeric; a single non-numeric target column becomes
// classes (one-hot here, labels at prediction time).
import type { ColumnStats } from '../contracts/datasets.js';
import { DatasetError } from './dataset-error.js';

export type Cell = number | string;

export interface EncodedDataset {
  features: string[];
  targets: string[];
  classes?: string[];
  rows: number;
  /** rows x features.length */
  inputs: Float32Array;
  /** rows x outputWidth (classes.length for classification, targets.length otherwise) */
  outputs: Float32Array;
  outputWidth: number;
  stats: Record<string, ColumnStats>;
}

function toNumber(cell: Cell): number | null {
  if (typeof cell === 'number') return Number.isFinite(cell) ? cell : null;
  const text = cell.trim();
  if (text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function describe(cell: Cell): string {
  return typeof cell === 'string' ? JSON.stringify(cell) : String(cell);
}

function checkColumns(columns: string[], target: string[]): void {
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    if (c.trim() === '') throw new DatasetError(`column ${i + 1} has an empty name`, { field: `columns[${i}]` });
    if (seen.has(c)) throw new DatasetError(`column "${c}" appears twice`, { field: `columns[${i}]`, column: c });
    seen.add(c);
  });
  for (const t of target) {
    if (!seen.has(t)) {
      throw new DatasetError(`target column "${t}" is not one of the columns: ${columns.join(', ')}`, {
        field: 'target',
        column: t,
      });
    }
  }
  if (target.length >= columns.length) {
    throw new DatasetError('every column is a target: expected at least one feature column', { field: 'target' });
  }
  if (new Set(target).size !== target.length) throw new DatasetError('target names a column twice', { field: 'target' });
}

function numericStats(values: Float32Array, stride: number, offset: number, rows: number): ColumnStats {
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

export function encodeDataset(columns: string[], rows: Cell[][], targetNames: string[]): EncodedDataset {
  checkColumns(columns, targetNames);
  if (rows.length === 0) throw new DatasetError('dataset has no data rows', { field: 'rows' });
  const width = columns.length;
  rows.forEach((row, r) => {
    if (row.length !== width) {
      throw new DatasetError(`row ${r + 1} has ${row.length} cells, expected ${width} (${columns.join(', ')})`, {
        field: `rows[${r}]`,
        row: r + 1,
      });
    }
  });

  const targetIdx = targetNames.map((t) => columns.indexOf(t));
  const featureIdx = columns.map((_, i) => i).filter((i) => !targetIdx.includes(i));
  const features = featureIdx.map((i) => columns[i]);
  const n = rows.length;

  const inputs = new Float32Array(n * features.length);
  for (let r = 0; r < n; r++) {
    for (let f = 0; f < featureIdx.length; f++) {
      const cell = rows[r][featureIdx[f]];
      const v = toNumber(cell);
      if (v === null) {
        throw new DatasetError(
          `row ${r + 1}, column "${features[f]}": expected a finite number, got ${describe(cell)}`,
          { field: `rows[${r}][${featureIdx[f]}]`, row: r + 1, column: features[f] },
        );
      }
      inputs[r * features.length + f] = v;
    }
  }

  const stats: Record<string, ColumnStats> = {};
  features.forEach((name, f) => (stats[name] = numericStats(inputs, features.length, f, n)));

  const categorical = targetIdx.some((t) => rows.some((row) => toNumber(row[t]) === null));
  if (categorical) {
    if (targetIdx.length !== 1) {
      throw new DatasetError('a non-numeric target must be a single column (its values become classes)', {
        field: 'target',
      });
    }
    const t = targetIdx[0];
    const labels = rows.map((row, r) => {
      const label = String(row[t]).trim();
      if (label === '') {
        throw new DatasetError(`row ${r + 1}, column "${columns[t]}": class label is empty`, {
          field: `rows[${r}][${t}]`,
          row: r + 1,
          column: columns[t],
        });
      }
      return label;
    });
    const classes = [...new Set(labels)].sort();
    const counts: Record<string, number> = {};
    for (const l of labels) counts[l] = (counts[l] ?? 0) + 1;
    stats[columns[t]] = { kind: 'categorical', counts };
    const outputs = new Float32Array(n * classes.length);
    labels.forEach((l, r) => (outputs[r * classes.length + classes.indexOf(l)] = 1));
    return { features, targets: targetNames, classes, rows: n, inputs, outputs, outputWidth: classes.length, stats };
  }

  const outputs = new Float32Array(n * targetIdx.length);
  rows.forEach((row, r) => targetIdx.forEach((t, k) => (outputs[r * targetIdx.length + k] = toNumber(row[t]) as number)));
  targetNames.forEach((name, k) => (stats[name] = numericStats(outputs, targetIdx.length, k, n)));
  return { features, targets: targetNames, rows: n, inputs, outputs, outputWidth: targetIdx.length, stats };
}
