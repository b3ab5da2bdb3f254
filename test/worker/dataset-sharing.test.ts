// A worker process reads each dataset from Postgres once and shares the decoded arrays between its runs (at once and
// later ones), in shared memory that the training threads read in place. Nothing a run does to its own inputs
// (standardizing them) may reach another run: the stored weights are the proof.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import type { TestContext } from '../helpers/env.js';
import { inspectDatabase, type Inspector } from '../helpers/inspect.js';
import { postJob, slowModel, uploadSlowDataset, waitForJob } from '../helpers/jobs.js';
import { spawnWorker, type WorkerProcess } from '../helpers/processes.js';

/** The worker's backprop_worker_dataset_reads_total, by source. */
async function datasetReads(worker: WorkerProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${worker.healthPort}/metrics`)).text();
  const reads: Record<string, number> = {};
  for (const [, source, count] of text.matchAll(/^backprop_worker_dataset_reads_total\{source="(\w+)"\} (\d+)$/gm)) reads[source] = Number(count);
  return reads;
}

describe('datasets shared between runs', () => {
  const service = useTestService({ env: { WORKER_CONCURRENCY: '2' } });
  let app: FastifyInstance;
  let ctx: TestContext;
  let audit: Inspector;
  let key: string;
  let datasetId: string;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    ({ app, ctx } = service);
    audit = await inspectDatabase(ctx.env.DATABASE_URL);
    key = (await createTenant(app)).apiKey;
    datasetId = await uploadSlowDataset(app, key);
  });
  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await audit?.close();
  });

  const train = (standardize: boolean) =>
    postJob(app, key, {
      datasetId,
      model: slowModel,
      training: { optimizer: { type: 'sgd', learningRate: 0.01 }, epochs: 3, batchSize: 32, validationSplit: 0, seed: 3 },
      preprocessing: { standardize },
    });
  const succeeded = (id: string) => waitForJob(app, key, id, (j) => j.status === 'succeeded', `job ${id} to succeed`);

  it('reads the dataset once for runs at once and later, and a standardized run leaves the shared arrays as they were', async () => {
    const worker = await spawnWorker(ctx.env);
    workers.push(worker);
    const [raw, standardized] = await Promise.all([train(false), train(true)]);
    await Promise.all([succeeded(raw), succeeded(standardized)]);
    const rawAgain = await train(false);
    await succeeded(rawAgain);

    const reads = await datasetReads(worker);
    expect(reads.postgres).toBe(1);
    expect((reads.shared ?? 0) + (reads.cache ?? 0)).toBe(2);
    // Same seed, same data: a raw run after the standardized one trained on the dataset as stored.
    expect(await audit.modelWeights(rawAgain)).toBe(await audit.modelWeights(raw));
    expect(await audit.modelWeights(standardized)).not.toBe(await audit.modelWeights(raw));
    await worker.stop();

    // The standardized run trained on what a worker without a cache computes from Postgres.
    const uncached = await spawnWorker({ ...ctx.env, WORKER_DATASET_CACHE_MB: '0' });
    workers.push(uncached);
    const reference = await train(true);
    await succeeded(reference);
    expect(await audit.modelWeights(standardized)).toBe(await audit.modelWeights(reference));
    const again = await train(true);
    await succeeded(again);
    expect(await datasetReads(uncached)).toMatchObject({ postgres: 2 });
    expect(await audit.modelWeights(again)).toBe(await audit.modelWeights(reference));
  });
});
