import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { expect } from 'vitest';
import { IRIS_COLUMNS, auth, irisSplit, syntheticRegression, toCsv } from './fixtures.js';
import { waitFor, workerHealth, type WorkerProcess } from './processes.js';

/** An app built in the test, or the URL of a spawned API process. */
export type Target = FastifyInstance | string;
const agent = (target: Target) => (typeof target === 'string' ? request(target) : request(target.server));

/** POST /v1/datasets with a JSON body; returns the dataset's id. */
export async function uploadDataset(target: Target, key: string, body: object): Promise<string> {
  const res = await agent(target).post('/v1/datasets').set(auth(key)).send(body);
  if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${res.text}`);
  return res.body.id;
}

/** POST /v1/datasets with the Iris training rows as CSV (target `species`); returns the dataset's id. */
export async function uploadIris(target: Target, key: string, name = 'iris'): Promise<string> {
  const res = await agent(target)
    .post('/v1/datasets')
    .query({ name, target: 'species' })
    .set(auth(key))
    .set('content-type', 'text/csv')
    .send(toCsv(IRIS_COLUMNS, irisSplit().train));
  if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${res.text}`);
  return res.body.id;
}

/** POST /v1/jobs; returns the job's id. */
export async function postJob(target: Target, key: string, body: object): Promise<string> {
  const res = await agent(target).post('/v1/jobs').set(auth(key)).send(body);
  if (res.status !== 202) throw new Error(`job answered ${res.status}: ${res.text}`);
  return res.body.id;
}

/**
 * A regression dataset and network for jobs that run a while: an epoch takes about 17 ms on a quiet machine with the
 * wasm kernels and up to ten times that on a busy one, so tests that need a job mid-training wait for an epoch or
 * scale their epochs rather than assume a duration.
 */
export async function uploadSlowDataset(target: Target, key: string): Promise<string> {
  const { columns, rows } = syntheticRegression(2000, 20);
  return uploadDataset(target, key, { name: 'slow', columns, rows, target: 'y' });
}

export const slowModel = {
  layers: [
    { type: 'dense', units: 128, activation: 'relu' },
    { type: 'dense', units: 128, activation: 'relu' },
    { type: 'dense', units: 1, activation: 'linear' },
  ],
  loss: 'meanSquaredError',
} as const;

export const submitJob = (target: Target, key: string, datasetId: string, epochs: number, extra: object = {}): Promise<string> =>
  postJob(target, key, { datasetId, model: slowModel, training: { optimizer: { type: 'sgd', learningRate: 0.01 }, epochs, batchSize: 32, validationSplit: 0, seed: 3, ...extra } });

export async function getJob(target: Target, key: string, id: string) {
  const res = await agent(target).get(`/v1/jobs/${id}`).set(auth(key));
  if (res.status !== 200) throw new Error(`job ${id} answered ${res.status}: ${res.text}`);
  return res.body as {
    status: string;
    epoch: number;
    epochs: number;
    modelId: string | null;
    startedAt: string | null;
    error: unknown;
    backends: { gemm: string; threads: number; fromEpoch: number }[];
  };
}

export const waitForJob = (target: Target, key: string, id: string, ok: (job: Awaited<ReturnType<typeof getJob>>) => boolean, what: string, timeoutMs = 60_000) =>
  waitFor(what, async () => {
    const job = await getJob(target, key, id);
    return ok(job) ? job : undefined;
  }, timeoutMs, 100);

/** How many metric rows GET /v1/jobs/:id/metrics lists. */
export const metricCount = async (app: FastifyInstance, key: string, id: string) =>
  (await agent(app).get(`/v1/jobs/${id}/metrics`).set(auth(key))).body.items.length as number;

/**
 * Cancels a job that `running` showed training and checks its run stops within one epoch: BullMQ records the run as
 * failed (aborted), no metric row is added after that, no model is stored and the worker holds no job any more.
 */
export async function cancelAndExpectStopped(app: FastifyInstance, key: string, id: string, running: { epoch: number }, worker: WorkerProcess): Promise<void> {
  const res = await agent(app).post(`/v1/jobs/${id}/cancel`).set(auth(key));
  expect(res.status).toBe(200);
  expect(res.body.status).toBe('cancelled');
  const epochAtCancel = res.body.epoch as number;
  expect(epochAtCancel).toBeGreaterThanOrEqual(running.epoch);

  // The thread reads its stop flag before every batch; wait for BullMQ to record the job as failed (cancelled).
  await expect.poll(async () => (await app.queue.getJob(id))?.failedReason, { timeout: 10_000 }).toBeTruthy();
  const settled = await metricCount(app, key, id);
  expect(settled).toBeLessThanOrEqual(epochAtCancel + 1);
  await sleep(1000);
  expect(await metricCount(app, key, id)).toBe(settled);
  expect(await getJob(app, key, id)).toMatchObject({ status: 'cancelled', modelId: null, error: null });
  expect((await workerHealth(worker)).activeJobs).toBe(0);
}
