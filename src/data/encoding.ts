// Data preparation as a fitted, stored object (scikit-learn's ColumnTransformer with SimpleImputer, StandardScaler
// and OneHotEncoder): fitEncoding learns it from a job's training rows only, it is stored with the model, and the
// same encoding turns stored datasets (training, evaluate) and predict rows into network inputs
// (src/data/encode-inputs.ts). Nothing here is refitted at predict or evaluate.
import type { EncodedColumn, PreprocessingOptions, StoredPreprocessing } from '../contracts/preprocessing.js';
import type { StoredColumn } from './column-reader.js';

/** A fitted encoding: per feature column how its raw value becomes inputs, and the regression targets' scale. */
export interface Encoding {
  columns: EncodedColumn[];
  /** Names of the inputs, in order. */
  inputs: string[];
  target?: { center: number[]; scale: number[] };
}

/** A constant column has std 0; dividing by 1 instead keeps it finite (it carries no information anyway). */
const safeScale = (std: number): number => (std > 1e-12 ? std : 1);

export const OTHER = '(other)';
export const MISSING = '(missing)';

/** Inputs of one column: a value (and its "was missing" flag), or one per category, then other and missing. */
export function columnWidth(column: EncodedColumn): number {
  return column.type === 'categorical' ? column.categories.length + 2 : column.indicator ? 2 : 1;
}

function inputNames(column: EncodedColumn): string[] {
  if (column.type !== 'categorical') return column.indicator ? [column.name, `${column.name} ${MISSING}`] : [column.name];
  return [...column.categories, OTHER, MISSING].map((c) => `${column.name}=${c}`);
}

export function encodingOf(columns: EncodedColumn[], target?: Encoding['target']): Encoding {
  return { columns, inputs: columns.flatMap(inputNames), ...(target ? { target } : {}) };
}

/** The fitted encoding a stored preprocessing carries, or null when it still has to be fitted (a job not yet run). */
export function storedEncoding(p: StoredPreprocessing, features: readonly string[]): Encoding | null {
  if (p.columns) return encodingOf(p.columns, p.target);
  if (p.impute !== undefined) return null; // options of a job whose first run has not fitted them yet
  // A model from before the encoding: every feature numeric, standardized with the stored statistics or not at all.
  const columns = features.map((name, i): EncodedColumn => {
    const scaled = p.standardize && p.mean && p.std;
    return { name, type: 'numeric', fill: scaled ? p.mean![i] : 0, indicator: false, center: scaled ? p.mean![i] : 0, scale: scaled ? p.std![i] : 1 };
  });
  return encodingOf(columns);
}

/** The encoding as stored with a model: the options it was fitted with, and the fitted form. */
export function toStoredPreprocessing(options: PreprocessingOptions, encoding: Encoding, ignored: string[]): StoredPreprocessing {
  return { ...options, columns: encoding.columns, inputs: encoding.inputs, ignored, ...(encoding.target ? { target: encoding.target } : {}) };
}

/**
 * The most inputs `options` can fit to for these feature columns (the training rows hold at most every category and
 * every missing cell of the dataset): what a job is checked against before its first run fits the exact encoding.
 */
export function widestEncoding(columns: readonly StoredColumn[], options: PreprocessingOptions): number {
  let width = 0;
  for (const c of columns) width += c.type === 'categorical' ? Math.min(c.distinct, options.maxCategories) + 2 : c.missing > 0 ? 2 : 1;
  return width;
}

/** The raw data an encoding is fitted on: a dataset's stored feature cells, `steps` stored rows per sample. */
export interface RawFeatures {
  columns: readonly StoredColumn[];
  /** Stored rows x columns.length. */
  values: Float32Array;
  steps: number;
}

/** Fits the encoding of every feature column on the samples `fitRows` (the training split) of `data`. */
export function fitEncoding(options: PreprocessingOptions, data: RawFeatures, fitRows: Uint32Array): Encoding {
  const width = data.columns.length;
  const columns = data.columns.map((column, c): EncodedColumn => {
    const cells = (visit: (v: number) => void) => {
      for (const sample of fitRows) {
        for (let t = 0; t < data.steps; t++) visit(data.values[(sample * data.steps + t) * width + c]);
      }
    };
    return column.type === 'categorical' ? fitCategories(column, cells, options.maxCategories) : fitScalar(column, cells, options);
  });
  return encodingOf(columns);
}

function fitScalar(column: StoredColumn, cells: (visit: (v: number) => void) => void, options: PreprocessingOptions): EncodedColumn {
  let count = 0;
  let missing = 0;
  let mean = 0;
  let m2 = 0;
  cells((v) => {
    if (Number.isNaN(v)) {
      missing++;
      return;
    }
    const delta = v - mean;
    mean += delta / ++count;
    m2 += delta * (v - mean);
  });
  const std = count > 0 ? Math.sqrt(m2 / count) : 0;
  const fill = count === 0 ? 0 : options.impute === 'median' ? median(cells, count) : mean;
  const scaled = options.standardize && column.type === 'numeric' && count > 0;
  return {
    name: column.name,
    type: column.type === 'boolean' ? 'boolean' : 'numeric',
    fill,
    indicator: missing > 0,
    center: scaled ? mean : 0,
    scale: scaled ? safeScale(std) : 1,
  };
}

function median(cells: (visit: (v: number) => void) => void, count: number): number {
  const values = new Float64Array(count);
  let i = 0;
  cells((v) => {
    if (!Number.isNaN(v)) values[i++] = v;
  });
  values.sort();
  const mid = count >> 1;
  return count % 2 === 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

/** The most frequent categories of the training rows, at most `max`; ties in label order, so the fit is deterministic. */
function fitCategories(column: StoredColumn, cells: (visit: (v: number) => void) => void, max: number): EncodedColumn {
  const labels = column.labels ?? [];
  const counts = new Float64Array(labels.length);
  cells((v) => {
    if (!Number.isNaN(v)) counts[v]++;
  });
  const ranked = labels
    .map((label, code) => ({ label, count: counts[code] }))
    .filter((c) => c.count > 0)
    .sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  return { name: column.name, type: 'categorical', categories: ranked.slice(0, max).map((c) => c.label) };
}

/** Per target value: mean and standard deviation over the training samples (every step of per-step targets). */
export function fitTargetScale(outputs: Float32Array, targetWidth: number, perSample: number, fitRows: Uint32Array): Encoding['target'] {
  const center = new Array<number>(targetWidth).fill(0);
  const m2 = new Array<number>(targetWidth).fill(0);
  let n = 0;
  for (const sample of fitRows) {
    for (let t = 0; t < perSample; t++) {
      n++;
      const at = (sample * perSample + t) * targetWidth;
      for (let k = 0; k < targetWidth; k++) {
        const v = outputs[at + k];
        const delta = v - center[k];
        center[k] += delta / n;
        m2[k] += delta * (v - center[k]);
      }
    }
  }
  return { center, scale: m2.map((s) => safeScale(Math.sqrt(s / n))) };
}
