// Fault 3. Redis loses its data while jobs train and wait: FLUSHALL, then a restart without persistence. The
// reconciler re-enqueues every job Postgres says is queued or running, and all of them finish, each exactly once.
// A private redis-server: the shared one serves other test runs.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { epochsUpTo } from '../helpers/inspect.js';
import { submitJob, uploadSlowDataset } from '../helpers/jobs.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.js';
import { loggedEntries, waitFor, type WorkerProcess } from '../helpers/processes.js';

describe('Redis data loss', () => {
  let redisServer: PrivateRedis;
  let key: string;
  let datasetId: string;
  const workers: WorkerProcess[] = [];
  const epochs = 60;
  const options = { checkpointEvery: 5, seed: 13 };

  // Registered before the service, so the private Redis is up before it and stopped after it.
  beforeAll(async () => {
    redisServer = await startPrivateRedis();
  });
  afterAll(async () => {
    await redisServer?.stop();
  });
  const service = useTestService({
    env: () => ({
      REDIS_URL: redisServer.url,
      RECONCILE_INTERVAL_MS: '1000',
      JOB_LOCK_DURATION_MS: '2000',
      STALLED_INTERVAL_MS: '1000',
      WORKER_CONCURRENCY: '1',
      TENANT_MAX_CONCURRENT_JOBS: '10',
    }),
    audit: true,
  });
  beforeAll(async () => {
    key = (await createTenant(service.app)).apiKey;
    datasetId = await uploadSlowDataset(service.app, key);
    workers.push(await service.startWorker(), await service.startWorker());
  });

  /** Four jobs: two training past a checkpoint and two waiting when `loseData` runs; then all must finish once. */
  async function survives(loseData: () => Promise<void>): Promise<string> {
    const { app, audit } = service;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await submitJob(app, key, datasetId, epochs, options));
    await waitFor('two jobs to train past a checkpoint', async () => {
      const rows = await audit.query<{ n: string }>('SELECT count(*) AS n FROM "Job" WHERE id = ANY($1::uuid[]) AND status = $2 AND epoch >= 6', [ids, 'running']);
      return Number(rows[0].n) >= 2;
    }, 30_000, 50);
    const logged = workers.map((w) => w.output().length);
    await loseData();

    await waitFor('every job to finish', async () => {
      const rows = await audit.query<{ n: string }>("SELECT count(*) AS n FROM \"Job\" WHERE id = ANY($1::uuid[]) AND status IN ('queued', 'running')", [ids]);
      return Number(rows[0].n) === 0;
    }, 60_000, 200);

    const weights = new Set<string | null>();
    for (const id of ids) {
      expect(await audit.job(id), id).toMatchObject({ status: 'succeeded', error: null });
      expect(await audit.metricEpochs(id), id).toEqual(epochsUpTo(epochs));
      expect(await audit.modelCount(id), id).toBe(1);
      weights.add(await audit.modelWeights(id));
    }
    // Same spec, data and seed: interrupted or not, resumed from a checkpoint or not, the same weights.
    expect(weights.size).toBe(1);
    const after = workers.map((w, i) => w.output().slice(logged[i])).join('\n');
    const requeued = new Set(loggedEntries(after, 're-enqueued an active job').map((entry) => entry.jobId as string));
    return `${requeued.size} of ${ids.length} jobs re-enqueued from Postgres`;
  }

  it('FLUSHALL while two jobs train and two wait', async () => {
    const summary = await survives(async () => {
      const client = new Redis(redisServer.url);
      await client.flushall();
      await client.quit();
    });
    console.log(`[figures] FLUSHALL: ${summary}; all finished once`);
  });

  it('a Redis restart without persistence while two jobs train and two wait', async () => {
    const summary = await survives(() => redisServer.restart());
    console.log(`[figures] Redis restart: ${summary}; all finished once`);
  });
});
