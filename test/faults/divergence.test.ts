// Fault 7. A loss that turns NaN or infinite fails the job with a reason naming the epoch, the last finite loss and
// a suggested learning rate; the job is not retried (not by BullMQ, not by the reconciler).
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth, syntheticRegression } from '../helpers/fixtures.js';
import { epochsUpTo } from '../helpers/inspect.js';
import { waitForJob } from '../helpers/jobs.js';

const RECONCILE_MS = 500;

describe('divergence', () => {
  const service = useTestService({ env: { RECONCILE_INTERVAL_MS: String(RECONCILE_MS), WORKER_CONCURRENCY: '1' }, worker: true, audit: true });

  it('fails the job with the epoch, the last finite loss and a suggested learning rate, and never retries it', async () => {
    const { app, audit } = service;
    const { apiKey } = await createTenant(app);
    const { columns, rows } = syntheticRegression(200, 4);
    const upload = await request(app.server).post('/v1/datasets').set(auth(apiKey)).send({ name: 'diverges', columns, rows, target: 'y' });
    expect(upload.status).toBe(201);
    const submitted = await request(app.server)
      .post('/v1/jobs')
      .set(auth(apiKey))
      .send({
        datasetId: upload.body.id,
        model: { layers: [{ type: 'dense', units: 8, activation: 'tanh' }, { type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' },
        // Full-batch sgd with heavy momentum at learning rate 5 blows up after a dozen or so epochs.
        training: { optimizer: { type: 'sgd', learningRate: 5, momentum: 0.9 }, epochs: 200, batchSize: 200, validationSplit: 0, seed: 1, checkpointEvery: 5 },
      });
    expect(submitted.status).toBe(202);
    const id = submitted.body.id as string;

    const job = await waitForJob(app, apiKey, id, (j) => j.status !== 'queued' && j.status !== 'running', 'the job to fail', 30_000);
    expect(job.status).toBe('failed');
    const error = job.error as { code: string; message: string; details: { epoch: number; lastFiniteLoss: number; suggestedLearningRate: number } };
    expect(error.code).toBe('ERR_TRAINING_DIVERGED');
    const { epoch, lastFiniteLoss, suggestedLearningRate } = error.details;
    expect(epoch).toBeGreaterThan(1);
    expect(Number.isFinite(lastFiniteLoss)).toBe(true);
    expect(suggestedLearningRate).toBe(0.5);
    expect(error.message).toContain(`epoch ${epoch}`);
    expect(error.message).toContain(`last finite loss: ${lastFiniteLoss}`);
    expect(error.message).toContain('0.5');

    // The diverged epoch was never recorded; every epoch before it was, once.
    const epochs = await audit.metricEpochs(id);
    expect(epochs).toEqual(epochsUpTo(epoch - 1));

    // Not retried: one attempt in BullMQ, and several reconcile passes later it is still failed, with no model.
    await sleep(4 * RECONCILE_MS);
    const bull = await app.queue.getJob(id);
    expect(bull?.attemptsMade).toBe(1);
    expect(await bull?.getState()).toBe('failed');
    expect(await audit.job(id)).toMatchObject({ status: 'failed' });
    expect(await audit.metricEpochs(id)).toEqual(epochs);
    expect(await audit.modelCount(id)).toBe(0);
  });
});
