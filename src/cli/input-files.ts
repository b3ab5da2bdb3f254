// Reading the files named on the command line: a job spec, and prediction inputs as JSON or CSV.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { ColumnType } from '../contracts/datasets.js';
import { createJobBodySchema } from '../contracts/jobs.js';
import { DatasetError } from '../data/dataset-error.js';
import { isMissing, toNumber } from '../data/cells.js';
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

/** A JSON file, parsed (a sweep file; the caller checks its shape). */
export const readJson = async (path: string): Promise<unknown> => parseJsonFile(path, await readText(path));

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

/** What a CSV needs to know of the model (GET /v1/models/:id): its feature columns and their types. */
export interface ModelShape {
  features: string[];
  spec: { sequenceLength?: number };
  /** Models from before typed columns have no `columns`: their features are all numeric. */
  preprocessing: { columns?: { name: string; type: ColumnType }[] };
}

/** Passed through as written: the API checks each row against the model (flat rows, rows of steps, or objects). */
export type InputRows = unknown[];

export interface Inputs {
  rows: InputRows;
  /** Where row i came from, for messages about it: `inputs[3]` of a JSON file, `data.csv line 5` of a CSV. */
  where(row: number): string;
}

/**
 * JSON: an array of rows (number arrays in feature order, or objects keyed by column name with raw values), or
 * { inputs: [...] }. CSV: a header row, then one row per prediction, sent keyed by column name; only the model's
 * feature columns are sent, so the training CSV itself (with its target and ignored columns) can be used.
 */
export async function readInputs(path: string, model: () => Promise<ModelShape>): Promise<Inputs> {
  const text = await readText(path);
  if (extname(path).toLowerCase() === '.json') {
    const value = parseJsonFile(path, text);
    const rows = Array.isArray(value) ? value : (value as { inputs?: unknown } | null)?.inputs;
    if (!Array.isArray(rows)) throw new CliError(`${path}: expected an array of rows or { "inputs": [...] }`);
    return { rows, where: (row) => `inputs[${row}]` };
  }
  const shape = await model();
  if (shape.spec.sequenceLength) throw new CliError(`${path}: this model reads sequences; give its inputs as JSON (rows of steps of feature values)`);
  return csvRows(path, text, shape);
}

type RawValue = number | string | null;

/**
 * A CSV cell as the API takes it for a column of this type: missing (empty, NA, ?, ...) as null, a number for a
 * numeric column, the text itself for a categorical one, and for a boolean 1/0 as numbers (true/false and yes/no
 * go as text). Null when the cell does not fit a numeric column.
 */
function rawValue(cell: string | undefined, type: ColumnType): RawValue | undefined {
  if (isMissing(cell)) return null;
  if (type === 'categorical') return cell!;
  const n = toNumber(cell!);
  if (type === 'numeric') return n ?? undefined;
  return n === 0 || n === 1 ? n : cell!;
}

function csvRows(path: string, text: string, model: ModelShape): Inputs {
  const types = new Map((model.preprocessing.columns ?? []).map((c) => [c.name, c.type]));
  const features = model.features.map((name) => ({ name, type: types.get(name) ?? ('numeric' as const) }));
  /** Position in a record of each feature, once the header is read. */
  let columns: number[] | null = null;
  const rows: Record<string, RawValue>[] = [];
  const lines: number[] = [];
  const onRecord = (cells: string[], line: number) => {
    if (!columns) {
      const missing = model.features.filter((f) => !cells.includes(f));
      if (missing.length) throw new CliError(`${path}: the model needs column(s) ${missing.join(', ')}; the header has ${cells.join(', ')}`);
      columns = model.features.map((f) => cells.indexOf(f));
      return;
    }
    const row: Record<string, RawValue> = {};
    const at = columns;
    features.forEach(({ name, type }, i) => {
      const value = rawValue(cells[at[i]], type);
      if (value === undefined) throw new CliError(`${path}, line ${line}: column ${name} is not a number ("${cells[at[i]]}")`);
      row[name] = value;
    });
    rows.push(row);
    lines.push(line);
  };
  try {
    readCsv(text, onRecord);
  } catch (err) {
    throw err instanceof DatasetError ? new CliError(`${path}: ${err.message}`) : err;
  }
  if (!rows.length) throw new CliError(`${path}: expected a header row and at least one data row`);
  return { rows, where: (row) => `${path} line ${lines[row]}` };
}
