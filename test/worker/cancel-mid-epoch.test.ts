// Issue #16, 5: a cancel stops training at the next batch boundary, and the tenant's slot is given to its next job
// only once the cancelled run has really ended, so submit-and-cancel cannot hold more training threads than the limit.
import request from 'supertest';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth } from '../helpers/fixtures.js';
import { getJob, metricCount, submitJob, uploadSlowDataset, waitForJob } from '../helpers/jobs.js';
import { submitLongEpochJob, uploadLongEpochDataset } from '../helpers/long-epochs.js';
import { waitFor, workerHealth } from '../helpers/processes.js';

describe('cancelling a job in the middle of a long epoch', () => {
  // Two training threads, one slot per tenant: a second job of the tenant could only train beside the first by
  // taking a slot the first still uses.
  const service = useTestService({ env: { TENANT_MAX_CONCURRENT_JOBS: '1', WORKER_CONCURRENCY: '2', RECONCILE_INTERVAL_MS: '1000' }, worker: true });
  let key: string;
  let longData: string;
  let shortData: string;

  beforeAll(async () => {
    key = (await createTenant(service.app)).apiKey;
    longData = await uploadLongEpochDataset(service.app, key);
    shortData = await uploadSlowDataset(service.app, key);
  });

  it('stops at the next batch boundary, long before the epoch could end', async () => {
    const { app, worker } = service;
    // 8,000 batches of one row through a 20-2048-2048-1 network: an epoch of minutes on this machine, never under 15 s.
    const jobId = await submitLongEpochJob(app, key, longData, 2048);
    await waitForJob(app, key, jobId, (j) => j.status === 'running', 'the long job to start');
    await waitFor('the worker to train it', async () => (await workerHealth(worker)).activeJobs === 1);
    await sleep(1000); // into its first epoch's batches

    const res = await request(app.server).post(`/v1/jobs/${jobId}/cancel`).set(auth(key));
    expect(res.status, res.text).toBe(200);
    const bull = await waitFor('the cancelled run to end', async () => {
      const job = await app.queue.getJob(jobId);
      return job?.finishedOn ? job : undefined;
    }, 15_000);
    // The thread says where it stopped: inside the first epoch, which never reported.
    expect(bull.failedReason).toContain('cancelled in epoch 1');
    expect(await metricCount(app, key, jobId)).toBe(0);
    await waitFor('the worker to be idle', async () => (await workerHealth(worker)).activeJobs === 0);
  });

  it("the tenant's next job starts only after the cancelled run has ended", async () => {
    const { app, worker } = service;
    // Batches of 4,000 rows through a 20-2048-2048-1 network, 30 epochs of two: a run stops only between two batches,
    // so the cancelled run goes on for a while after the cancel (a batch takes 0.3 s with OpenBLAS, seconds without),
    // and it cannot end on its own before the cancel.
    const cancelled = await submitLongEpochJob(app, key, longData, 2048, { batchSize: 4000, epochs: 30 });
    await waitForJob(app, key, cancelled, (j) => j.status === 'running', 'the job to start');
    await waitFor('the worker to train it', async () => (await workerHealth(worker)).activeJobs === 1);
    await sleep(1000); // into a batch
    const next = await submitJob(app, key, shortData, 2);
    expect((await getJob(app, key, next)).status).toBe('queued');

    const res = await request(app.server).post(`/v1/jobs/${cancelled}/cancel`).set(auth(key));
    expect(res.status, res.text).toBe(200);
    const done = await waitForJob(app, key, next, (j) => j.status === 'succeeded', 'the next job to succeed');
    const bull = await app.queue.getJob(cancelled);
    expect(bull?.failedReason).toMatch(/cancelled in epoch \d+$/);
    // Admitted by the end of the cancelled run, not by the cancel: it got the slot, and so started training, after
    // that run had ended.
    const admitted = (await app.db.job.findUnique({ where: { id: next } }))!.dispatchedAt!;
    expect(admitted.getTime()).toBeGreaterThanOrEqual(bull!.finishedOn!);
    expect(new Date(done.startedAt!).getTime()).toBeGreaterThanOrEqual(bull!.finishedOn!);
    expect((await app.db.job.findUnique({ where: { id: cancelled } }))?.unfinishedRuns).toBe(0);
    expect((await workerHealth(worker)).activeJobs).toBe(0);
  });

  it('a cancelled job whose run died with its worker frees its slot once the queue no longer holds it', async () => {
    const { app } = service;
    // The state a worker killed mid-run leaves once the cancel removed the job from the queue: nobody will end the run.
    const orphan = await submitJob(app, key, shortData, 2);
    await waitForJob(app, key, orphan, (j) => j.status === 'succeeded', 'a job to finish');
    await app.db.job.update({ where: { id: orphan }, data: { status: 'cancelled', unfinishedRuns: 1 } });
    await app.queue.remove(orphan);
    const next = await submitJob(app, key, shortData, 2);
    expect((await getJob(app, key, next)).status).toBe('queued');
    // The worker's reconciler (RECONCILE_INTERVAL_MS) sees no run can come and gives the slot away.
    await waitForJob(app, key, next, (j) => j.status === 'succeeded', 'the next job to succeed');
    expect((await app.db.job.findUnique({ where: { id: orphan } }))?.unfinishedRuns).toBe(0);
  });
});
