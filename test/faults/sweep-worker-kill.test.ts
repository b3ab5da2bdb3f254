// A sweep survives its workers dying: a halving sweep on two workers whose training one is SIGKILLed mid-trial (twice) ends with
// every (trial, rung) job made once and trained to its end once (one model, one metric row per epoch); and a sweep
// stored by an API that died before making its first trials is started by the workers' reconcile pass.
import { beforeAll, describe, expect, it } from 'vitest';
import { planSweep } from '../../src/api/sweep-plan.js';
import { createSweepBodySchema } from '../../src/contracts/sweeps.js';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth, irisNetwork } from '../helpers/fixtures.js';
import { slowModel, uploadIris, uploadSlowDataset } from '../helpers/jobs.js';
import { waitFor, workerHealth, type WorkerProcess } from '../helpers/processes.js';
import request from 'supertest';

describe('sweeps and worker crashes', () => {
  const service = useTestService({
    env: { JOB_LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000', RECONCILE_INTERVAL_MS: '1000', WORKER_CONCURRENCY: '2', TENANT_MAX_CONCURRENT_JOBS: '4' },
    audit: true,
  });
  let key: string;
  let tenantId: string;

  beforeAll(async () => {
    const tenant = await createTenant(service.app);
    key = tenant.apiKey;
    tenantId = tenant.id;
  });

  const sweepStatus = async (id: string) => (await service.audit.query<{ status: string }>('SELECT status FROM "Sweep" WHERE id = $1', [id]))[0].status;
  const busy = async (w: WorkerProcess) => (await workerHealth(w)).activeJobs > 0;

  it('a halving sweep on two workers, the one training SIGKILLed twice mid-trial: every trial job is made once and ends once', async () => {
    const datasetId = await uploadSlowDataset(service.app, key);
    const res = await request(service.app.server)
      .post('/v1/sweeps')
      .set(auth(key))
      .send({
        datasetId,
        base: { model: slowModel, training: { optimizer: { type: 'sgd', learningRate: 0.01 }, epochs: 40, batchSize: 32, validationSplit: 0.2, seed: 3, checkpointEvery: 2 } },
        space: { 'training.optimizer.learningRate': { logUniform: [0.001, 0.03] } },
        strategy: 'halving',
        trials: 6,
        halving: { eta: 2 },
        parallelism: 2,
      });
    expect(res.status, res.text).toBe(202);
    const id = res.body.id as string;
    expect(res.body.rungEpochs).toEqual([10, 20, 40]);

    // Two workers, so two schedulers (and two reconcilers) act on the sweep at once.
    const workers = [await service.startWorker(), await service.startWorker()];
    const everyWorker = [...workers];
    for (let kill = 0; kill < 2; kill++) {
      // Mid-trial: a worker holds a job of the sweep that has stored a few epochs.
      const victim = await waitFor('a trial to be mid-training', async () => {
        const midway = await service.audit.query('SELECT 1 FROM "Job" WHERE "sweepId" = $1 AND status = \'running\' AND epoch >= 3', [id]);
        if (midway.length === 0) return undefined;
        for (const w of workers) if (await busy(w)) return w;
        return undefined;
      }, 60_000, 50);
      await victim.kill();
      const replacement = await service.startWorker();
      workers[workers.indexOf(victim)] = replacement;
      everyWorker.push(replacement);
    }
    await waitFor('the sweep to end', async () => (await sweepStatus(id)) !== 'queued', 180_000, 200);
    expect(await sweepStatus(id)).toBe('succeeded');

    const jobs = await service.audit.query<{ id: string; sweepTrial: number; sweepRung: number; status: string; epochs: number; metrics: string; distinctEpochs: string; models: string }>(
      `SELECT j.id, j."sweepTrial", j."sweepRung", j.status, j.epochs,
              (SELECT count(*) FROM "JobMetric" m WHERE m."jobId" = j.id) AS metrics,
              (SELECT count(DISTINCT epoch) FROM "JobMetric" m WHERE m."jobId" = j.id) AS "distinctEpochs",
              (SELECT count(*) FROM "Model" m WHERE m."jobId" = j.id) AS models
       FROM "Job" j WHERE j."sweepId" = $1`,
      [id],
    );
    // 6 trials for 10 epochs, the best 3 for 20, the best one for 40: ten jobs, none twice.
    expect(jobs).toHaveLength(10);
    expect(new Set(jobs.map((j) => `${j.sweepTrial}/${j.sweepRung}`)).size).toBe(10);
    expect(jobs.map((j) => j.sweepRung).sort()).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 2]);
    for (const job of jobs) {
      expect(job.status).toBe('succeeded');
      expect(Number(job.metrics)).toBe(job.epochs);
      expect(Number(job.distinctEpochs)).toBe(job.epochs);
      expect(Number(job.models)).toBe(1);
    }
    const view = (await request(service.app.server).get(`/v1/sweeps/${id}`).set(auth(key))).body;
    expect(view.trials.filter((t: { stoppedEarly: boolean }) => t.stoppedEarly)).toHaveLength(5);
    expect(view.best.epochs).toBe(40);
    // The killed trials went on from their checkpoints rather than from the start.
    const resumes = everyWorker.flatMap((w) => w.output().split('\n').filter((l) => l.includes('resuming job from its checkpoint')));
    expect(resumes.length).toBeGreaterThanOrEqual(1);
    for (const w of workers) await w.stop();
  });

  it('a sweep stored by an API that died before making its trials: the reconcile pass makes and trains them', async () => {
    const datasetId = await uploadIris(service.app, key);
    const dataset = (await service.app.repos.datasets.get(tenantId, datasetId))!;
    const body = createSweepBodySchema.parse({
      datasetId,
      base: { model: irisNetwork, training: { epochs: 5, validationSplit: 0.2, seed: 1 } },
      space: { 'model.layers[0].units': { choice: [4, 8] } },
      strategy: 'grid',
    });
    const plan = planSweep(body, dataset, { maxParameters: 1e6, maxEpochs: 100, maxTrainingBytes: 2 ** 30, maxTrials: 10 });
    // What POST /v1/sweeps stores, without the scheduling step that would have followed.
    const id = await service.app.repos.sweeps.create({
      tenantId,
      datasetId,
      strategy: 'grid',
      objective: 'valLoss',
      parallelism: 2,
      eta: plan.eta,
      request: { base: plan.base, space: body.space, paths: Object.keys(body.space), trials: 2, halving: null },
      trials: plan.trials,
      rungEpochs: plan.rungEpochs,
    });
    expect(await service.audit.query('SELECT 1 FROM "Job" WHERE "sweepId" = $1', [id])).toHaveLength(0);
    // No job uses the dataset yet, but the sweep will: it cannot be deleted from under it.
    const refused = await request(service.app.server).delete(`/v1/datasets/${datasetId}`).set(auth(key));
    expect(refused.status).toBe(409);
    expect(refused.body.error.details.sweeps).toEqual([id]);
    const worker = await service.startWorker();
    await waitFor('the sweep to end', async () => (await sweepStatus(id)) !== 'queued', 60_000, 200);
    expect(await sweepStatus(id)).toBe('succeeded');
    expect(await service.audit.query('SELECT 1 FROM "Job" WHERE "sweepId" = $1 AND status = \'succeeded\'', [id])).toHaveLength(2);
    await worker.stop();
  });
});
