// Fault 6. SIGTERM to a worker: it stops its running job at the next epoch boundary, stores a checkpoint, hands the
// job back to the queue and exits within a bounded time; another worker resumes from that checkpoint at once (not
// after lock expiry) and the result is byte-identical to an uninterrupted run. SIGTERM to the API: the request in
// flight finishes, new ones are refused, and a connection no request ever used (a preconnect) does not hold the exit.
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../helpers/app.js';
import { createTestContext, type TestContext } from '../helpers/env.js';
import { epochsUpTo, inspectDatabase, type Inspector } from '../helpers/inspect.js';
import { submitJob, uploadSlowDataset, waitForJob } from '../helpers/jobs.js';
import { spawnApi, spawnWorker, waitFor, workerHealth, type Spawned, type WorkerProcess } from '../helpers/processes.js';

describe('graceful shutdown', () => {
  let ctx: TestContext;
  let audit: Inspector;
  const processes: Spawned[] = [];

  beforeAll(async () => {
    // Lock and stalled check at 30 s: a job that was not handed back would sit for half a minute before anyone
    // took it over, far longer than this test waits.
    ctx = await createTestContext({ JOB_LOCK_DURATION_MS: '30000', STALLED_INTERVAL_MS: '30000', WORKER_CONCURRENCY: '1' });
    audit = await inspectDatabase(ctx.db.url);
  });
  afterAll(async () => {
    for (const p of processes) await p.kill();
    await audit?.close();
    await ctx?.cleanup();
  });

  it('a worker checkpoints on SIGTERM, exits promptly, and another worker resumes the job from that checkpoint', async () => {
    const api = await spawnApi(ctx.env);
    processes.push(api);
    const key = (await createTenant(api.url)).apiKey;
    const datasetId = await uploadSlowDataset(api.url, key);
    const epochs = 40;
    // No periodic checkpoint within the run: the only one is the one SIGTERM writes.
    const options = { checkpointEvery: 1000, seed: 5 };

    const workers: WorkerProcess[] = [await spawnWorker(ctx.env), await spawnWorker(ctx.env)];
    processes.push(...workers);
    const reference = await submitJob(api.url, key, datasetId, epochs, options);
    await waitForJob(api.url, key, reference, (j) => j.status === 'succeeded', 'the reference job', 60_000);

    const jobId = await submitJob(api.url, key, datasetId, epochs, options);
    await waitForJob(api.url, key, jobId, (j) => j.status === 'running' && j.epoch >= 3, 'the job to train 3 epochs', 30_000);
    const activeJobs = async (w: WorkerProcess) => (await workerHealth(w)).activeJobs;
    const holders = await Promise.all(workers.map(activeJobs));
    expect(holders.sort()).toEqual([0, 1]);
    const [first, second] = (await activeJobs(workers[0])) === 1 ? workers : [workers[1], workers[0]];

    const sigterm = Date.now();
    await first.stop();
    const exitMs = Date.now() - sigterm;
    expect(first.child.exitCode, first.output()).toBe(0);
    expect(exitMs).toBeLessThan(10_000);

    // Not failed, not cancelled: still running as far as Postgres is concerned, with no error and a checkpoint at
    // the epoch where it stopped (the run's only checkpoint, as checkpointEvery is beyond its epochs).
    const checkpointEpoch = await audit.checkpointEpoch(jobId);
    expect(checkpointEpoch).toBeGreaterThanOrEqual(3);
    expect(checkpointEpoch).toBeLessThan(epochs);
    expect(await audit.job(jobId)).toMatchObject({ status: 'running', error: null });

    const resumedLine = await waitFor('the other worker to resume the job', () =>
      second.output().split('\n').find((l) => l.includes('resuming job from its checkpoint') && l.includes(jobId)), 10_000, 50);
    const handoverMs = Date.now() - sigterm;
    expect(JSON.parse(resumedLine)).toMatchObject({ jobId, resumeEpoch: checkpointEpoch });

    const done = await waitForJob(api.url, key, jobId, (j) => j.status !== 'running', 'the resumed job to finish', 60_000);
    expect(done.status).toBe('succeeded');
    expect(await audit.metricEpochs(jobId)).toEqual(epochsUpTo(epochs));
    expect(await audit.modelWeights(jobId)).toBe(await audit.modelWeights(reference));
    expect(await audit.modelCount(jobId)).toBe(1);
    console.log(`[figures] worker SIGTERM: exited after ${exitMs} ms with a checkpoint at epoch ${checkpointEpoch}; ` +
      `the other worker resumed it ${handoverMs} ms after the signal`);
    await second.stop();
    await api.stop();
  });

  it('the API finishes the request in flight on SIGTERM and refuses new ones', async () => {
    const api = await spawnApi(ctx.env);
    processes.push(api);
    const key = (await createTenant(api.url)).apiKey;
    const { port } = new URL(api.url);

    // A dataset upload whose body arrives in two halves, with SIGTERM in between.
    const body = JSON.stringify({ name: 'in-flight', columns: ['a', 'b', 'y'], rows: [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]], target: 'y' });
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/datasets',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
    });
    req.write(body.slice(0, 20));
    await sleep(300); // the request is being read

    const exited = new Promise((resolve) => api.child.once('exit', resolve));
    api.child.kill('SIGTERM');
    await sleep(500);

    // A new request is refused: the listening socket is closed (or, on a kept-alive connection, answered 503).
    const refused = await fetch(`${api.url}/health`).then((r) => r.status, (err: Error) => err.name);
    expect([503, 'TypeError']).toContain(refused);
    expect(api.child.exitCode).toBeNull(); // still finishing the upload

    req.end(body.slice(20));
    const res = await response;
    expect(res.status, res.body).toBe(201);
    expect(JSON.parse(res.body)).toMatchObject({ name: 'in-flight' });
    await exited;
    expect(api.child.exitCode).toBe(0);
  });

  it('the API exits cleanly on SIGTERM while a client holds a connection it never sent a request on', async () => {
    const api = await spawnApi(ctx.env);
    processes.push(api);
    const { port } = new URL(api.url);
    // A load balancer's preconnect: Node's server.close() counts it as active until headersTimeout (60 s), longer
    // than SHUTDOWN_TIMEOUT_MS, so the process used to time out and exit 1.
    const preconnect = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => preconnect.once('connect', resolve));
    const dropped = new Promise((resolve) => preconnect.once('close', resolve));
    preconnect.on('error', () => {});

    const exited = new Promise((resolve) => api.child.once('exit', resolve));
    api.child.kill('SIGTERM');
    await exited;
    await dropped;
    expect(api.child.exitCode, api.output()).toBe(0);
    expect(api.output()).not.toContain('shutdown timed out');
  });
});
