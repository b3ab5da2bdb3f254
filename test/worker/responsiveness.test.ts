// Training runs in a worker thread: while a long job trains, the worker process's event loop keeps answering and
// BullMQ keeps renewing the job's lock (with a 2 s lock, a blocked loop would let the job stall within seconds).
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRAINING_QUEUE } from '../../src/contracts/job-data.js';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth } from '../helpers/fixtures.js';
import { getJob, submitJob, uploadSlowDataset, waitForJob } from '../helpers/jobs.js';
import { workerHealth, type WorkerHealthBody } from '../helpers/processes.js';

const LOCK_MS = 2000;

describe('worker responsiveness while training', () => {
  const service = useTestService({ env: { JOB_LOCK_DURATION_MS: String(LOCK_MS) }, worker: true });
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(service.ctx.config.REDIS_URL);
  });
  afterAll(async () => {
    await redis?.quit();
  });

  it('keeps the event loop responsive and renews the lock throughout a long job', async () => {
    const { app, worker } = service;
    const key = (await createTenant(app)).apiKey;
    const datasetId = await uploadSlowDataset(app, key);
    const jobId = await submitJob(app, key, datasetId, 1000, { checkpointEvery: 5 });
    await waitForJob(app, key, jobId, (j) => j.status === 'running' && j.epoch >= 1, 'training to start');

    const lockKey = `${service.ctx.prefix}:${TRAINING_QUEUE}:${jobId}:lock`;
    const roundTrips: number[] = [];
    const lockTtls: number[] = [];
    let health: WorkerHealthBody | undefined;
    const started = Date.now();
    while (Date.now() - started < 3 * LOCK_MS) {
      const t0 = performance.now();
      health = await workerHealth(worker);
      roundTrips.push(performance.now() - t0);
      lockTtls.push(await redis.pttl(lockKey));
      await new Promise((r) => setTimeout(r, 50));
    }
    const job = await getJob(app, key, jobId);
    expect(job.status, 'the job must still be training after 3 lock durations').toBe('running');
    expect(health!.activeJobs).toBe(1);

    // The loop answered every probe promptly (the engine runs in another thread).
    expect(Math.max(...roundTrips)).toBeLessThan(250);
    expect(health!.eventLoopDelayMs.p99).toBeLessThan(100);

    // The lock existed at every probe and was renewed: its TTL went back up several times.
    expect(lockTtls.every((ttl) => ttl > 0)).toBe(true);
    const renewals = lockTtls.filter((ttl, i) => i > 0 && ttl > lockTtls[i - 1] + 100).length;
    expect(renewals).toBeGreaterThanOrEqual(3);

    // Never stalled, never restarted: the one attempt held its lock all along. (Then stop the long job.)
    const bull = await app.queue.getJob(jobId);
    expect(bull?.stalledCounter ?? 0).toBe(0);
    expect(bull?.attemptsStarted).toBe(1);
    expect((await request(app.server).post(`/v1/jobs/${jobId}/cancel`).set(auth(key))).body.status).toBe('cancelled');
  });
});
