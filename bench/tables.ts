/**
 * npm run bench:tables — real tables (vega-datasets penguins, cars, Seattle weather) prepared exactly as the service
 * prepares a job (bench/real-tables.ts), trained by our engine and by tfjs 'cpu' with the same network and options on
 * the same seeded split, against the baseline a model must beat; plus the cost of encoding a keyed predict row.
 * Figures go to stdout as markdown; progress goes to stderr.
 */
import '../src/runtime/wasm-flags.js';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { activeGemm } from '../src/engine/index.js';
import { cars } from '../test/helpers/tables.js';
import { markdownTable } from './markdown-table.js';
import { timeRowEncoding } from './predict-encoding.js';
import { BATCH_SIZE, HIDDEN_UNITS, LEARNING_RATE, prepareTable, TABLE_CASES, VALIDATION_SPLIT, type PreparedTable } from './real-tables.js';
import { baseline, trainOurs, trainTfjs, type TableRun } from './table-training.js';

/**
 * Runs of ours per table: a run takes a few hundred milliseconds, so one noisy moment would move a single one. tfjs
 * 'cpu' takes 100 times longer, so one run (its time spreads over thousands of steps already).
 */
const OURS_RUNS = 5;
const TFJS_RUNS = 1;
/** The predict-path target: encoding one keyed row of 10 columns. */
const TARGET_MICROS_PER_10_COLUMNS = 10;

const progress = (message: string) => process.stderr.write(`${message}\n`);
const loadAtStart = loadavg()[0];

/** lscpu's model name, which names the CPU even where /proc/cpuinfo's is generic; os.cpus() where lscpu is absent. */
function cpuModel(): string {
  try {
    const line = execFileSync('lscpu', { encoding: 'utf8' }).split('\n').find((l) => l.startsWith('Model name:'));
    if (line) return line.slice('Model name:'.length).trim();
  } catch {
    // no lscpu: fall through
  }
  return cpus()[0]?.model.trim() ?? 'unknown CPU';
}

/** The run with the median training time, and the median of the runs' figures (tfjs runs differ in their shuffles). */
function medianOf(runs: TableRun[]): TableRun {
  const mid = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
  return { trainMs: mid(runs.map((r) => r.trainMs)), metric: mid(runs.map((r) => r.metric)) };
}

interface TableResult {
  table: PreparedTable;
  baseline: number;
  ours: TableRun;
  tfjs: TableRun;
}

const results: TableResult[] = [];
for (const tableCase of TABLE_CASES) {
  progress(`${tableCase.name}: storing and encoding as the service does`);
  const table = await prepareTable(tableCase);
  progress(`${tableCase.name}: ours x ${OURS_RUNS + 1} (the first one untimed), tfjs 'cpu' x ${TFJS_RUNS}`);
  trainOurs(table); // warm-up
  const ours = medianOf(Array.from({ length: OURS_RUNS }, () => trainOurs(table)));
  const tfjsRuns: TableRun[] = [];
  for (let i = 0; i < TFJS_RUNS; i++) tfjsRuns.push(await trainTfjs(table));
  results.push({ table, baseline: baseline(table), ours, tfjs: medianOf(tfjsRuns) });
}

progress('cars: encoding keyed predict rows');
const carsTable = results.find((r) => r.table.table.name === 'cars')!.table;
const encoding = timeRowEncoding(carsTable, cars());

const isClassification = (r: TableResult) => r.table.evaluation.kind === 'classification';
const figure = (r: TableResult, value: number) => (isClassification(r) ? `${(value * 100).toFixed(1)}%` : value.toFixed(2));
/** Accuracy: ours minus theirs, in points; RMSE: how many times lower (or higher) ours is. */
function better(r: TableResult, theirs: number): string {
  if (isClassification(r)) {
    const points = (r.ours.metric - theirs) * 100;
    return `${points < 0 ? '−' : '+'}${Math.abs(points).toFixed(1)} pts`;
  }
  const ratio = theirs / r.ours.metric;
  return ratio >= 1 ? `${ratio.toFixed(2)}x lower` : `${(1 / ratio).toFixed(2)}x higher`;
}
const ms = (value: number) => `${Math.round(value).toLocaleString('en-US')} ms`;
const runsOf = (runs: number) => (runs === 1 ? 'one run' : `the median time and median figure of ${runs} runs`);

