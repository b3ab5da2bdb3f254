/**
 * The three real tables of vega-datasets, prepared exactly as the service prepares a job's data: stored as the
 * datasets route stores an upload (encodeDataset for a JSON body of columns and rows, encodeCsv for a text/csv
 * body), then, as loadTrainingInput (src/queue/producer.ts) does at a job's first run, the engine's seeded split,
 * the encoding fitted on the training rows only, the inputs encoded and regression targets standardized.
 */
import { createReadStream } from 'node:fs';
import type { EvaluationContext } from '../src/contracts/job-data.js';
import { DEFAULT_PREPROCESSING } from '../src/contracts/preprocessing.js';
import { encodeCsv, encodeDataset, type EncodedDataset, type TableOptions } from '../src/data/encode-dataset.js';
import { encodeStored } from '../src/data/encode-inputs.js';
import { fitEncoding, fitTargetScale, type Encoding } from '../src/data/encoding.js';
import { splitRows, type LossName, type ModelSpec, type TrainingOptions } from '../src/engine/index.js';
import { cars, penguins } from '../test/helpers/tables.js';

const dataDir = new URL('../node_modules/vega-datasets/data/', import.meta.url);

/** Every table trains the same kind of job: one hidden layer of 16 relu units, Adam, batches of 16, 20% held out. */
export const HIDDEN_UNITS = 16;
export const LEARNING_RATE = 0.01;
export const BATCH_SIZE = 16;
export const VALIDATION_SPLIT = 0.2;

export interface TableCase {
  name: string;
  file: string;
  target: string;
  options: TableOptions;
  epochs: number;
  seed: number;
  /** The dataset as the datasets route stores it. */
  load(): Promise<EncodedDataset>;
}

/** A JSON body { columns, rows } as a client sends a table of objects: columns in the first row's key order. */
function fromJson(rows: Record<string, string | number | null>[], target: string, options: TableOptions): EncodedDataset {
  const columns = Object.keys(rows[0]);
  return encodeDataset(columns, rows.map((r) => columns.map((c) => r[c])), [target], undefined, options);
}

export const TABLE_CASES: TableCase[] = [
  {
    name: 'penguins',
    file: 'penguins.json',
    target: 'Species',
    options: {},
    epochs: 60,
    seed: 1,
    load: async () => fromJson(penguins(), 'Species', {}),
  },
  {
    name: 'cars',
    file: 'cars.json',
    target: 'Miles_per_Gallon',
    options: { ignore: ['Name', 'Year'] },
    epochs: 150,
    seed: 2,
    load: async () => fromJson(cars(), 'Miles_per_Gallon', { ignore: ['Name', 'Year'] }),
  },
  {
    name: 'seattle-weather',
    file: 'seattle-weather.csv',
    target: 'weather',
    options: { ignore: ['date'] },
    epochs: 60,
    seed: 3,
    load: () => encodeCsv(createReadStream(new URL('seattle-weather.csv', dataDir)), ['weather'], undefined, { ignore: ['date'] }),
  },
];

export interface PreparedTable {
  table: TableCase;
  data: EncodedDataset;
  /** Columns of the upload, targets and ignored ones included. */
  rawColumns: number;
  encoding: Encoding;
  spec: ModelSpec;
  training: TrainingOptions;
  /** The engine's split of the job: the same seed gives the same rows to every implementation. */
  split: { train: Uint32Array; validation: Uint32Array };
  /** What the worker hands the training thread: encoded inputs, (standardized) targets. */
  dataset: { rows: number; inputs: Float32Array; targets: Float32Array };
  evaluation: EvaluationContext;
  /** Names the service accepts in a predict row beside the features: the targets and the ignored columns. */
  alsoKnown: string[];
}

export async function prepareTable(table: TableCase): Promise<PreparedTable> {
  const data = await table.load();
  const classes = data.classes;
  const loss: LossName = classes ? 'categoricalCrossEntropy' : 'meanSquaredError';
  const outputs = classes ? classes.length : data.targets.length;
  const training: TrainingOptions = {
    optimizer: { type: 'adam', learningRate: LEARNING_RATE },
    epochs: table.epochs,
    batchSize: BATCH_SIZE,
    validationSplit: VALIDATION_SPLIT,
    seed: table.seed,
  };

  // From here on, loadTrainingInput's steps with the default preprocessing a job gets.
  const features = data.columns!.filter((c) => c.role === 'feature');
  const split = splitRows(data.rows, VALIDATION_SPLIT, table.seed);
  const raw = { columns: features, values: data.inputs, steps: 1 };
  const options = DEFAULT_PREPROCESSING;
  const encoding = fitEncoding(options, raw, split.train);
  if (!classes && options.standardizeTargets && loss === 'meanSquaredError') {
    encoding.target = fitTargetScale(data.outputs, outputs, 1, split.train);
  }
  const inputs = encodeStored(encoding, raw).inputs;
  const targets = encoding.target ? scaleTargets(data.outputs, encoding.target) : data.outputs;
  const evaluation: EvaluationContext = classes
    ? { kind: 'classification', labels: classes }
    : { kind: 'regression', names: data.targets, ...(encoding.target ? { scale: encoding.target } : {}) };

  const spec: ModelSpec = {
    inputSize: encoding.inputs.length,
    layers: [
      { type: 'dense', units: HIDDEN_UNITS, activation: 'relu' },
      { type: 'dense', units: outputs, activation: classes ? 'softmax' : 'linear' },
    ],
    loss,
  };
  const ignored = data.columns!.filter((c) => c.role === 'ignored').map((c) => c.name);
  return {
    table,
    data,
    rawColumns: data.columns!.length,
    encoding,
    spec,
    training,
    split,
    dataset: { rows: data.rows, inputs, targets },
    evaluation,
    alsoKnown: [...data.targets, ...ignored],
  };
}

/** (y - center) / scale per target value, as the producer's scaleTargets. */
function scaleTargets(outputs: Float32Array, { center, scale }: { center: number[]; scale: number[] }): Float32Array {
  const width = center.length;
  return outputs.map((y, i) => (y - center[i % width]) / scale[i % width]);
}
