// Sequence datasets, from JSON ({ sequences, targets }) or from a CSV with one row per step and a sequence id column,
// into the engine's layout: rows x sequenceLength x features, step after step. Every sequence has the same length;
// a ragged or empty one is refused (naming it, its length and the expected one), never padded. Targets are one per
// sequence (numbers, or a class label one-hot encoded as for tabular datasets) or one per step (numbers).
import type { Readable } from 'node:stream';
import type { ColumnStats, SequenceDatasetBody } from '../contracts/datasets.js';
import { describeCell, FINITE_FLOAT32, toNumber, type Cell } from './cells.js';
import type { StoredColumn } from './column-reader.js';
import { NumericStats } from './column-stats.js';
import { DatasetError, DatasetTooLargeError, listNames } from './dataset-error.js';
import { checkColumns, checkRow, NO_DATASET_LIMITS, pushFeatures, type DatasetLimits, type EncodedDataset } from './encode-dataset.js';
import { TargetEncoder, type TargetLocator } from './encode-targets.js';
import { GrowingArray } from './growing-array.js';
import { readCsvStream, type Delimiter } from './parse-csv.js';
const SAME_LENGTH = 'every sequence of a dataset must have the same number of steps (cut or pad them before uploading)';

const defaultNames = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

interface SequenceParts {
  features: string[];
  targetNames: string[];
  sequences: number;
  sequenceLength: number;
  perStepTargets: boolean;
  inputs: Float32Array;
  /** Per feature over every step of every sequence (what standardization uses). */
  featureStats: NumericStats;
  /** Holding sequences x targets, or sequences x sequenceLength x targets with perStepTargets. */
  targets: TargetEncoder;
  locate: TargetLocator;
}

function finish(parts: SequenceParts): EncodedDataset {
  const { features, targetNames, sequences, sequenceLength, perStepTargets, inputs, featureStats } = parts;
  const encoded = parts.targets.finish(parts.locate);
  // Features of a step are numeric; missing cells (NaN) are counted so a job knows to add "was missing" inputs.
  const columns = features.map((name, f): StoredColumn => {
    const { min, max, mean, std } = featureStats.of(f);
    return { name, type: 'numeric', role: 'feature', missing: featureStats.missing(f), distinct: -1, stats: { min, max, mean, std }, warnings: [] };
  });
  const stats = { ...featureStats.byName(features), ...encoded.stats };
  return { features, targets: targetNames, rows: sequences, inputs, ...encoded, sequenceLength, perStepTargets, stats, columns };
}

