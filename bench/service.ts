/**
 * npm run bench:service: the whole service, measured from outside over HTTP. Starts the API and a worker from
 * dist/ against a throwaway database, then
 *  1. POST-to-succeeded time of the MNIST job (784-128-64-10, adam, batch 64, 2 epochs, 8,000 digits), next to
 *     a tfjs-wasm fit of the same network in the same run;
 *  2. predict requests/s and p50/p99 latency for a small (Iris) model at 32 connections against a bare Fastify
 *     route answering a constant (autocannon, loopback only, bounded duration).
 */
import '../src/runtime/wasm-flags.js';
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { ADMIN_KEY, createTestContext } from '../test/helpers/env.js';
import { irisCsv } from '../test/helpers/iris.js';
import { freePort, spawnApi, spawnWorker, waitFor } from '../test/helpers/processes.js';
import { markdownTable } from './markdown-table.js';
import { loadMnist, PIXELS } from './mnist-digits.js';
import { MNIST_SPEC } from './train-engine.js';
import { trainTfjs } from './train-tfjs.js';
import { BATCH_SIZE, EPOCHS, LEARNING_RATE, SEED } from './training-setup.js';

/** `npm run bench:service -- predict` (or mnist, scaling) runs only those parts; no argument runs all three. */
const PARTS = ['mnist', 'scaling', 'predict'] as const;
const chosen = process.argv.slice(2);
for (const part of chosen) if (!(PARTS as readonly string[]).includes(part)) throw new Error(`unknown part ${part}; one of ${PARTS.join(', ')}`);
const runs = (part: (typeof PARTS)[number]) => chosen.length === 0 || chosen.includes(part);
const DURATION_S = 8;
const SCALING_EPOCHS = 8;
const CONNECTIONS = 32;
const progress = (m: string) => process.stderr.write(`${m}\n`);

// The rate limit would turn a load test into a test of the rate limiter; it is measured by its own test.
const ctx = await createTestContext({ LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '100000000' });
const api = await spawnApi(ctx.env);
const worker = await spawnWorker(ctx.env);
const bare = { port: await freePort() };
const bareProc = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-fastify.ts', String(bare.port)], { stdio: 'pipe' });

