// Fault 4. Postgres unreachable for a few seconds while a job trains: the worker retries its writes with backoff and
// the job still succeeds, unchanged; the API answers 503 on /ready and on routes that need the database, and
// recovers by itself. The outage is a TCP proxy the test stops, so only this test's connections break.
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { buildTestApp, createTenant } from '../helpers/app.js';
import { createTestContext, type TestContext } from '../helpers/env.js';
import { auth } from '../helpers/fixtures.js';
import { epochsUpTo, inspectDatabase, type Inspector } from '../helpers/inspect.js';
import { submitJob, uploadSlowDataset, waitForJob } from '../helpers/jobs.js';
import { spawnWorker, waitFor, type WorkerProcess } from '../helpers/processes.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const OUTAGE_MS = 4000;

describe('Postgres outage', () => {
  let ctx: TestContext;
  let proxy: TcpProxy;
  let app: FastifyInstance;
  let worker: WorkerProcess;
  let audit: Inspector;

  beforeAll(async () => {
    ctx = await createTestContext({ WORKER_CONCURRENCY: '1', RECONCILE_INTERVAL_MS: '1000' });
    proxy = await startTcpProxy('127.0.0.1', Number(new URL(ctx.db.url).port || 5432));
    const viaProxy = { ...ctx.env, DATABASE_URL: proxy.url(ctx.db.url) };
    app = await buildTestApp(loadConfig(viaProxy));
    worker = await spawnWorker(viaProxy);
    audit = await inspectDatabase(ctx.db.url); // direct, not through the proxy
  });
  afterAll(async () => {
    await proxy?.start().catch(() => undefined);
    await worker?.stop();
    await audit?.close();
    await app?.close();
    await proxy?.stop();
    await ctx?.cleanup();
  });

  it('a job survives a Postgres outage and the API answers 503 until Postgres is back', async () => {
    const key = (await createTenant(app)).apiKey;
    const datasetId = await uploadSlowDataset(app, key);
    const epochs = 60;
    const options = { checkpointEvery: 10, seed: 17 };
    const reference = await submitJob(app, key, datasetId, epochs, options);
    await waitForJob(app, key, reference, (j) => j.status === 'succeeded', 'the reference job', 60_000);

    const jobId = await submitJob(app, key, datasetId, epochs, options);
    await waitForJob(app, key, jobId, (j) => j.status === 'running' && j.epoch >= 8, 'the job to train 8 epochs', 30_000);

    await proxy.stop();
    const outageStarted = Date.now();
    const ready = await request(app.server).get('/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error).toMatchObject({ code: 'ERR_UNAVAILABLE', details: { checks: { postgres: 'unreachable', redis: 'ok' } } });
    const status = await request(app.server).get(`/v1/jobs/${jobId}`).set(auth(key));
    expect(status.status).toBe(503);
    expect(status.body).toEqual({ error: { code: 'ERR_UNAVAILABLE', message: 'the database is unavailable, try again' } });
    await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - outageStarted)));
    await proxy.start();
    const outageEnded = Date.now();

    // Nobody restarts anything: the pools reconnect by themselves.
    await waitFor('the API to be ready again', async () => (await request(app.server).get('/ready')).status === 200, 15_000, 100);
    const readyAfterMs = Date.now() - outageEnded;
    expect((await request(app.server).get(`/v1/jobs/${jobId}`).set(auth(key))).status).toBe(200);

    const job = await waitForJob(app, key, jobId, (j) => j.status !== 'running', 'the job to finish after the outage', 60_000);
    expect(job.status).toBe('succeeded');
    expect(await audit.metricEpochs(jobId)).toEqual(epochsUpTo(epochs));
    expect(await audit.metricLosses(jobId)).toEqual(await audit.metricLosses(reference));
    expect(await audit.modelWeights(jobId)).toBe(await audit.modelWeights(reference));
    expect(await audit.modelCount(jobId)).toBe(1);
    // The worker did hit the outage and retried rather than dropping writes.
    expect(worker.output()).toContain('postgres unreachable; retrying');
    const costMs = (await audit.durationMs(jobId)) - (await audit.durationMs(reference));
    console.log(`[figures] Postgres outage of ${OUTAGE_MS / 1000} s: API ready again ${readyAfterMs} ms after it ended; ` +
      `the job took ${(costMs / 1000).toFixed(2)} s longer than uninterrupted`);
  });
});
