// A progress write that Postgres refuses for a reason other than being unreachable (here a trigger standing in for
// a full disk or a broken constraint) is not skipped over: the job fails at its next checkpoint, naming the epoch,
// with the metrics written before the refusal and nothing after, no checkpoint and no model. Before, the job went on
// and could end "succeeded" with a hole in its metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { syntheticRegression } from '../helpers/fixtures.js';
import { epochsUpTo, inspectDatabase, type Inspector } from '../helpers/inspect.js';
import { postJob, uploadDataset, waitForJob } from '../helpers/jobs.js';
import { loggedEntries } from '../helpers/processes.js';

const REFUSED_EPOCH = 5;

describe('a progress write Postgres refuses', () => {
  const service = useTestService({ env: { WORKER_CONCURRENCY: '1' }, worker: true });
  let audit: Inspector;

  beforeAll(async () => {
    audit = await inspectDatabase(service.ctx.db.url);
    await audit.query(`
      CREATE FUNCTION refuse_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.epoch = ${REFUSED_EPOCH} THEN RAISE EXCEPTION 'no space left on device (test)'; END IF;
        RETURN NEW;
      END $$`);
    await audit.query('CREATE TRIGGER refuse_epoch BEFORE INSERT ON "JobMetric" FOR EACH ROW EXECUTE FUNCTION refuse_epoch()');
  });
  afterAll(async () => {
    await audit?.close();
  });

  it('fails the job at its next checkpoint, keeping what was written before and nothing after', async () => {
    const { app, worker } = service;
    const { apiKey } = await createTenant(app);
    const { columns, rows } = syntheticRegression(200, 4);
    const datasetId = await uploadDataset(app, apiKey, { name: 'small', columns, rows, target: 'y' });
    const jobId = await postJob(app, apiKey, {
      datasetId,
      model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' },
      training: { optimizer: { type: 'sgd', learningRate: 0.01 }, epochs: 30, batchSize: 32, validationSplit: 0, checkpointEvery: 10, seed: 1 },
    });

    const job = await waitForJob(app, apiKey, jobId, (j) => j.status !== 'queued' && j.status !== 'running', 'the job to end', 30_000);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'ERR_TRAINING_FAILED', message: expect.stringContaining('progress up to epoch 10 could not be stored') });
    expect(job.modelId).toBeNull();
    expect(await audit.metricEpochs(jobId)).toEqual(epochsUpTo(REFUSED_EPOCH - 1));
    expect(await audit.checkpointEpoch(jobId)).toBeNull();
    expect(await audit.modelCount(jobId)).toBe(0);
    // The refusal is logged with Postgres' reason, and the writes after it name it.
    const refused = loggedEntries(worker.output(), `recording epoch ${REFUSED_EPOCH} failed`);
    expect(refused).toHaveLength(1);
    expect(JSON.stringify(refused[0].err)).toContain('no space left on device (test)');
    expect(loggedEntries(worker.output(), 'recording the epoch 10 checkpoint failed')).toHaveLength(1);
  });
});
