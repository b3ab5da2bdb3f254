// Issue #16, 6: a deploy (SIGTERM) in the middle of an epoch longer than SHUTDOWN_TIMEOUT_MS. The worker stops the
// run at the next batch boundary, checkpoints there and exits cleanly; the run counts as a release, not a crash (with
// JOB_MAX_CRASHES=0 a single crash would fail the job), and the next worker resumes from the batch it stopped at and
// ends byte-identical to a run that was never stopped.
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { waitForJob } from '../helpers/jobs.js';
import { LONG_EPOCH_ROWS, submitLongEpochJob, uploadLongEpochDataset } from '../helpers/long-epochs.js';
import { loggedEntries, waitFor, workerHealth } from '../helpers/processes.js';

describe('a deploy during a long epoch', () => {
  const service = useTestService({
    env: {
      SHUTDOWN_TIMEOUT_MS: '2000',
      JOB_MAX_CRASHES: '0',
      // A worker that died would have its job taken over within seconds, to be counted as a crash.
      JOB_LOCK_DURATION_MS: '2000',
      STALLED_INTERVAL_MS: '1000',
      WORKER_CONCURRENCY: '1',
    },
    audit: true,
  });
  let key: string;
  let datasetId: string;

  beforeAll(async () => {
    key = (await createTenant(service.app)).apiKey;
    datasetId = await uploadLongEpochDataset(service.app, key);
  });

  it('checkpoints at a batch boundary, is handed back as a release, and resumes from that batch', async () => {
    const { app, audit } = service;
    // One epoch of 8,000 batches of a 20-512-512-1 network: seconds at best, several times SHUTDOWN_TIMEOUT_MS.
    const submit = () => submitLongEpochJob(app, key, datasetId, 512);
    const first = await service.startWorker();
    const reference = await submit();
    await waitForJob(app, key, reference, (j) => j.status === 'succeeded', 'the reference job', 300_000);

    const jobId = await submit();
    await waitForJob(app, key, jobId, (j) => j.status === 'running', 'the job to start');
    await waitFor('the worker to train it', async () => (await workerHealth(first)).activeJobs === 1);
    await sleep(1500); // into its first epoch's batches
    await first.stop();
    expect(first.child.exitCode, first.output()).toBe(0);
    expect(first.output()).not.toContain('shutdown timed out');

    // Still running in Postgres, no run counted against JOB_MAX_CRASHES, and a checkpoint in the middle of epoch 1.
    const row = await app.db.job.findUnique({ where: { id: jobId } });
    expect(row).toMatchObject({ status: 'running', epoch: 0, unfinishedRuns: 0 });
    const checkpoint = await app.db.checkpoint.findUnique({ where: { jobId } });
    const inEpoch = (checkpoint?.data as { inEpoch?: { next: number } }).inEpoch;
    expect(checkpoint?.epoch).toBe(0);
    expect(inEpoch?.next).toBeGreaterThan(0);
    expect(inEpoch?.next).toBeLessThan(LONG_EPOCH_ROWS);

    const second = await service.startWorker();
    const done = await waitForJob(app, key, jobId, (j) => j.status !== 'running' && j.status !== 'queued', 'the job to finish', 300_000);
    expect(done.status).toBe('succeeded');
    expect(loggedEntries(second.output(), 'resuming job from its checkpoint')).toContainEqual(expect.objectContaining({ jobId, resumeEpoch: 0 }));
    expect(await audit.metricLosses(jobId)).toEqual(await audit.metricLosses(reference));
    expect(await audit.modelWeights(jobId)).toBe(await audit.modelWeights(reference));
  });
});
