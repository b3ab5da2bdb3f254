/**
 * npm run bench:service: the whole service, measured from outside over HTTP. Starts the API and a worker from
 * dist/ against a throwaway database, then
 *  1. POST-to-succeeded time of the MNIST job (784-128-64-10, adam, batch 64, 2 epochs, 8,000 digits), next to
 *     a tfjs-wasm fit of the same network in the same run;
 *  2. predict requests/s and p50/p99 latency for a small (Iris) model at 32 connections against a bare Fastify
 *     route answering a constant (autocannon, loopback only, bounded duration);
 *  3. (part `upload`) a ~10 MB CSV of 784 numeric columns uploaded to POST /v1/datasets: MB/s next to csv-parse
 *     reading the same bytes in this process (best of three each), and the API process's peak RSS growth during the
 *     first upload (VmHWM) against the body size.
 */
import '../src/runtime/wasm-flags.js';
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse as parseCsvSync } from 'csv-parse/sync';
import { ADMIN_KEY, createTestContext } from '../test/helpers/env.js';
import { irisCsv } from '../test/helpers/iris.js';
import { freePort, spawnApi, spawnWorker, waitFor } from '../test/helpers/processes.js';
import { openEventStream } from '../test/helpers/sse.js';
import { engineThreadScaling } from './engine-threads.js';
import { markdownTable } from './markdown-table.js';
import { loadMnist, PIXELS } from './mnist-digits.js';
import { MNIST_SPEC } from './train-engine.js';
import { trainTfjs } from './train-tfjs.js';
import { BATCH_SIZE, EPOCHS, LEARNING_RATE, SEED } from './training-setup.js';

/** `npm run bench:service -- predict` (or mnist, scaling, upload) runs only those parts; no argument runs them all. */
const PARTS = ['mnist', 'scaling', 'predict', 'upload'] as const;
const chosen = process.argv.slice(2);
for (const part of chosen) if (!(PARTS as readonly string[]).includes(part)) throw new Error(`unknown part ${part}; one of ${PARTS.join(', ')}`);
const runs = (part: (typeof PARTS)[number]) => chosen.length === 0 || chosen.includes(part);
const DURATION_S = 8;
const SCALING_EPOCHS = 8;
const SCALING_REPS = 3;
const CONNECTIONS = 32;
const progress = (m: string) => process.stderr.write(`${m}\n`);
const UPLOAD_BYTES = 10_000_000;