const rows = results.map((r) => {
  const { table } = r;
  const skipped = table.data.skippedRows ? ` (${table.data.skippedRows} skipped: no target)` : '';
  const ignored = table.table.options.ignore?.length ? `, ${table.table.options.ignore.join(' and ')} ignored` : '';
  return [
    `${table.table.file}: ${table.table.target}`,
    `${table.data.rows}${skipped}`,
    `${table.rawColumns}${ignored}`,
    String(table.encoding.inputs.length),
    `${isClassification(r) ? 'accuracy' : 'RMSE'}, ${table.split.validation.length} rows`,
    figure(r, r.baseline),
    figure(r, r.ours.metric),
    figure(r, r.tfjs.metric),
    better(r, r.baseline),
    better(r, r.tfjs.metric),
    `${table.training.epochs}`,
    ms(r.ours.trainMs),
    ms(r.tfjs.trainMs),
    `${(r.tfjs.trainMs / r.ours.trainMs).toFixed(1)}x`,
  ];
});

const met = encoding.microsPer10Keys <= TARGET_MICROS_PER_10_COLUMNS;
console.log(
  [
    '## Real tables: held-out figures and training time',
    '',
    `Each table stored as the datasets route stores it and encoded as a job's first run encodes it (split with the ` +
      `job's seed, ${VALIDATION_SPLIT * 100}% held out; imputation, standardization and one-hot fitted on the training ` +
      `rows; regression targets standardized). Network: inputs-${HIDDEN_UNITS} relu-outputs (softmax + categorical ` +
      `cross-entropy, or linear + mean squared error), Adam lr ${LEARNING_RATE}, batch ${BATCH_SIZE}, shuffled, a validation ` +
      `loss per epoch; the same for tfjs 4.22 'cpu' on the same encoded rows. Baseline: the training rows' majority class ` +
      `or mean target. Held-out figures are on the validation rows, RMSE in the target's units. Ours: median of ` +
      `${OURS_RUNS} timed runs (seeded, identical figures; gemm: ${activeGemm()}); tfjs: ${runsOf(TFJS_RUNS)} (it shuffles ` +
      `with Math.random, so its figure moves from run to run). Train time = the fit call alone.`,
    '',
    `Machine: ${cpus().length} x ${cpuModel()}, Node ${process.version}, 1-min load average ${loadAtStart.toFixed(2)} at start, ` +
      `${loadavg()[0].toFixed(2)} at end.`,
    '',
    ...markdownTable(
      [
        'table: target',
        'rows',
        'columns',
        'encoded inputs',
        'held-out figure',
        'baseline',
        'ours',
        "tfjs 'cpu'",
        'ours vs baseline',
        'ours vs tfjs',
        'epochs',
        'ours train',
        'tfjs train',
        'tfjs time / ours',
      ],
      rows,
    ),
    '',
    `Encoding at predict: ${encoding.microsPerRow.toFixed(2)} µs per keyed cars row (${encoding.keys} columns: ` +
      `${carsTable.encoding.columns.length} features to ${carsTable.encoding.inputs.length} inputs, the target and ignored ` +
      `columns passed over), i.e. ${encoding.microsPer10Keys.toFixed(2)} µs per 10-column row; RowEncoder.encodeObject over ` +
      `all ${encoding.rows} rows, median of ${encoding.samples} samples. Target ≤ ${TARGET_MICROS_PER_10_COLUMNS} µs per ` +
      `10-column row: ${met ? 'met' : 'NOT met'}.`,
  ].join('\n'),
);