/** Steps over all sequences count as rows (they are the CSV form's rows); cells include one target row per step or per sequence. */
function checkSize(sequences: number, sequenceLength: number, features: number, targetValues: number, limits: DatasetLimits): void {
  const steps = sequences * sequenceLength;
  if (steps > limits.maxRows) {
    throw new DatasetTooLargeError(
      `dataset has ${steps} steps in all (${sequences} sequences x ${sequenceLength}), more than ${limits.maxRows} (DATASET_MAX_ROWS)`,
      { field: 'sequences', limit: limits.maxRows },
    );
  }
  const cells = steps * features + targetValues;
  if (cells > limits.maxCells) {
    throw new DatasetTooLargeError(`dataset has ${cells} values (features of every step and targets), more than ${limits.maxCells} (DATASET_MAX_CELLS)`, {
      field: 'sequences',
      limit: limits.maxCells,
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// JSON: { sequences: number[][][], targets: (number | string | number[] | number[][])[] }

type TargetValue = SequenceDatasetBody['targets'][number];

/** What targets[0] says every target looks like: a number, a class label, several numbers, or numbers per step. */
type TargetShape = { kind: 'number' } | { kind: 'label' } | { kind: 'values'; width: number } | { kind: 'steps'; width: number };

function describeTarget(value: TargetValue): string {
  if (!Array.isArray(value)) return describeCell(value);
  if (value.length === 0) return 'an empty array';
  return Array.isArray(value[0]) ? `an array of ${value.length} arrays` : `an array of ${value.length} numbers`;
}

function targetShape(first: TargetValue): TargetShape {
  if (typeof first === 'number') return { kind: 'number' };
  if (typeof first === 'string') return { kind: 'label' };
  const empty = (what: string) => new DatasetError(`targets[0] is empty: expected ${what}`, { field: 'targets[0]', sequence: 0 });
  if (first.length === 0) throw empty('a number, a class label, an array of numbers or one array of numbers per step');
  if (!Array.isArray(first[0])) return { kind: 'values', width: first.length };
  const width = (first[0] as number[]).length;
  if (width === 0) throw new DatasetError('targets[0][0] is empty: expected the target values of the first step', { field: 'targets[0][0]', sequence: 0 });
  return { kind: 'steps', width };
}

const shapeWidth = (shape: TargetShape): number => (shape.kind === 'values' || shape.kind === 'steps' ? shape.width : 1);

function shapeName(shape: TargetShape, steps: number): string {
  switch (shape.kind) {
    case 'number':
      return 'a number';
    case 'label':
      return 'a class label (string)';
    case 'values':
      return `an array of ${shape.width} numbers`;
    case 'steps':
      return `${steps} arrays of ${shape.width} numbers (one per step)`;
  }
}

/** A numeric target value within float32, else a 400 naming where it is. */
function targetNumber(value: unknown, field: string, sequence: number): number {
  const n = typeof value === 'number' ? toNumber(value) : null;
  if (n === null) throw new DatasetError(`${field}: expected ${FINITE_FLOAT32}, got ${describeCell(value as Cell)}`, { field, sequence });
  return n;
}

/** Pushes one sequence's target cells, after checking it has the shape of targets[0]. */
function pushTarget(out: TargetEncoder, value: TargetValue, shape: TargetShape, i: number, steps: number): void {
  const field = `targets[${i}]`;
  const wrongKind = () => new DatasetError(`${field}: expected ${shapeName(shape, steps)} like targets[0], got ${describeTarget(value)}`, { field, sequence: i });
  switch (shape.kind) {
    case 'number':
      if (typeof value !== 'number') throw wrongKind();
      out.add(targetNumber(value, field, i));
      return;
    case 'label':
      if (typeof value !== 'string') throw wrongKind();
      out.add(value);
      return;
    case 'values':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'number')) throw wrongKind();
      if (value.length !== shape.width) {
        throw new DatasetError(`${field} has ${value.length} values, expected ${shape.width} like targets[0]`, { field, sequence: i });
      }
      value.forEach((v, k) => out.add(targetNumber(v, `${field}[${k}]`, i)));
      return;
    case 'steps':
      if (!Array.isArray(value) || value.some((v) => !Array.isArray(v))) throw wrongKind();
      if (value.length !== steps) {
        throw new DatasetError(`${field} has ${value.length} steps, expected ${steps}: per-step targets hold one array per step of the sequence`, {
          field,
          sequence: i,
        });
      }
      (value as number[][]).forEach((step, t) => {
        if (step.length !== shape.width) {
          throw new DatasetError(`${field}[${t}] has ${step.length} values, expected ${shape.width} like targets[0][0]`, { field: `${field}[${t}]`, sequence: i });
        }
        step.forEach((v, k) => out.add(targetNumber(v, `${field}[${t}][${k}]`, i)));
      });
  }
}

export function encodeSequences(body: SequenceDatasetBody, limits: DatasetLimits = NO_DATASET_LIMITS): EncodedDataset {
  const { sequences, targets } = body;
  if (sequences.length === 0) throw new DatasetError('sequences is empty: expected at least one sequence', { field: 'sequences' });
  const steps = sequences[0].length;
  if (steps === 0) throw new DatasetError('sequences[0] is empty: expected at least one step', { field: 'sequences[0]', sequence: 0 });
  const width = sequences[0][0].length;
  if (width === 0) {
    throw new DatasetError('sequences[0][0] has no values: expected the feature values of the first step', { field: 'sequences[0][0]', sequence: 0 });
  }
  if (targets.length !== sequences.length) {
    throw new DatasetError(`targets has ${targets.length} entries, expected one per sequence (${sequences.length})`, { field: 'targets' });
  }
  const shape = targetShape(targets[0]);
  const perStepTargets = shape.kind === 'steps';
  const targetWidth = shapeWidth(shape);

  const features = body.featureNames ?? defaultNames('x', width);
  if (features.length !== width) {
    throw new DatasetError(`featureNames has ${features.length} names, expected ${width} (the values of each step)`, { field: 'featureNames' });
  }
  const targetNames = body.targetNames ?? (targetWidth === 1 ? ['y'] : defaultNames('y', targetWidth));
  if (targetNames.length !== targetWidth) {
    throw new DatasetError(`targetNames has ${targetNames.length} names, expected ${targetWidth} (the values of each target)`, { field: 'targetNames' });
  }
  checkColumns([...features, ...targetNames], targetNames, limits);
  checkSize(sequences.length, steps, width, sequences.length * (perStepTargets ? steps : 1) * targetWidth, limits);

  const inputs = new Float32Array(sequences.length * steps * width);
  // Over every step of every sequence, gathered as the values are stored (a step is a row of the features).
  const featureStats = new NumericStats(width);
  const targetEncoder = new TargetEncoder(targetNames);
  sequences.forEach((sequence, i) => {
    const field = `sequences[${i}]`;
    if (sequence.length !== steps) {
      const what = sequence.length === 0 ? 'is empty' : `has ${sequence.length} steps`;
      throw new DatasetError(`${field} ${what}, expected ${steps} like sequences[0]: ${SAME_LENGTH}`, { field, sequence: i });
    }
    sequence.forEach((step, t) => {
      if (step.length !== width) {
        throw new DatasetError(`${field}[${t}] has ${step.length} values, expected ${width} features per step (${listNames(features)})`, {
          field: `${field}[${t}]`,
          sequence: i,
        });
      }
      const offset = (i * steps + t) * width;
      step.forEach((value, f) => {
        // null is a missing value (NaN), imputed when a job trains.
        const v = value === null ? NaN : toNumber(value);
        if (v === null) {
          throw new DatasetError(`${field}[${t}][${f}] (feature "${features[f]}"): expected ${FINITE_FLOAT32}, got ${describeCell(value)}`, {
            field: `${field}[${t}][${f}]`,
            sequence: i,
            column: features[f],
          });
        }
        inputs[offset + f] = v;
        featureStats.add(f, v);
      });
    });
    pushTarget(targetEncoder, targets[i], shape, i, steps);
  });

  return finish({
    features,
    targetNames,
    sequences: sequences.length,
    sequenceLength: steps,
    perStepTargets,
    inputs,
    featureStats,
    targets: targetEncoder,
    // Only class labels can fail in the target encoder, and they are one per sequence.
    locate: {
      column: () => 'targets',
      at: (r) => ({ message: `targets[${r}]`, details: { field: `targets[${r}]`, sequence: r } }),
      maxCells: limits.maxCells,
    },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// CSV: one row per step; consecutive rows with the same sequence id form a sequence.

export interface SequenceCsvOptions {
  /** Target column names. */
  target: string[];
  /** The column holding the sequence id. */
  sequence: string;
  /** Take the target of every row (numbers) instead of the last row of each sequence only. */
  perStepTargets: boolean;
  /** The cell delimiter; by default the one detected on the header line. */
  delimiter?: Delimiter;
}

interface CsvLayout {
  columns: string[];
  sequenceIdx: number;
  featureIdx: number[];
  targetIdx: number[];
  features: string[];
}

function csvLayout(columns: string[], options: SequenceCsvOptions, limits: DatasetLimits): CsvLayout {
  checkColumns(columns, options.target, limits);
  const sequenceIdx = columns.indexOf(options.sequence);
  if (sequenceIdx < 0) {
    throw new DatasetError(`sequence column ${describeCell(options.sequence)} is not one of the columns: ${listNames(columns)}`, {
      field: 'sequence',
      column: options.sequence,
    });
  }
  if (options.target.includes(options.sequence)) {
    throw new DatasetError(`column "${options.sequence}" cannot be both the sequence id and a target`, { field: 'sequence', column: options.sequence });
  }
  const targetIdx = options.target.map((t) => columns.indexOf(t));
  const featureIdx = columns.map((_, i) => i).filter((i) => i !== sequenceIdx && !targetIdx.includes(i));
  if (featureIdx.length === 0) {
    throw new DatasetError('no feature column: expected at least one column besides the sequence id and the targets', { field: 'target' });
  }
  return { columns, sequenceIdx, featureIdx, targetIdx, features: featureIdx.map((i) => columns[i]) };
}

interface CsvSequence {
  id: string;
  /** 1-based data rows of its first and last step. */
  firstRow: number;
  lastRow: number;
}

/** A sequence CSV, encoded while its bytes arrive. */
export async function encodeSequenceCsv(input: Readable, options: SequenceCsvOptions, limits: DatasetLimits = NO_DATASET_LIMITS): Promise<EncodedDataset> {
  let layout: CsvLayout | undefined;
  let featureStats: NumericStats | undefined;
  const inputs = new GrowingArray(Float32Array);
  const targets = new TargetEncoder(options.target);
  const sequences: CsvSequence[] = [];
  const seen = new Set<string>();
  let current: CsvSequence | null = null;
  let lastTargets: Cell[] = [];
  let sequenceLength = 0;
  let rows = 0;

  const close = () => {
    if (!current) return;
    const steps = current.lastRow - current.firstRow + 1;
    if (sequences.length === 0) {
      sequenceLength = steps;
    } else if (steps !== sequenceLength) {
      const first = sequences[0];
      throw new DatasetError(
        `sequence ${sequences.length} ("${current.id}", rows ${current.firstRow} to ${current.lastRow}) has ${steps} steps, expected ` +
          `${sequenceLength} like the first sequence ("${first.id}"): ${SAME_LENGTH}`,
        { field: 'body', row: current.firstRow, sequence: sequences.length, sequenceId: current.id },
      );
    }
    if (!options.perStepTargets) for (const cell of lastTargets) targets.add(cell);
    sequences.push(current);
  };

  await readCsvStream(
    input,
    (cells) => {
      if (!layout) {
        layout = csvLayout(cells, options, limits);
        featureStats = new NumericStats(layout.features.length);
        return;
      }
      const { columns, sequenceIdx, featureIdx, targetIdx } = layout;
      const row = ++rows;
      checkRow(cells, row, columns, limits.maxCells);
      const id = cells[sequenceIdx];
      if (id === '') {
        throw new DatasetError(`row ${row}, column "${columns[sequenceIdx]}": the sequence id is empty`, {
          field: `rows[${row - 1}][${sequenceIdx}]`,
          row,
          column: columns[sequenceIdx],
        });
      }
      if (current?.id !== id) {
        close();
        if (seen.has(id)) {
          throw new DatasetError(
            `row ${row}: sequence "${id}" starts again after other sequences; the rows of a sequence must be consecutive, in step order`,
            { field: `rows[${row - 1}][${sequenceIdx}]`, row, column: columns[sequenceIdx], sequenceId: id },
          );
        }
        seen.add(id);
        current = { id, firstRow: row, lastRow: row };
      }
      current.lastRow = row;
      pushFeatures(inputs, featureStats!, cells, row, featureIdx, columns);
      if (!options.perStepTargets) {
        lastTargets = targetIdx.map((c) => cells[c]);
        return;
      }
      for (const c of targetIdx) {
        if (toNumber(cells[c]) === null) {
          throw new DatasetError(`row ${row}, column "${columns[c]}": per-step targets must be numbers, expected ${FINITE_FLOAT32}, got ${describeCell(cells[c])}`, {
            field: `rows[${row - 1}][${c}]`,
            row,
            column: columns[c],
          });
        }
        targets.add(cells[c]);
      }
    },
    { maxColumns: limits.maxColumns, maxRows: limits.maxRows },
    options.delimiter,
  );
  if (!layout) throw new DatasetError('CSV is empty: expected a header row and data rows', { field: 'body' });
  close();
  if (sequences.length === 0) throw new DatasetError('dataset has no data rows', { field: 'rows' });

  const { columns, targetIdx, features } = layout;
  return finish({
    features,
    targetNames: options.target,
    sequences: sequences.length,
    sequenceLength,
    perStepTargets: options.perStepTargets,
    inputs: inputs.toArray(),
    featureStats: featureStats!,
    targets,
    locate: {
      column: (k) => `column "${columns[targetIdx[k]]}"`,
      at: (r, k) => {
        // A per-sequence target comes from the sequence's last row; per-step targets are numbers and never get here.
        const sequence = sequences[r];
        const column = columns[targetIdx[k]];
        return {
          message: `sequence "${sequence.id}" (its last row, ${sequence.lastRow}), column "${column}"`,
          details: { field: `rows[${sequence.lastRow - 1}][${targetIdx[k]}]`, row: sequence.lastRow, column, sequence: r, sequenceId: sequence.id },
        };
      },
      maxCells: limits.maxCells,
    },
  });
}