/** MNIST-shaped CSV of at least `bytes`: 784 pixel columns with three decimals (deterministic) and a digit label. */
function uploadCsv(bytes: number): string {
  const lines = [[...Array(PIXELS).keys()].map((i) => `p${i}`).concat('digit').join(',')];
  let size = lines[0].length;
  for (let r = 0; size < bytes; r++) {
    const cells = Array.from({ length: PIXELS }, (_, c) => (((r * 7919 + c * 104_729) % 1000) / 1000).toString());
    const line = `${cells.join(',')},d${r % 10}`;
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n');
}

/**
 * A table as people bring them, of at least `bytes`: 8 numeric columns (one cell in 50 missing), 8 categorical ones
 * of 40 labels each, a yes/no column, and a class label: 10 MB of it is about 100,000 rows.
 */
function mixedCsv(bytes: number): string {
  const header = [...Array.from({ length: 8 }, (_, i) => `x${i}`), ...Array.from({ length: 8 }, (_, i) => `city${i}`), 'member', 'label'];
  const lines = [header.join(',')];
  let size = lines[0].length;
  for (let r = 0; size < bytes; r++) {
    const numbers = Array.from({ length: 8 }, (_, c) => ((r * 31 + c) % 50 === 0 ? '' : (((r * 7919 + c * 104_729) % 100_000) / 100).toString()));
    const labels = Array.from({ length: 8 }, (_, c) => `place_${(r * (c + 3) + c * 17) % 40}`);
    const line = [...numbers, ...labels, r % 3 === 0 ? 'yes' : 'no', `c${r % 4}`].join(',');
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n');
}

/** CPU time (user + system) a process has used so far, in ms: /proc/<pid>/stat counts clock ticks of 10 ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A `kB` field of /proc/<pid>/status, in kB. */
function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

// The rate limit would turn a load test into a test of the rate limiter; it is measured by its own test.
const ctx = await createTestContext({ LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '100000000', RATE_LIMIT_PREDICT_MAX: '100000000' });
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
    // Waiting on the job's event stream instead of polling: measuring must not take CPU from the jobs measured (two
    // jobs polled every 50 ms cost the API and Postgres work on the very cores both jobs train on).
    const stream = await openEventStream(`${api.url}/v1/jobs/${job.id}/events`, { authorization: `Bearer ${apiKey}` });
    let end: { status?: string; error?: unknown } = {};
    try {
      const blocks = await stream.readUntil((block) => block.event === 'end', 600_000);
      end = JSON.parse(blocks.at(-1)?.event === 'end' ? blocks.at(-1)!.data! : '{}');
    } finally {
      stream.close();
    }
    const seconds = (performance.now() - started) / 1000;
    if (end.status !== 'succeeded') throw new Error(`job ${job.id} ended ${end.status ?? 'without an end event'}: ${JSON.stringify(end.error)}`);
    return { seconds, job: await call('GET', `/v1/jobs/${job.id}`, apiKey) };
  };
  const rows: string[][] = [];
  const notes: string[] = [];

  // First, while the API process is fresh: its peak memory during the upload is the figure.
  if (runs('upload')) {
    const tables = [
      { make: uploadCsv, target: 'digit', what: '784 numeric columns + a class label' },
      { make: mixedCsv, target: 'label', what: '8 numeric columns with missing cells, 8 categorical, 1 yes/no, a class label' },
    ];
    for (const { make, target, what } of tables) {
      const csv = make(UPLOAD_BYTES);
      const bytes = Buffer.byteLength(csv);
      const mb = bytes / 1e6;
      const pid = api.child.pid!;
      const post = async (body: string) => {
        const started = performance.now();
        await call('POST', `/v1/datasets?name=upload&target=${target}`, apiKey, body, 'text/csv');
        return (performance.now() - started) / 1000;
      };
      progress(`uploading a ${mb.toFixed(1)} MB CSV, ${what} (after a small warm-up upload of the same shape)`);
      // The warm-up compiles the hot paths without leaving megabytes of garbage behind to hide the measured growth.
      await post(make(UPLOAD_BYTES / 20));
      // Writing 5 to clear_refs resets VmHWM (the peak resident set) to the current RSS, so the peak read after the
      // upload is the upload's own; nothing inside the API process is instrumented.
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
      const rssBefore = procStatusKb(pid, 'VmRSS');
      const uploads = [await post(csv)];
      const growth = (procStatusKb(pid, 'VmHWM') - rssBefore) * 1024;
      // The API's own parser, with its options, on the same bytes in this process: the floor under the upload's time.
      const parse = () => {
        const started = performance.now();
        parseCsvSync(csv, { bom: true, skip_empty_lines: true, relax_column_count: true, ltrim: true, rtrim: true, on_record: () => null });
        return (performance.now() - started) / 1000;
      };
      // Best of three each, alternating, so that a burst of load on the shared machine does not land on one side only.
      const parses = [parse()];
      for (let i = 0; i < 2; i++) {
        uploads.push(await post(csv));
        parses.push(parse());
      }
      const seconds = Math.min(...uploads);
      const parseSeconds = Math.min(...parses);
      rows.push([
        `CSV upload, ${mb.toFixed(1)} MB (${what}), MB/s (best of 3) vs csv-parse alone in-process`,
        `${(mb / seconds).toFixed(1)} MB/s`,
        `${(mb / parseSeconds).toFixed(1)} MB/s`,
        `${((mb / seconds / (mb / parseSeconds)) * 100).toFixed(0)}%`,
      ]);
      rows.push([
        `API peak RSS growth during the first of those uploads (${what}), vs the body size`,
        `${(growth / 1e6).toFixed(1)} MB`,
        `${mb.toFixed(1)} MB`,
        `${(growth / bytes).toFixed(2)}x the body`,
      ]);
    }
  }

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
          `${Math.round(otherMs)} ms loading data and storing the model; the rest is HTTP and the event stream.`,
      );
    }

    if (runs('scaling')) {
      progress('two MNIST jobs at once (one training thread per core)');
      // Longer jobs than the timing above, so that per-job fixed costs (loading the dataset, storing the model) do not
      // hide how training itself scales across the two threads.
      const scalingTraining = { ...mnistTraining, epochs: SCALING_EPOCHS };
      const pair = async () => {
        const started = performance.now();
        await Promise.all([runJob(mnist.id, mnistLayers, scalingTraining), runJob(mnist.id, mnistLayers, scalingTraining)]);
        return (performance.now() - started) / 1000;
      };
      // The worker starts its training threads on demand and keeps decoded datasets in memory: a warm-up pair of
      // short jobs starts both threads and fills that cache, so the single job and the pair below run under the same
      // conditions, those of a worker that has been up for a while. The cold first job is reported apart.
      const cold = await runJob(mnist.id, mnistLayers, scalingTraining);
      const warmUp = { ...scalingTraining, epochs: 1 };
      await Promise.all([runJob(mnist.id, mnistLayers, warmUp), runJob(mnist.id, mnistLayers, warmUp)]);
      // Best of alternating runs: whatever else runs on the machine only ever adds time.
      let singleSeconds = Infinity;
      let pairSeconds = Infinity;
      for (let rep = 0; rep < SCALING_REPS; rep++) {
        singleSeconds = Math.min(singleSeconds, (await runJob(mnist.id, mnistLayers, scalingTraining)).seconds);
        pairSeconds = Math.min(pairSeconds, await pair());
      }
      progress('the same training by the engine alone, in one thread and in two');
      const engine = await engineThreadScaling(digits.train, SCALING_EPOCHS, SCALING_REPS);
      rows.push(
        [
          `two MNIST jobs of ${SCALING_EPOCHS} epochs at once vs one (worker concurrency = cores; warm, best of ${SCALING_REPS})`,
          `${pairSeconds.toFixed(1)} s for both`,
          `${singleSeconds.toFixed(1)} s for one`,
          `${((2 * singleSeconds) / pairSeconds).toFixed(2)}x throughput`,
        ],
        [
          `the same training by the engine alone in two worker threads vs one (no service; best of ${SCALING_REPS})`,
          `${engine.pair.toFixed(1)} s for both`,
          `${engine.single.toFixed(1)} s for one`,
          `${((2 * engine.single) / engine.pair).toFixed(2)}x throughput`,
        ],
      );
      notes.push(
        `Scaling: after a warm-up pair (both training threads started, the dataset in the worker's cache). The part's first job ` +
          `(cold when the part runs alone: starting a thread, reading the dataset from Postgres) took ${cold.seconds.toFixed(1)} s.`,
      );
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
    /** autocannon's result, and the server's CPU time per request while it ran (in µs). */
    const load = async (url: string, headers: Record<string, string>, server: number) => {
      // Warm-up, untimed: both servers are measured with their hot paths compiled.
      await autocannon({ url, method: 'POST', connections: CONNECTIONS, duration: 2, headers: { 'content-type': 'application/json', ...headers }, body: predictBody });
      const cpuBefore = cpuMs(server);
      const result = await autocannon({ url, method: 'POST', connections: CONNECTIONS, duration: DURATION_S, headers: { 'content-type': 'application/json', ...headers }, body: predictBody });
      return { result, cpuUs: ((cpuMs(server) - cpuBefore) * 1000) / result.requests.total };
    };
    progress(`autocannon: bare Fastify, ${CONNECTIONS} connections, ${DURATION_S} s`);
    const { result: bareResult, cpuUs: bareCpuUs } = await load(`http://127.0.0.1:${bare.port}/predict`, {}, bareProc.pid!);
    progress(`autocannon: predict, ${CONNECTIONS} connections, ${DURATION_S} s`);
    const { result: predictResult, cpuUs: predictCpuUs } = await load(`${api.url}/v1/models/${modelId}/predict`, { authorization: `Bearer ${apiKey}` }, api.child.pid!);
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
      ['server CPU per request (user + system)', `${Math.round(predictCpuUs)} µs`, `${Math.round(bareCpuUs)} µs`, `${(predictCpuUs / bareCpuUs).toFixed(1)}x`],
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
