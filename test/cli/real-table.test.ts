// The command-line client on a real table: the Palmer penguins of vega-datasets (categorical Island and Sex, empty
// cells, two penguins never weighed), written as a CSV with an id column the way a field log would have one. Four
// of five rows train, the fifth are held out for `predict` and `evaluate`.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassificationEvaluation, Evaluation, RegressionEvaluation } from '../../src/contracts/evaluation.js';
import { createTenant } from '../helpers/app.js';
import { createTestContext, type TestContext } from '../helpers/env.js';
import { spawnApi, spawnWorker, type Spawned, type WorkerProcess } from '../helpers/processes.js';
import { runCli } from './run-cli.js';

type Penguin = Record<string, string | number | null>;
const penguins: Penguin[] = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../node_modules/vega-datasets/data/penguins.json', import.meta.url)), 'utf8'),
).map((p: Penguin, i: number) => ({ id: `N${Math.floor(i / 2) + 1}A${(i % 2) + 1}`, ...p }));
const training = penguins.filter((_, i) => i % 5 !== 0);
const heldOut = penguins.filter((_, i) => i % 5 === 0);
const NUMERIC = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];
const SPECIES = ['Adelie', 'Chinstrap', 'Gentoo'];

/** As a spreadsheet exports it: missing cells empty, a header row. */
function toCsv(rows: Penguin[]): string {
  const columns = Object.keys(rows[0]);
  return [columns.join(','), ...rows.map((r) => columns.map((c) => r[c] ?? '').join(','))].join('\n') + '\n';
}

const network = (units: number, activation: string, loss: string, epochs: number) => ({
  model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units, activation }], loss },
  training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs, batchSize: 16, validationSplit: 0.2, seed: 7 },
});

/** The confusion matrix as printed: the header's labels and each row's label and counts. */
function printedMatrix(text: string): { labels: string[]; rows: [string, number[]][] } {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.includes('confusion matrix (rows: actual class, columns: predicted class)'));
  expect(at, text).toBeGreaterThanOrEqual(0);
  const [corner, ...labels] = lines[at + 1].trim().split(/ {2,}/);
  expect(corner).toBe('actual \\ predicted');
  const rows = lines.slice(at + 2, at + 2 + labels.length).map((l): [string, number[]] => {
    const [label, ...counts] = l.trim().split(/ {2,}/);
    return [label, counts.map(Number)];
  });
  return { labels, rows };
}

