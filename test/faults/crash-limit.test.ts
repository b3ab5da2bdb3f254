// A job that takes its worker down every time (out of memory, a native crash) is not resumed forever: after
// JOB_MAX_CRASHES deaths in a row it fails with ERR_WORKER_CRASHED, and a clean hand-back (SIGTERM) resets the count.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { submitJob, uploadSlowDataset, waitForJob } from '../helpers/jobs.js';
import { workerHealth } from '../helpers/processes.js';

describe('crash limit per job', () => {
  const service = useTestService({
    env: { JOB_LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000', RECONCILE_INTERVAL_MS: '1000', WORKER_CONCURRENCY: '1', JOB_MAX_CRASHES: '2' },
  });
  let key: string;
  let datasetId: string;

  beforeAll(async () => {
    key = (await createTenant(service.app)).apiKey;
    datasetId = await uploadSlowDataset(service.app, key);
  });

  it('fails the job once its worker died JOB_MAX_CRASHES + 1 times in a row; a SIGTERM hand-back is no crash', async () => {
    const app = service.app;
    const jobId = await submitJob(app, key, datasetId, 10_000, { checkpointEvery: 5, seed: 3 });
    // Two deaths, a clean hand-back (which resets the count), then three deaths: only the third in a row is one too many.
    let epoch = 0;
    for (const end of ['kill', 'kill', 'stop', 'kill', 'kill', 'kill'] as const) {
      const w = await service.startWorker();
      // Ended only once its run has trained an epoch past the last one, so that its start is counted in Postgres.
      await waitForJob(app, key, jobId, (j) => j.epoch > epoch, 'the new worker to train the job', 30_000);
      await w[end]();
      const job = await waitForJob(app, key, jobId, () => true, 'the job');
      expect(job.status).toBe('running');
      epoch = job.epoch;
    }
    const last = await service.startWorker();
    const failed = await waitForJob(app, key, jobId, (j) => j.status === 'failed', 'the job to fail', 30_000);
    expect(failed.error).toMatchObject({ code: 'ERR_WORKER_CRASHED', message: expect.stringContaining('last 3 runs') });
    expect((await workerHealth(last)).activeJobs).toBe(0);
  });
});
