// Recurrent jobs behave like dense ones in the worker: a running lstm job stops within an epoch when cancelled, and
// one whose worker is SIGKILLed resumes from its checkpoint and ends byte-identical to an uninterrupted run.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createTenant } from '../helpers/app.js';
import { createTestContext, type TestContext } from '../helpers/env.js';
import { epochsUpTo, inspectDatabase } from '../helpers/inspect.js';
import { cancelAndExpectStopped, waitForJob } from '../helpers/jobs.js';
import { loggedEntries, spawnWorker, type WorkerProcess } from '../helpers/processes.js';
import { submitSequenceJob, uploadSlowSequenceDataset } from '../helpers/sequences.js';

describe('recurrent jobs in the worker', () => {
  let ctx: TestContext;
  let app: FastifyInstance;
  let key: string;
  let datasetId: string;
  const workers: WorkerProcess[] = [];

  const startWorker = async () => {
    const worker = await spawnWorker(ctx.env);
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    // Short lock and stalled check, so a killed worker's job is handed on within seconds.
    ctx = await createTestContext({ JOB_LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000' });
    app = await buildTestApp(ctx.config);
    key = (await createTenant(app)).apiKey;
    datasetId = await uploadSlowSequenceDataset(app, key);
  });
  afterAll(async () => {
    for (const worker of workers) await worker.kill();
    await app?.close();
    await ctx?.cleanup();
  });

  it('a running lstm job stops within one epoch of its cancellation and stores no model', async () => {
    const worker = await startWorker();
    const id = await submitSequenceJob(app, key, datasetId, 500);
    const running = await waitForJob(app, key, id, (j) => j.status === 'running' && j.epoch >= 3, 'the job to run 3 epochs');
    await cancelAndExpectStopped(app, key, id, running, worker);
  });

  it('a SIGKILLed worker\'s lstm job resumes from its checkpoint and ends byte-identical to an uninterrupted run', async () => {
    const epochs = 40;
    const options = { checkpointEvery: 5, seed: 11 };
    const audit = await inspectDatabase(ctx.db.url);
    try {
      let worker = workers.at(-1)!;
      const reference = await submitSequenceJob(app, key, datasetId, epochs, options);
      await waitForJob(app, key, reference, (j) => j.status === 'succeeded', 'the reference job', 90_000);

      const jobId = await submitSequenceJob(app, key, datasetId, epochs, options);
      await waitForJob(app, key, jobId, (j) => j.epoch >= 12, 'the job to pass a checkpoint', 60_000);
      await worker.kill();
      const checkpointAtCrash = await audit.checkpointEpoch(jobId);
      expect((await audit.job(jobId))?.status).toBe('running');
      expect(checkpointAtCrash).toBeGreaterThanOrEqual(10);
      expect(checkpointAtCrash! % options.checkpointEvery).toBe(0);
      expect(checkpointAtCrash).toBeLessThan(epochs);

      worker = await startWorker();
      const job = await waitForJob(app, key, jobId, (j) => j.status !== 'running', 'the job to finish after the crash', 90_000);
      expect(job.status).toBe('succeeded');

      expect(await audit.metricEpochs(jobId)).toEqual(epochsUpTo(epochs));
      expect(await audit.metricLosses(jobId)).toEqual(await audit.metricLosses(reference));
      const weights = await audit.modelWeights(jobId);
      expect(weights).not.toBeNull();
      expect(weights).toContain('recurrentKernel'); // the lstm's weights, not only the dense head's
      expect(weights).toBe(await audit.modelWeights(reference));
      expect(await audit.modelCount(jobId)).toBe(1);
      const resumed = loggedEntries(worker.output(), 'resuming job from its checkpoint');
      expect(resumed).toContainEqual(expect.objectContaining({ jobId, resumeEpoch: checkpointAtCrash }));
    } finally {
      await audit.close();
    }
  });
});
