// A job still training JOB_MAX_WALL_TIME_MS after its first start stops at the next batch boundary, keeps its
// progress in a checkpoint and fails with ERR_JOB_WALL_TIME_EXCEEDED; the worker is free for the next job.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { submitJob, uploadSlowDataset, waitForJob } from '../helpers/jobs.js';
import { submitLongEpochJob, uploadLongEpochDataset } from '../helpers/long-epochs.js';
import { workerHealth } from '../helpers/processes.js';

describe('per-job wall-time limit', () => {
  const service = useTestService({ env: { JOB_MAX_WALL_TIME_MS: '3000', WORKER_CONCURRENCY: '1' }, worker: true });
  let key: string;

  beforeAll(async () => {
    key = (await createTenant(service.app)).apiKey;
  });

  it('a job past its wall time stops between two batches, keeps a checkpoint there and fails with a coded error', async () => {
    const { app, worker } = service;
    const datasetId = await uploadLongEpochDataset(app, key);
    // Five epochs of 8,000 batches: far more than 3 s of training.
    const jobId = await submitLongEpochJob(app, key, datasetId, 512, { epochs: 5 });
    const failed = await waitForJob(app, key, jobId, (j) => j.status !== 'queued' && j.status !== 'running', 'the job to end');
    expect(failed.status).toBe('failed');
    expect(failed.modelId).toBeNull();
    expect(failed.error).toMatchObject({
      code: 'ERR_JOB_WALL_TIME_EXCEEDED',
      message: expect.stringContaining('JOB_MAX_WALL_TIME_MS'),
      details: { deadline: expect.any(String), epoch: failed.epoch, stepsDone: expect.any(Number) },
    });
    const details = (failed.error as { details: { deadline: string; stepsDone: number } }).details;
    expect(new Date(details.deadline).getTime() - new Date(failed.startedAt!).getTime()).toBe(3000);

    // Its progress is kept, up to the batch it stopped at: the checkpoint is the one the stop wrote.
    const checkpoint = await app.db.checkpoint.findUnique({ where: { jobId } });
    expect(checkpoint?.epoch).toBe(failed.epoch);
    const data = checkpoint!.data as { inEpoch?: { next: number }; optimizerState: { step: number } };
    expect(data.optimizerState.step).toBe(details.stepsDone);
    expect(data.inEpoch?.next).toBe(details.stepsDone - failed.epoch * 8000);

    // The worker took the next job; a short job ends well within the limit.
    expect((await workerHealth(worker)).activeJobs).toBe(0);
    const next = await submitJob(app, key, await uploadSlowDataset(app, key), 2);
    await waitForJob(app, key, next, (j) => j.status === 'succeeded', 'a short job to succeed');
  });
});
