// The compiled command-line client (dist/cli/main.js, as `npx backprop` runs it) against a real API and worker.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../helpers/app.js';
import { createTestContext, type TestContext } from '../helpers/env.js';
import { irisCsv, irisRows } from '../helpers/iris.js';
import { freePort, spawnApi, spawnWorker, type Spawned, type WorkerProcess } from '../helpers/processes.js';
import { runCli } from './run-cli.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const EPOCHS = 60;

describe('backprop CLI against a real API and worker', () => {
  let ctx: TestContext;
  let api: Spawned & { url: string };
  let worker: WorkerProcess;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    ctx = await createTestContext();
    [api, worker] = await Promise.all([spawnApi(ctx.env), spawnWorker(ctx.env)]);
    const { apiKey } = await createTenant(api.url);
    env = { BACKPROP_URL: api.url, BACKPROP_API_KEY: apiKey };
    dir = await mkdtemp(join(tmpdir(), 'backprop-cli-'));
    await writeFile(join(dir, 'iris.csv'), irisCsv());
    await writeFile(
      join(dir, 'spec.json'),
      JSON.stringify({
        model: {
          layers: [
            { type: 'dense', units: 16, activation: 'relu' },
            { type: 'dense', units: 3, activation: 'softmax' },
          ],
          loss: 'categoricalCrossEntropy',
        },
        training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: EPOCHS, batchSize: 16, validationSplit: 0.2, seed: 7 },
        preprocessing: { standardize: true },
      }),
    );
  });
  afterAll(async () => {
    await Promise.all([worker?.stop(), api?.stop()]);
    await ctx?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  let modelId: string;

  it('train uploads the CSV, follows the job on stderr and prints the model id on stdout', async () => {
    const run = await runCli(['train', join(dir, 'spec.json'), join(dir, 'iris.csv'), '--target', 'species'], env);
    expect(run.stderr).toContain('150 rows, 4 features -> species (3 classes)');
    expect(run.code, run.stderr).toBe(0);
    modelId = run.stdout.trim();
    expect(modelId).toMatch(UUID);
    const jobId = run.stderr.match(/job ([0-9a-f-]{36}) queued/)?.[1];
    expect(jobId).toMatch(UUID);
    expect(run.stderr).toContain(`[########################] ${EPOCHS}/${EPOCHS}`);
    expect(run.stderr).toMatch(new RegExp(`succeeded after ${EPOCHS} epochs: loss \\d`));

    const model = await fetch(`${api.url}/v1/models/${modelId}`, { headers: { authorization: `Bearer ${env.BACKPROP_API_KEY}` } });
    expect(model.status).toBe(200);
    const body = (await model.json()) as { evaluation: { rows: number; accuracy: number } };
    expect(body).toMatchObject({ id: modelId, targets: ['species'], classes: ['setosa', 'versicolor', 'virginica'] });
    // The model's evaluation on its validation rows closes the report on stderr.
    expect(run.stderr).toContain(`evaluation on ${body.evaluation.rows} validation rows:\n  accuracy ${(body.evaluation.accuracy * 100).toFixed(1)}%, macro F1 `);
    expect(run.stderr).toMatch(/confusion matrix \(rows: actual class, columns: predicted class\)\n +actual \\ predicted +setosa +versicolor +virginica\n/);

    // A finished job followed again gives the same model at once.
    const watched = await runCli(['watch', jobId!], env);
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout.trim()).toBe(modelId);
  });

  it('predict prints species labels for a CSV (the target column is ignored) and for JSON rows', async () => {
    const fromCsv = await runCli(['predict', modelId, join(dir, 'iris.csv')], env);
    expect(fromCsv.code, fromCsv.stderr).toBe(0);
    const { outputs, labels } = JSON.parse(fromCsv.stdout) as { outputs: number[][]; labels: string[] };
    const { species } = irisRows();
    expect(outputs).toHaveLength(150);
    expect(new Set(labels)).toEqual(new Set(['setosa', 'versicolor', 'virginica']));
    expect(labels.filter((l, i) => l === species[i]).length / 150).toBeGreaterThan(0.9);

    await writeFile(join(dir, 'inputs.json'), JSON.stringify([[5.1, 3.5, 1.4, 0.2], [6.9, 3.1, 5.4, 2.1]]));
    const fromJson = await runCli(['predict', modelId, join(dir, 'inputs.json'), '--key', env.BACKPROP_API_KEY, '--url', api.url]);
    expect(fromJson.code, fromJson.stderr).toBe(0);
    expect(JSON.parse(fromJson.stdout).labels).toEqual(['setosa', 'virginica']);
  });

  it('exits non-zero with the API\'s message when a request is refused', async () => {
    const badTarget = await runCli(['train', join(dir, 'spec.json'), join(dir, 'iris.csv'), '--target', 'colour'], env);
    expect(badTarget.code).toBe(1);
    expect(badTarget.stdout).toBe('');
    expect(badTarget.stderr).toMatch(/^backprop: ERR_\w+: .*colour/m);

    const badKey = await runCli(['predict', modelId, join(dir, 'inputs.json')], { ...env, BACKPROP_API_KEY: 'bp_not-a-key' });
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toMatch(/^backprop: ERR_\w+: /m);

    const closed = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await runCli(['predict', modelId, join(dir, 'inputs.json'), '--url', closed], env);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`backprop: cannot reach ${closed}: ECONNREFUSED`);
  });

  it('refuses a spec file the API would refuse before uploading anything, and a missing --target', async () => {
    await writeFile(join(dir, 'typo.json'), JSON.stringify({ model: { layers: [{ type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' }, trainig: {} }));
    const typo = await runCli(['train', join(dir, 'typo.json'), join(dir, 'iris.csv'), '--target', 'species'], env);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('is not a job spec');
    expect(typo.stderr).toContain('trainig');
    const datasets = await fetch(`${api.url}/v1/datasets`, { headers: { authorization: `Bearer ${env.BACKPROP_API_KEY}` } });
    expect(((await datasets.json()) as { items: unknown[] }).items).toHaveLength(1); // the one uploaded by the first test only

    const noTarget = await runCli(['train', join(dir, 'spec.json'), join(dir, 'iris.csv')], env);
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toContain('train needs --target');
  });
});
