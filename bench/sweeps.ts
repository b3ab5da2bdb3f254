/**
 * npm run bench:sweeps: successive halving against running every configuration to the end. Starts the API and one
 * worker (one training thread) from dist/ against a throwaway database, uploads the penguins table (vega-datasets),
 * and runs the same 16 configurations (random draws of the learning rate and the hidden width, one seed) twice, one
 * trial at a time: as a halving sweep (eta 2, up to EPOCHS epochs), and as a random sweep training each to EPOCHS
 * epochs one after the other; each twice, alternating, the faster run kept. Prints wall time (POST to the sweep's end),
 * epochs trained, the scheduling gap between one trial job's end and the next one's start, and the best validation loss.
 */
import { createTestContext } from '../test/helpers/env.js';
import { ADMIN_KEY } from '../test/helpers/env.js';
import { spawnApi, spawnWorker, waitFor } from '../test/helpers/processes.js';
import { holdOut, penguins, rowsToCsv } from '../test/helpers/tables.js';
import { markdownTable } from './markdown-table.js';

const TRIALS = 16;
const EPOCHS = 200;
const progress = (m: string) => process.stderr.write(`${m}\n`);

interface Sweep {
  id: string;
  status: string;
  rungEpochs: number[];
  trials: { trial: number; params: Record<string, number>; rung: number }[];
  best: { trial: number; objective: number; epochs: number; params: Record<string, number> } | null;
}

const ctx = await createTestContext({ LOG_LEVEL: 'silent', WORKER_CONCURRENCY: '1', RATE_LIMIT_MAX: '100000000' });
const api = await spawnApi(ctx.env);
const worker = await spawnWorker(ctx.env);
try {
  const call = async <T>(method: string, path: string, key: string, body?: unknown, type = 'application/json'): Promise<T> => {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': type } : {}) },
      body: body === undefined ? undefined : type === 'application/json' ? JSON.stringify(body) : (body as string),
    });
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  };
  const { apiKey } = await call<{ apiKey: string }>('POST', '/v1/tenants', ADMIN_KEY, { name: 'bench' });
  const { train } = holdOut(penguins());
  const dataset = await call<{ id: string }>('POST', '/v1/datasets?name=penguins&target=Species', apiKey, rowsToCsv(train), 'text/csv');

  const body = (strategy: 'halving' | 'random') => ({
    datasetId: dataset.id,
    base: {
      model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' },
      training: { optimizer: { type: 'sgd', learningRate: 0.01 }, epochs: EPOCHS, batchSize: 16, validationSplit: 0.25, seed: 17 },
    },
    space: { 'training.optimizer.learningRate': { logUniform: [0.0005, 0.2] }, 'model.layers[0].units': { intRange: [2, 32] } },
    strategy,
    trials: TRIALS,
    parallelism: 1,
    objective: 'valLoss',
    ...(strategy === 'halving' ? { halving: { eta: 2 } } : {}),
  });

  const run = async (strategy: 'halving' | 'random') => {
    const started = performance.now();
    const created = await call<Sweep>('POST', '/v1/sweeps', apiKey, body(strategy));
    const ended = await waitFor(`the ${strategy} sweep`, async () => {
      const sweep = await call<Sweep>('GET', `/v1/sweeps/${created.id}`, apiKey);
      return sweep.status !== 'queued' && sweep.status !== 'running' ? sweep : undefined;
    }, 3_600_000, 50);
    const seconds = (performance.now() - started) / 1000;
    if (ended.status !== 'succeeded') throw new Error(`${strategy} sweep ended ${ended.status}`);
    const page = await call<{ items: { epoch: number; startedAt: string; finishedAt: string }[] }>('GET', `/v1/jobs?limit=100&sweepId=${ended.id}`, apiKey);
    const jobs = page.items.sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
    const epochs = jobs.reduce((n, j) => n + j.epoch, 0);
    // One trial at a time: the time from a job's end to the next one's start is what making and admitting it costs.
    const gaps = jobs.slice(1).map((j, i) => Date.parse(j.startedAt) - Date.parse(jobs[i].finishedAt));
    const gapMs = gaps.reduce((a, b) => a + b, 0) / Math.max(1, gaps.length);
    const trainingS = jobs.reduce((t, j) => t + (Date.parse(j.finishedAt) - Date.parse(j.startedAt)), 0) / 1000;
    progress(`${strategy}: ${seconds.toFixed(1)} s, ${epochs} epochs, ${trainingS.toFixed(1)} s in jobs, ${gapMs.toFixed(0)} ms between jobs, best ${ended.best!.objective}`);
    return { ended, seconds, epochs, jobs: jobs.length, gapMs, trainingS };
  };

  // Twice each, alternating, the faster kept: the machine is shared, and the first sweep also warms the worker up.
  const fastest = (a: Awaited<ReturnType<typeof run>>, b: Awaited<ReturnType<typeof run>>) => (a.seconds <= b.seconds ? a : b);
  const firstHalving = await run('halving');
  const firstSequential = await run('random');
  const halving = fastest(firstHalving, await run('halving'));
  const sequential = fastest(firstSequential, await run('random'));
  const same = JSON.stringify(halving.ended.trials.map((t) => t.params)) === JSON.stringify(sequential.ended.trials.map((t) => t.params));
  if (!same) throw new Error('the two sweeps drew different configurations');
  const row = (name: string, r: typeof halving) => [
    name,
    String(r.jobs),
    String(r.epochs),
    r.seconds.toFixed(1),
    r.gapMs.toFixed(0),
    r.ended.best!.objective.toFixed(4),
    `trial ${r.ended.best!.trial}: lr ${r.ended.best!.params['training.optimizer.learningRate'].toPrecision(3)}, units ${r.ended.best!.params['model.layers[0].units']}, ${r.ended.best!.epochs} epochs`,
  ];
  console.log(`\n### Sweeps: halving-${TRIALS} against sequential-${TRIALS} (penguins, ${train.length} rows, up to ${EPOCHS} epochs, one trial at a time)\n`);
  console.log(markdownTable(['run', 'jobs', 'epochs trained', 'wall time (s)', 'ms from a job\'s end to the next start', 'best valLoss', 'best trial'], [
    row(`halving (eta 2, rungs ${halving.ended.rungEpochs.join('/')})`, halving),
    row('sequential (each to the end)', sequential),
  ]).join('\n'));
  console.log(`\nThe same ${TRIALS} configurations in both (one seed draws them); halving took ${(sequential.seconds / halving.seconds).toFixed(2)}x less time.`);
} finally {
  await worker.stop();
  await api.stop();
  await ctx.cleanup();
}
