// Fault 5. At-least-once delivery: the same job processed twice, at the same time by two workers and again after
// it finished, leaves one model and one metric row per epoch.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRAINING_QUEUE, type TrainingJobData } from '../../src/contracts/job-data.js';
import { enqueueTraining } from '../../src/queue/producer.js';
import { createTenant, useTestService } from '../helpers/app.js';
import { randomPrefix } from '../helpers/databases.js';
import { deleteRedisPrefix } from '../helpers/env.js';
import { epochsUpTo } from '../helpers/inspect.js';
import { submitJob, uploadSlowDataset, waitForJob } from '../helpers/jobs.js';
import { spawnWorker, waitFor, type WorkerProcess } from '../helpers/processes.js';

describe('at-least-once delivery', () => {
  const service = useTestService({ env: { WORKER_CONCURRENCY: '1' }, audit: true });
  let redis: Redis;
  /** A second queue (own prefix) on the same database: its worker receives the very same job a second time. */
  const otherPrefix = randomPrefix();
  let otherQueue: Queue<TrainingJobData>;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    const { ctx } = service;
    redis = new Redis(ctx.config.REDIS_URL, { maxRetriesPerRequest: null });
    otherQueue = new Queue<TrainingJobData>(TRAINING_QUEUE, { connection: redis, prefix: otherPrefix });
    workers.push(await spawnWorker(ctx.env), await spawnWorker({ ...ctx.env, QUEUE_PREFIX: otherPrefix }));
  });
  afterAll(async () => {
    for (const w of workers) await w.stop();
    await otherQueue?.close();
    await redis?.quit();
    await deleteRedisPrefix(service.ctx.config.REDIS_URL, otherPrefix);
  });

  it('two workers training the same job at once store one model and one row per epoch', async () => {
    const { app, audit } = service;
    const { id: tenantId, apiKey } = await createTenant(app);
    const datasetId = await uploadSlowDataset(app, apiKey);
    const epochs = 25;
    const jobId = await submitJob(app, apiKey, datasetId, epochs, { checkpointEvery: 5, seed: 9 });
    // The duplicate delivery: the same payload on the other worker's queue.
    await enqueueTraining(otherQueue, { jobId, tenantId });

    await waitFor('both workers to train the job', async () => {
      const [a, b] = await Promise.all([app.queue.getJob(jobId), otherQueue.getJob(jobId)]);
      return a?.processedOn && b?.processedOn;
    }, 20_000);
    const job = await waitForJob(app, apiKey, jobId, (j) => j.status !== 'queued' && j.status !== 'running', 'the job to finish', 60_000);
    expect(job.status).toBe('succeeded');
    // Wait for the slower run to stop too (it finishes as well, or stops once Postgres refuses its epochs).
    await waitFor('both runs to end', async () => {
      const states = await Promise.all([app.queue.getJobState(jobId), otherQueue.getJobState(jobId)]);
      return states.every((s) => s === 'completed' || s === 'failed');
    }, 30_000);

    expect(await audit.modelCount(jobId)).toBe(1);
    expect(await audit.metricEpochs(jobId)).toEqual(epochsUpTo(epochs));
    expect(await audit.job(jobId)).toMatchObject({ status: 'succeeded', epoch: epochs, error: null });
  });

  it('a job delivered again after it succeeded is not trained again', async () => {
    const { app, audit } = service;
    const { id: tenantId, apiKey } = await createTenant(app);
    const datasetId = await uploadSlowDataset(app, apiKey);
    const epochs = 5;
    const jobId = await submitJob(app, apiKey, datasetId, epochs, { seed: 2 });
    const done = await waitForJob(app, apiKey, jobId, (j) => j.status === 'succeeded', 'the job to succeed', 30_000);
    const weights = await audit.modelWeights(jobId);
    const finishedAt = (await audit.job(jobId))!.finishedAt;

    // Redelivered, as after a stall whose worker had in fact finished.
    await enqueueTraining(otherQueue, { jobId, tenantId });
    await waitFor('the redelivery to be handled', async () => (await otherQueue.getJobState(jobId)) === 'failed', 20_000);
    expect((await otherQueue.getJob(jobId))?.failedReason).toContain('it is succeeded');

    expect(await audit.modelCount(jobId)).toBe(1);
    expect(await audit.modelWeights(jobId)).toBe(weights);
    expect(await audit.metricEpochs(jobId)).toEqual(epochsUpTo(epochs));
    expect(await audit.job(jobId)).toMatchObject({ status: 'succeeded', finishedAt });
    expect(done.modelId).not.toBeNull();
  });
});
