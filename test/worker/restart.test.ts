// Fault 1. Nothing is lost when processes die mid-training: the API is stateless, and a SIGKILLed worker's job is
// redelivered and resumes from its last checkpoint, bit for bit.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../helpers/app.js';
import { createTestContext, type TestContext } from '../helpers/env.js';
import { auth } from '../helpers/fixtures.js';
import { submitJob, uploadSlowDataset, waitForJob } from '../helpers/jobs.js';
import { epochsUpTo, inspectDatabase } from '../helpers/inspect.js';
import { spawnApi, spawnWorker, type Spawned } from '../helpers/processes.js';
import { expectResumesAfterKill } from '../helpers/resume.js';

describe('process restarts', () => {
  let ctx: TestContext;
  let env: Record<string, string>;
  const processes: Spawned[] = [];
  let liveApi: Spawned & { url: string };

  beforeAll(async () => {
    // Unmigrated on purpose: the API applies pending migrations when it starts.
    ctx = await createTestContext({ JOB_LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000' }, { migrate: false });
    env = ctx.env;
  });
  afterAll(async () => {
    for (const p of processes) await p.kill();
    await ctx?.cleanup();
  });

  const metrics = async (url: string, key: string, id: string) =>
    (await request(url).get(`/v1/jobs/${id}/metrics`).set(auth(key))).body.items as { epoch: number; loss: number }[];

  it('restarting the API process while a job trains loses nothing', async () => {
    let api = await spawnApi(env);
    processes.push(api);
    const worker = await spawnWorker(env);
    processes.push(worker);
    const key = (await createTenant(api.url)).apiKey;
    const datasetId = await uploadSlowDataset(api.url, key);
    const epochs = 60;
    const jobId = await submitJob(api.url, key, datasetId, epochs);
    await waitForJob(api.url, key, jobId, (j) => j.status === 'running' && j.epoch >= 2, 'training to start');

    await api.kill();
    api = await spawnApi(env);
    processes.push(api);
    liveApi = api;

    const job = await waitForJob(api.url, key, jobId, (j) => j.status === 'succeeded', 'the job to succeed', 90_000);
    expect(job.epoch).toBe(epochs);
    expect((await metrics(api.url, key, jobId)).map((m) => m.epoch)).toEqual(epochsUpTo(epochs));
    const model = await request(api.url).get(`/v1/models/${job.modelId}`).set(auth(key));
    expect(model.status).toBe(200);
    await worker.stop();
  });

  it('a SIGKILLed worker\'s job resumes from its checkpoint and ends byte-identical to an uninterrupted run', async () => {
    const api = liveApi;
    const key = (await createTenant(api.url)).apiKey;
    const datasetId = await uploadSlowDataset(api.url, key);
    const epochs = 40;
    const options = { checkpointEvery: 5, seed: 11 };
    const audit = await inspectDatabase(ctx.db.url);
    const startWorker = async () => {
      const worker = await spawnWorker(env);
      processes.push(worker);
      return worker;
    };

    const { worker } = await expectResumesAfterKill({
      target: api.url,
      key,
      audit,
      submit: () => submitJob(api.url, key, datasetId, epochs, options),
      epochs,
      checkpointEvery: options.checkpointEvery,
      worker: await startWorker(),
      startWorker,
    });
    await worker.stop();
    await audit.close();
  });

  it('a job resumed on a worker with another backend records both, the second from the checkpoint it resumed', async () => {
    const api = liveApi;
    const key = (await createTenant(api.url)).apiKey;
    const datasetId = await uploadSlowDataset(api.url, key);
    const audit = await inspectDatabase(ctx.db.url);
    const first = await spawnWorker({ ...env, BACKPROP_NATIVE_GEMM: 'auto' });
    processes.push(first);
    const jobId = await submitJob(api.url, key, datasetId, 30, { checkpointEvery: 5, seed: 5 });
    await waitForJob(api.url, key, jobId, (j) => j.epoch >= 7, 'the job to pass a checkpoint');
    await first.kill();
    const checkpoint = await audit.checkpointEpoch(jobId);
    const second = await spawnWorker({ ...env, BACKPROP_NATIVE_GEMM: 'off' });
    processes.push(second);
    const job = await waitForJob(api.url, key, jobId, (j) => j.status !== 'running', 'the job to finish on the second worker', 90_000);
    expect(job.status).toBe('succeeded');
    const logged = (worker: Spawned) => JSON.parse(worker.output().split('\n').find((l) => l.includes('"float32 matrix products"'))!).gemm;
    expect(job.backends).toEqual([
      { gemm: logged(first), threads: expect.any(Number), fromEpoch: 0 },
      { gemm: logged(second), threads: 1, fromEpoch: checkpoint },
    ]);
    expect(logged(second)).toMatch(/^(relaxed-simd|simd)$/);
    const model = await request(api.url).get(`/v1/models/${job.modelId}`).set(auth(key));
    expect(model.body.backends).toEqual(job.backends);
    await second.stop();
    await audit.close();
  });
});
