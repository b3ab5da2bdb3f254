import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth } from '../helpers/fixtures.js';
import { cancelAndExpectStopped, getJob, metricCount, submitJob, uploadSlowDataset, waitForJob } from '../helpers/jobs.js';
import type { WorkerProcess } from '../helpers/processes.js';

describe('cancellation', () => {
  // The worker starts in the first test, once the jobs it must not run are queued.
  const service = useTestService();
  let key: string;
  let datasetId: string;
  let worker: WorkerProcess;

  const cancel = (id: string) => request(service.app.server).post(`/v1/jobs/${id}/cancel`).set(auth(key));

  beforeAll(async () => {
    key = (await createTenant(service.app)).apiKey;
    datasetId = await uploadSlowDataset(service.app, key);
  });

  it('a queued job never starts, even when the queue still holds it', async () => {
    const { app } = service;
    // No worker runs yet, so both jobs wait in the queue.
    const viaApi = await submitJob(app, key, datasetId, 5);
    const res = await cancel(viaApi);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: viaApi, status: 'cancelled', startedAt: null });
    expect(await app.queue.getJob(viaApi)).toBeUndefined();

    // Cancelled in Postgres while the queue kept it (the race where the remove came too late):
    // the worker re-checks Postgres when the job becomes active.
    const raced = await submitJob(app, key, datasetId, 5);
    await app.db.job.update({ where: { id: raced }, data: { status: 'cancelled', finishedAt: new Date() } });
    expect(await app.queue.getJob(raced)).toBeDefined();

    worker = await service.startWorker();
    await expect.poll(async () => (await app.queue.getJob(raced))?.failedReason, { timeout: 20_000 }).toBeTruthy();
    for (const id of [viaApi, raced]) {
      const job = await getJob(app, key, id);
      expect(job).toMatchObject({ status: 'cancelled', startedAt: null, epoch: 0, modelId: null });
      expect(await metricCount(app, key, id)).toBe(0);
    }
    expect((await cancel(viaApi)).status).toBe(200); // idempotent
  });

  it('a running job stops within one epoch and ends cancelled', async () => {
    const { app } = service;
    const id = await submitJob(app, key, datasetId, 500);
    const running = await waitForJob(app, key, id, (j) => j.status === 'running' && j.epoch >= 3, 'the job to run 3 epochs');
    await cancelAndExpectStopped(app, key, id, running, worker);
    // A finished job cannot be cancelled again into another state.
    expect((await cancel(id)).body.status).toBe('cancelled');
  });

  it('cancelling a finished job answers 409', async () => {
    const { app } = service;
    const id = await submitJob(app, key, datasetId, 2);
    await waitForJob(app, key, id, (j) => j.status === 'succeeded', 'the short job to succeed');
    const res = await cancel(id);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain('already succeeded');
  });
});
