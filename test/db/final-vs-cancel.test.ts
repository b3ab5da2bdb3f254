// A cancel and a run's final model write can meet: the cancel commits while the model is being stored. Exactly one
// of them must win. Before the job's row was locked for the write, the model write read "running", stored its model
// and then overwrote the committed cancel with "succeeded": the cancel had answered 200 and the job succeeded anyway.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { jobRepository } from '../../src/db/jobs.js';
import { createNetwork, serializeModel, type ModelSpec } from '../../src/engine/index.js';
import { createTenant, useTestService } from '../helpers/app.js';
import { postJob, uploadIris } from '../helpers/jobs.js';
import { inspectDatabase } from '../helpers/inspect.js';

describe('a cancel committed while the final model is written', () => {
  const service = useTestService({ audit: true });

  it('wins: the job stays cancelled and no model is stored', async () => {
    const { app, audit, ctx } = service;
    const key = (await createTenant(app)).apiKey;
    const datasetId = await uploadIris(app, key);
    const model: Omit<ModelSpec, 'inputSize'> = { layers: [{ type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' };
    const jobId = await postJob(app, key, { datasetId, model, training: { epochs: 1, seed: 1 } });
    const jobs = jobRepository(app.db);
    await jobs.markRunning(jobId);
    const weights = serializeModel(createNetwork({ inputSize: 4, ...model }, 1));

    // The cancel holds the job's row from before the write starts until after the write has had time to read it.
    const canceller = await inspectDatabase(ctx.db.url);
    try {
      await canceller.query('BEGIN');
      await canceller.query(`UPDATE "Job" SET status = 'cancelled', "finishedAt" = now() WHERE id = $1`, [jobId]);
      const write = jobs.recordFinal(jobId, weights, null, 1, null);
      await sleep(300);
      await canceller.query('COMMIT');
      expect(await write).toBeNull();
    } finally {
      await canceller.close();
    }
    expect((await audit.job(jobId))?.status).toBe('cancelled');
    expect(await audit.modelCount(jobId)).toBe(0);
  });
});
