import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createTenant } from '../helpers/app.js';
import { createTestContext, type TestContext } from '../helpers/env.js';
import { auth } from '../helpers/fixtures.js';
import { getJob, submitJob, uploadSlowDataset, waitForJob } from '../helpers/jobs.js';
import { spawnWorker, type WorkerProcess } from '../helpers/processes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cancellation', () => {
  let ctx: TestContext;
  let app: FastifyInstance;
  let key: string;
  let datasetId: string;
  let worker: WorkerProcess | undefined;

  const cancel = (id: string) => request(app.server).post(`/v1/jobs/${id}/cancel`).set(auth(key));
  const metricCount = async (id: string) => (await request(app.server).get(`/v1/jobs/${id}/metrics`).set(auth(key))).body.items.length;

  beforeAll(async () => {
    ctx = await createTestContext();
    app = await buildTestApp(ctx.config);
    key = (await createTenant(app)).apiKey;
    datasetId = await uploadSlowDataset(app, key);
  });
  afterAll(async () => {
    await worker?.stop();
    await app?.close();
    await ctx?.cleanup();
  });

  it('a queued job never starts, even when the queue still holds it', async () => {
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

    worker = await spawnWorker(ctx.env);
    await expect.poll(async () => (await app.queue.getJob(raced))?.failedReason, { timeout: 20_000 }).toBeTruthy();
    for (const id of [viaApi, raced]) {
      const job = await getJob(app, key, id);
      expect(job).toMatchObject({ status: 'cancelled', startedAt: null, epoch: 0, modelId: null });
      expect(await metricCount(id)).toBe(0);
    }
    expect((await cancel(viaApi)).status).toBe(200); // idempotent
  });

  it('a running job stops within one epoch and ends cancelled', async () => {
    const id = await submitJob(app, key, datasetId, 500);
    const running = await waitForJob(app, key, id, (j) => j.status === 'running' && j.epoch >= 3, 'the job to run 3 epochs');
    const res = await cancel(id);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    const epochAtCancel = res.body.epoch as number;
    expect(epochAtCancel).toBeGreaterThanOrEqual(running.epoch);

    // The thread checks its abort signal between epochs; wait for BullMQ to record the job as failed (aborted).
    await expect.poll(async () => (await app.queue.getJob(id))?.failedReason, { timeout: 10_000 }).toBeTruthy();
    const settled = await metricCount(id);
    expect(settled).toBeLessThanOrEqual(epochAtCancel + 1);
    await sleep(1000);
    expect(await metricCount(id)).toBe(settled);
    const job = await getJob(app, key, id);
    expect(job).toMatchObject({ status: 'cancelled', modelId: null, error: null });

    const health = (await (await fetch(`http://127.0.0.1:${worker!.healthPort}/health`)).json()) as { activeJobs: number };
    expect(health.activeJobs).toBe(0);
    // A finished job cannot be cancelled again into another state.
    expect((await cancel(id)).body.status).toBe('cancelled');
  });

  it('cancelling a finished job answers 409', async () => {
    const id = await submitJob(app, key, datasetId, 2);
    await waitForJob(app, key, id, (j) => j.status === 'succeeded', 'the short job to succeed');
    const res = await cancel(id);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain('already succeeded');
  });
});