try {
  const call = async (method: string, path: string, key: string, body?: unknown, type = 'application/json') => {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': type } : {}) },
      body: body === undefined ? undefined : type === 'application/json' ? JSON.stringify(body) : (body as string),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json as Record<string, unknown>;
  };
  const { apiKey } = (await call('POST', '/v1/tenants', ADMIN_KEY, { name: 'bench' })) as { apiKey: string };

  const runJob = async (datasetId: unknown, layers: unknown[], training: Record<string, unknown>) => {
    const started = performance.now();
    const job = await call('POST', '/v1/jobs', apiKey, { datasetId, model: { layers, loss: 'categoricalCrossEntropy' }, training });
    const done = await waitFor(
      'job to finish',
      async () => {
        const j = await call('GET', `/v1/jobs/${job.id}`, apiKey);
        if (j.status === 'failed' || j.status === 'cancelled') throw new Error(`job ${j.status}: ${JSON.stringify(j.error)}`);
        return j.status === 'succeeded' ? j : undefined;
      },
      600_000,
      50,
    );
    return { seconds: (performance.now() - started) / 1000, job: done };
  };
  const rows: string[][] = [];
  const notes: string[] = [];

  if (runs('mnist') || runs('scaling')) {
    progress('uploading 8,000 MNIST digits as CSV');
    const digits = loadMnist(8000, 2000, SEED);
    const header = [...Array(PIXELS).keys()].map((i) => `p${i}`).concat('digit');
    const lines = [header.join(',')];
    for (let r = 0; r < digits.train.rows; r++) {
      const pixels = Array.from(digits.train.inputs.subarray(r * PIXELS, (r + 1) * PIXELS), (v) => +v.toFixed(3));
      const label = digits.train.targets.subarray(r * 10, (r + 1) * 10).indexOf(1);
      lines.push(`${pixels.join(',')},d${label}`);
    }
    const mnist = await call('POST', '/v1/datasets?name=mnist&target=digit', apiKey, lines.join('\n'), 'text/csv');
    // The network and training of bench/engine.ts, so the tfjs-wasm figure below is a like-for-like peer.
    const mnistLayers = MNIST_SPEC.layers;
    const mnistTraining = { optimizer: { type: 'adam', learningRate: LEARNING_RATE }, epochs: EPOCHS, batchSize: BATCH_SIZE, validationSplit: 0, seed: SEED };

    if (runs('mnist')) {
      progress('training MNIST through the service');
      const mnistJob = await runJob(mnist.id, mnistLayers, mnistTraining);
      // Where the time of one job goes: waiting for a worker, training (the sum of epoch times the engine reports),
      // and the rest (loading the dataset from Postgres, handing it to the thread, storing the model).
      const metrics = (await call('GET', `/v1/jobs/${mnistJob.job.id}/metrics`, apiKey)) as { items: { ms?: number }[] };
      const trainingMs = metrics.items.reduce((sum, m) => sum + (m.ms ?? 0), 0);
      const at = (field: string) => new Date(mnistJob.job[field] as string).getTime();
      const otherMs = at('finishedAt') - at('startedAt') - trainingMs;
      progress('training the same network with tfjs-wasm');
      const tfjs = await trainTfjs('wasm', digits);
      const tfjsSeconds = (digits.train.rows * EPOCHS) / tfjs.samplesPerSecond;
      rows.push([
        `MNIST 784-128-64-10, 8,000 digits x ${EPOCHS} epochs: POST-to-succeeded vs tfjs-wasm fit`,
        `${mnistJob.seconds.toFixed(1)} s`,
        `${tfjsSeconds.toFixed(1)} s`,
        `${(tfjsSeconds / mnistJob.seconds).toFixed(2)}x faster`,
      ]);
      notes.push(
        `One MNIST job: ${Math.round(at('startedAt') - at('createdAt'))} ms from POST to start, ${Math.round(trainingMs)} ms training, ` +
          `${Math.round(otherMs)} ms loading data and storing the model; the rest is HTTP and polling.`,
      );
    }

    if (runs('scaling')) {
      progress('two MNIST jobs at once (one training thread per core)');
      // Longer jobs than the timing above, so that per-job fixed costs (loading the dataset, storing the model) do not
      // hide how training itself scales across the two threads.
      const scalingTraining = { ...mnistTraining, epochs: SCALING_EPOCHS };
      const single = await runJob(mnist.id, mnistLayers, scalingTraining);
      const pairStarted = performance.now();
      await Promise.all([runJob(mnist.id, mnistLayers, scalingTraining), runJob(mnist.id, mnistLayers, scalingTraining)]);
      const pairSeconds = (performance.now() - pairStarted) / 1000;
      rows.push([
        `two MNIST jobs of ${SCALING_EPOCHS} epochs at once vs one (worker concurrency = cores)`,
        `${pairSeconds.toFixed(1)} s for both`,
        `${single.seconds.toFixed(1)} s for one`,
        `${((2 * single.seconds) / pairSeconds).toFixed(2)}x throughput`,
      ]);
    }
  }

  if (runs('predict')) {
    progress('training a small Iris model for predictions');
    const iris = await call('POST', '/v1/datasets?name=iris&target=species', apiKey, irisCsv(), 'text/csv');
    const irisJob = await runJob(
      iris.id,
      [
        { type: 'dense', units: 16, activation: 'relu' },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 20, batchSize: 16, validationSplit: 0, seed: 1 },
    );
    const modelId = irisJob.job.modelId as string;
    const predictBody = JSON.stringify({ inputs: [[5.1, 3.5, 1.4, 0.2]] });
    await call('POST', `/v1/models/${modelId}/predict`, apiKey, JSON.parse(predictBody)); // warm the model cache

    await waitFor('bare Fastify', async () => (await fetch(`http://127.0.0.1:${bare.port}/predict`, { method: 'POST' })).ok);
    const load = (url: string, headers: Record<string, string>) =>
      autocannon({ url, method: 'POST', connections: CONNECTIONS, duration: DURATION_S, headers: { 'content-type': 'application/json', ...headers }, body: predictBody });
    progress(`autocannon: bare Fastify, ${CONNECTIONS} connections, ${DURATION_S} s`);
    const bareResult = await load(`http://127.0.0.1:${bare.port}/predict`, {});
    progress(`autocannon: predict, ${CONNECTIONS} connections, ${DURATION_S} s`);
    const predictResult = await load(`${api.url}/v1/models/${modelId}/predict`, { authorization: `Bearer ${apiKey}` });
    const rps = (r: autocannon.Result) => Math.round(r.requests.average).toLocaleString('en-US');
    const fails = (r: autocannon.Result) => r.non2xx + r.errors;
    rows.push(
      [
        `predict (Iris model, 1 row), requests/s at ${CONNECTIONS} connections vs bare Fastify constant`,
        rps(predictResult),
        rps(bareResult),
        `${((predictResult.requests.average / bareResult.requests.average) * 100).toFixed(0)}%`,
      ],
      ['predict latency p50 / p99', `${predictResult.latency.p50} / ${predictResult.latency.p99} ms`, `${bareResult.latency.p50} / ${bareResult.latency.p99} ms`, ''],
    );
    notes.push(`Non-2xx or errors: predict ${fails(predictResult)}, bare ${fails(bareResult)}.`);
  }

  console.log(['## Service benchmark', '', ...markdownTable(['workload', 'ours', 'peer', 'ratio'], rows), '', ...notes].join('\n'));
} finally {
  bareProc.kill('SIGTERM');
  await worker.stop();
  await api.stop();
  await ctx.cleanup();
}
