// Reading the files named on the command line: a job spec, and prediction inputs as JSON or CSV.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { createJobBodySchema } from '../contracts/jobs.js';
import { DatasetError } from '../data/dataset-error.js';
import { readCsv } from '../data/parse-csv.js';
import { CliError } from './errors.js';

/** The spec file holds a job body without its dataset: { model, training?, preprocessing? }. */
const jobSpecSchema = createJobBodySchema.omit({ datasetId: true });

export async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function parseJsonFile(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path}: not valid JSON (${(err as Error).message})`);
  }
}

/** Checked here with the API's own schema, so a typo fails before the dataset is uploaded; sent as written. */
export async function readJobSpec(path: string): Promise<Record<string, unknown>> {
  const spec = parseJsonFile(path, await readText(path));
  const checked = jobSpecSchema.safeParse(spec);
  if (!checked.success) {
    const issues = checked.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new CliError(`${path} is not a job spec ({ model, training?, preprocessing? }):\n${issues.join('\n')}`);
  }
  return spec as Record<string, unknown>;
}

/** What a CSV needs to know of the model (GET /v1/models/:id). */
export interface ModelShape {
  features: string[];
  spec: { sequenceLength?: number };
}

/** Passed through as written: the API checks each row against the model (flat rows, rows of steps, or objects). */
export type InputRows = unknown[];

/**
 * JSON: an array of rows (number arrays in feature order, or objects keyed by feature name), or { inputs: [...] }.
 * CSV: a header row, then one row per prediction; only the model's feature columns are sent, so the training CSV
 * itself (with its target column) can be used.
 */
export async function readInputs(path: string, model: () => Promise<ModelShape>): Promise<InputRows> {
  const text = await readText(path);
  if (extname(path).toLowerCase() === '.json') {
    const value = parseJsonFile(path, text);
    const rows = Array.isArray(value) ? value : (value as { inputs?: unknown } | null)?.inputs;
    if (!Array.isArray(rows)) throw new CliError(`${path}: expected an array of rows or { "inputs": [...] }`);
    return rows;
  }
  const { features, spec } = await model();
  if (spec.sequenceLength) throw new CliError(`${path}: this model reads sequences; give its inputs as JSON (rows of steps of feature values)`);
  return csvRows(path, text, features);
}

function csvRows(path: string, text: string, features: string[]): Record<string, number>[] {
  /** Position in a record of each feature, once the header is read. */
  let columns: number[] | null = null;
  const rows: Record<string, number>[] = [];
  const onRecord = (cells: string[], line: number) => {
    if (!columns) {
      const missing = features.filter((f) => !cells.includes(f));
      if (missing.length) throw new CliError(`${path}: the model needs column(s) ${missing.join(', ')}; the header has ${cells.join(', ')}`);
      columns = features.map((f) => cells.indexOf(f));
      return;
    }
    const row: Record<string, number> = {};
    const at = columns;
    features.forEach((f, i) => {
      const cell = cells[at[i]];
      const value = cell === undefined || cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(value)) throw new CliError(`${path}, line ${line}: column ${f} is not a number ("${cell ?? ''}")`);
      row[f] = value;
    });
    rows.push(row);
  };
  try {
    readCsv(text, onRecord);
  } catch (err) {
    throw err instanceof DatasetError ? new CliError(`${path}: ${err.message}`) : err;
  }
  if (!rows.length) throw new CliError(`${path}: expected a header row and at least one data row`);
  return rows;
}
