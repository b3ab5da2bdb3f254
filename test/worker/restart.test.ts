// Fault 1. Nothing is lost when processes die mid-training: the API is stateless, and a SIGKILLed worker's job is
// redelivered and resumes from its last checkpoint, bit for bit.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../helpers/app.js';
import { createTestContext, type TestContext } from '../helpers/env.js';
import { auth } from '../helpers/fixtures.js';
import { submitJob, uploadSlowDataset, waitForJob } from '../helpers/jobs.js';
import { epochsUpTo, inspectDatabase } from '../helpers/inspect.js';
import { loggedEntries, spawnApi, spawnWorker, type Spawned, type WorkerProcess } from '../helpers/processes.js';

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

    let worker: WorkerProcess = await spawnWorker(env);
    processes.push(worker);
    const reference = await submitJob(api.url, key, datasetId, epochs, options);
    await waitForJob(api.url, key, reference, (j) => j.status === 'succeeded', 'the reference job', 90_000);

    const jobId = await submitJob(api.url, key, datasetId, epochs, options);
    await waitForJob(api.url, key, jobId, (j) => j.epoch >= 12, 'the job to pass a checkpoint', 60_000);
    await worker.kill();
    const atCrash = await audit.job(jobId);
    const checkpointAtCrash = await audit.checkpointEpoch(jobId);
    expect(atCrash?.status).toBe('running');
    expect(checkpointAtCrash).toBeGreaterThanOrEqual(10);
    expect(checkpointAtCrash! % options.checkpointEvery).toBe(0);

    worker = await spawnWorker(env);
    processes.push(worker);
    const job = await waitForJob(api.url, key, jobId, (j) => j.status !== 'running', 'the job to finish after the crash', 90_000);
    expect(job.status).toBe('succeeded');

    // Exactly one metric row per epoch: no gap, no duplicate (the replayed epochs rewrote their own rows).
    expect(await audit.metricEpochs(jobId)).toEqual(epochsUpTo(epochs));
    expect(await audit.metricLosses(jobId)).toEqual(await audit.metricLosses(reference));
    // Byte-identical final weights to the uninterrupted run with the same seed, and one model.
    const weights = await audit.modelWeights(jobId);
    expect(weights).not.toBeNull();
    expect(weights).toBe(await audit.modelWeights(reference));
    expect(await audit.modelCount(jobId)).toBe(1);
    // The new worker continued from the checkpoint stored before the crash, not from epoch 0.
    const resumed = loggedEntries(worker.output(), 'resuming job from its checkpoint');
    expect(resumed).toContainEqual(expect.objectContaining({ jobId, resumeEpoch: checkpointAtCrash }));
    await worker.stop();
    await audit.close();
  });
});