describe('backprop CLI on a real table (penguins)', () => {
  let ctx: TestContext;
  let api: Spawned & { url: string };
  let worker: WorkerProcess;
  let dir: string;
  let env: Record<string, string>;
  let classifierId: string;

  const apiGet = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${env.BACKPROP_API_KEY}` } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  const file = (name: string) => join(dir, name);

  beforeAll(async () => {
    ctx = await createTestContext();
    [api, worker] = await Promise.all([spawnApi(ctx.env), spawnWorker(ctx.env)]);
    env = { BACKPROP_URL: api.url, BACKPROP_API_KEY: (await createTenant(api.url)).apiKey };
    dir = await mkdtemp(join(tmpdir(), 'backprop-cli-penguins-'));
    await writeFile(file('penguins.csv'), toCsv(training));
    await writeFile(file('held-out.csv'), toCsv(heldOut));
    await writeFile(file('species.json'), JSON.stringify(network(3, 'softmax', 'categoricalCrossEntropy', 60)));
    await writeFile(file('body-mass.json'), JSON.stringify(network(1, 'linear', 'meanSquaredError', 80)));
  });
  afterAll(async () => {
    await Promise.all([worker?.stop(), api?.stop()]);
    await ctx?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('train passes --ignore and --column-types, describes the table and prints the confusion matrix the API has', async () => {
    const run = await runCli(['train', file('species.json'), file('penguins.csv'), '--target', 'Species', '--ignore', 'id', '--column-types', 'Sex:categorical'], env);
    expect(run.code, run.stderr).toBe(0);
    classifierId = run.stdout.trim();
    const datasetId = run.stderr.match(/^dataset ([0-9a-f-]{36}): /m)?.[1];
    expect(run.stderr).toContain(`dataset ${datasetId}: ${training.length} rows, 6 features -> Species (3 classes)\n`);
    expect(run.stderr).toContain('  ignored columns: id\n');
    expect(run.stderr).toContain('  categorical features (one-hot encoded): Island, Sex\n');
    const missing = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)', 'Sex'].map((c) => `${c} ${training.filter((p) => p[c] === null).length}`);
    expect(run.stderr).toContain(`  missing cells (imputed at training): ${missing.join(', ')}\n`);
    expect(run.stderr).not.toContain('skipped');
    expect(run.stderr).not.toContain('warning:');

    const dataset = await apiGet<{ columns: { name: string; type: string; role: string }[] }>(`/v1/datasets/${datasetId}`);
    expect(dataset.columns.find((c) => c.name === 'id')).toMatchObject({ role: 'ignored' });
    expect(dataset.columns.find((c) => c.name === 'Sex')).toMatchObject({ type: 'categorical', role: 'feature' });

    // The printed evaluation is the model's own, read back from the API.
    const evaluation = (await apiGet<{ evaluation: ClassificationEvaluation }>(`/v1/models/${classifierId}`)).evaluation;
    expect(evaluation).toMatchObject({ kind: 'classification', on: 'validation', labels: SPECIES });
    expect(evaluation.accuracy).toBeGreaterThan(0.9);
    expect(run.stderr).toContain(`evaluation on ${evaluation.rows} validation rows:\n  accuracy ${(evaluation.accuracy * 100).toFixed(1)}%, macro F1 ${evaluation.macroF1.toFixed(3)}, `);
    for (const c of evaluation.perClass) {
      expect(run.stderr).toMatch(new RegExp(`\\n  ${c.label} +${c.precision.toFixed(3)} +${c.recall.toFixed(3)} +${c.f1.toFixed(3)} +${c.support}\\n`));
    }
    const matrix = printedMatrix(run.stderr);
    expect(matrix.labels).toEqual(SPECIES);
    expect(matrix.rows).toEqual(SPECIES.map((s, i) => [s, evaluation.confusionMatrix[i]]));
    expect(matrix.rows.flatMap(([, counts]) => counts).reduce((a, b) => a + b, 0)).toBe(evaluation.rows);
  });

  it('train on a numeric target reports the skipped rows, an identifier-like column and MAE/RMSE/R²', async () => {
    // No --ignore this time: the id column is kept, and the CLI says what the API thinks of it.
    const run = await runCli(['train', file('body-mass.json'), file('penguins.csv'), '--target', 'Body Mass (g)'], env);
    expect(run.code, run.stderr).toBe(0);
    const unweighed = training.filter((p) => p['Body Mass (g)'] === null).length;
    expect(unweighed).toBe(2);
    expect(run.stderr).toContain(`: ${training.length - unweighed} rows, 7 features -> Body Mass (g)\n`);
    expect(run.stderr).toMatch(/\n {2}skipped 2 rows: the target is missing/);
    expect(run.stderr).toMatch(/\n {2}warning: column id: looks like an identifier \(\d+ distinct values in \d+ rows\): ignore it\?\n/);

    const { evaluation } = await apiGet<{ evaluation: RegressionEvaluation }>(`/v1/models/${run.stdout.trim()}`);
    expect(evaluation.kind).toBe('regression');
    const [target] = evaluation.targets;
    expect(target.r2).toBeGreaterThan(0.5);
    expect(run.stderr).toMatch(/\n {2}target +MAE +RMSE +R² +mean\n/);
    const printed = run.stderr.split('\n').find((l) => l.startsWith('  Body Mass (g)  '))!.trim().split(/ {2,}/);
    expect(printed[0]).toBe('Body Mass (g)');
    const [mae, rmse, r2, mean] = printed.slice(1).map(Number);
    // In grams, to the gram or better; R² to four decimals.
    expect(Math.abs(mae - target.mae)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(rmse - target.rmse)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(mean - target.mean)).toBeLessThanOrEqual(0.5);
    expect(r2).toBeCloseTo(target.r2!, 4);
    expect(target.mean).toBeGreaterThan(3000);
  });

  it('predict sends CSV rows keyed with category strings and missing cells, and lists unseen values on stderr', async () => {
    const run = await runCli(['predict', classifierId, file('held-out.csv')], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const { labels } = JSON.parse(run.stdout) as { labels: string[] };
    expect(labels).toHaveLength(heldOut.length);
    expect(labels.filter((l, i) => l === heldOut[i].Species).length / heldOut.length).toBeGreaterThan(0.9);

    // An island the model never saw, then a penguin with nothing measured but its island (NA, empty).
    const header = ['Island', ...NUMERIC, 'Sex'];
    const rows = [['Biscoe', '47.5', '15', '218', '4950', 'FEMALE'], ['Atlantis', '39', '18.5', '190', '3700', 'MALE'], ['Dream', 'NA', '', 'NA', '', 'NA']];
    await writeFile(file('odd.csv'), [header, ...rows].map((r) => r.join(',')).join('\n') + '\n');
    const odd = await runCli(['predict', classifierId, file('odd.csv')], env);
    expect(odd.code, odd.stderr).toBe(0);
    expect(odd.stderr).toBe(`warning: ${file('odd.csv')} line 3: Island "Atlantis" was not seen in training; answered as the column's "other" category\n`);
    const answer = JSON.parse(odd.stdout) as { labels: string[]; warnings: { row: number; column: string; value: string }[] };
    expect(answer.labels[0]).toBe('Gentoo');
    expect(answer.labels).toHaveLength(3);
    expect(answer.warnings).toMatchObject([{ row: 1, column: 'Island', value: 'Atlantis' }]);

    // JSON rows keyed by column name with raw values: strings for categories, null for missing.
    await writeFile(file('rows.json'), JSON.stringify([{ Island: 'Torgersen', 'Beak Length (mm)': 38.6, 'Beak Depth (mm)': 21.2, 'Flipper Length (mm)': 191, 'Body Mass (g)': null, Sex: 'MALE' }]));
    const keyed = await runCli(['predict', classifierId, file('rows.json')], env);
    expect(keyed.code, keyed.stderr).toBe(0);
    expect(JSON.parse(keyed.stdout).labels).toEqual(['Adelie']);

    await writeFile(file('bad.csv'), `${header.join(',')}\nDream,long,18,190,3700,MALE\n`);
    const bad = await runCli(['predict', classifierId, file('bad.csv')], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`backprop: ${file('bad.csv')}, line 2: column Beak Length (mm) is not a number ("long")\n`);
  });

  it('evaluate judges the model on the held-out rows, as text and as the API\'s JSON', async () => {
    const upload = await fetch(`${api.url}/v1/datasets?${new URLSearchParams({ name: 'held-out', target: 'Species', ignore: 'id' })}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.BACKPROP_API_KEY}`, 'content-type': 'text/csv' },
      body: toCsv(heldOut),
    });
    expect(upload.status).toBe(201);
    const datasetId = ((await upload.json()) as { id: string }).id;

    const text = await runCli(['evaluate', classifierId, '--dataset', datasetId], env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^evaluation on ${heldOut.length} rows of the dataset:\\n  accuracy \\d+\\.\\d%, `));
    const matrix = printedMatrix(text.stdout);
    expect(matrix.labels).toEqual(SPECIES);
    // Row = actual class: each row adds up to the held-out penguins of that species.
    expect(matrix.rows.map(([label, counts]) => [label, counts.reduce((a, b) => a + b, 0)])).toEqual(SPECIES.map((s) => [s, heldOut.filter((p) => p.Species === s).length]));

    const json = await runCli(['evaluate', classifierId, '--dataset', datasetId, '--json'], env);
    expect(json.code, json.stderr).toBe(0);
    const fromCli = JSON.parse(json.stdout) as Evaluation;
    const res = await fetch(`${api.url}/v1/models/${classifierId}/evaluate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.BACKPROP_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ datasetId }),
    });
    expect(fromCli).toEqual(await res.json());
    expect(matrix.rows.map(([, counts]) => counts)).toEqual((fromCli as ClassificationEvaluation).confusionMatrix);
  });

  it('refuses malformed --column-types before uploading, passes on the API\'s refusal of a wrong type, and needs --dataset', async () => {
    const malformed = await runCli(['train', file('species.json'), file('penguins.csv'), '--target', 'Species', '--column-types', 'Sex'], env);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('--column-types: expected <column>:<type> pairs with a type of numeric, categorical, boolean, got "Sex"');
    const datasets = await apiGet<{ items: unknown[] }>('/v1/datasets');

    const wrongType = await runCli(['train', file('species.json'), file('penguins.csv'), '--target', 'Species', '--column-types', 'Island:numeric'], env);
    expect(wrongType.code).toBe(1);
    expect(wrongType.stderr).toMatch(/^backprop: ERR_\w+: .*Island/m);
    expect((await apiGet<{ items: unknown[] }>('/v1/datasets')).items).toHaveLength(datasets.items.length);

    const noDataset = await runCli(['evaluate', classifierId], env);
    expect(noDataset.code).toBe(2);
    expect(noDataset.stderr).toContain('evaluate needs --dataset <datasetId>');
  });
});
