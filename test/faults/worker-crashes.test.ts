// Fault 2 and the crash figures. Two workers on one queue: SIGKILL the one training a job and the other finishes
// it from the last checkpoint (and what the crash cost is measured); then a batch of jobs while workers are killed
// and restarted over and over: every job completes, none lost, none duplicated, all bit-identical.
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { epochsUpTo } from '../helpers/inspect.js';
import { submitJob, uploadSlowDataset, waitForJob } from '../helpers/jobs.js';
import { loggedEntries, waitFor, workerHealth, type WorkerProcess } from '../helpers/processes.js';

const LOCK_MS = 2000;
const STALLED_MS = 1000;

describe('worker crashes', () => {
  const service = useTestService({
    env: {
      JOB_LOCK_DURATION_MS: String(LOCK_MS),
      STALLED_INTERVAL_MS: String(STALLED_MS),
      RECONCILE_INTERVAL_MS: '1000',
      WORKER_CONCURRENCY: '1',
      TENANT_MAX_CONCURRENT_JOBS: '10',
    },
    audit: true,
  });
  let key: string;
  let datasetId: string;
  /** Every worker started, killed ones too: their logs tell how many resumes there were. */
  const all: WorkerProcess[] = [];

  const spawn = async () => {
    const w = await service.startWorker();
    all.push(w);
    return w;
  };
  const activeJobs = async (w: WorkerProcess) => (await workerHealth(w)).activeJobs;
  /** Mean epoch time of the jobs trained so far in this file (100 ms before any). */
  const meanEpochMs = async () => (await service.audit.query<{ ms: number | null }>('SELECT avg(ms)::float AS ms FROM "JobMetric"'))[0].ms ?? 100;

  beforeAll(async () => {
    key = (await createTenant(service.app)).apiKey;
    datasetId = await uploadSlowDataset(service.app, key);
  });

  it('two workers, the one training is killed: the other finishes the job; the crash costs seconds', async () => {
    const { app, audit } = service;
    const workers = [await spawn(), await spawn()];
    const epochs = 150;
    const options = { checkpointEvery: 5, seed: 21 };
    const reference = await submitJob(app, key, datasetId, epochs, options);
    await waitForJob(app, key, reference, (j) => j.status === 'succeeded', 'the reference job', 60_000);

    const jobId = await submitJob(app, key, datasetId, epochs, options);
    await waitForJob(app, key, jobId, (j) => j.epoch >= 23, 'the job to pass epoch 23', 30_000);
    const [victim, survivor] = (await activeJobs(workers[0])) === 1 ? workers : [workers[1], workers[0]];
    await victim.kill();
    const killedAt = Date.now();
    const epochAtCrash = (await audit.job(jobId))!.epoch;
    const checkpointAtCrash = (await audit.checkpointEpoch(jobId))!;

    const resumed = JSON.parse(
      await waitFor('the survivor to resume the job', () =>
        survivor.output().split('\n').find((l) => l.includes('resuming job from its checkpoint') && l.includes(jobId)), 20_000, 50),
    ) as { time: number; resumeEpoch: number };
    expect(resumed.resumeEpoch).toBe(checkpointAtCrash);
    const done = await waitForJob(app, key, jobId, (j) => j.status !== 'running', 'the survivor to finish the job', 60_000);
    expect(done.status).toBe('succeeded');
    expect(await audit.metricEpochs(jobId)).toEqual(epochsUpTo(epochs));
    expect(await audit.modelWeights(jobId)).toBe(await audit.modelWeights(reference));

    // What the crash cost: the job took this much longer than the same job uninterrupted. It is made of the
    // detection delay (lock expiry + stalled check) and the epochs trained again since the last checkpoint.
    const epochMs = (await audit.query<{ ms: number }>('SELECT avg(ms)::float AS ms FROM "JobMetric" WHERE "jobId" = $1', [reference]))[0].ms;
    const costMs = (await audit.durationMs(jobId)) - (await audit.durationMs(reference));
    const detectionMs = resumed.time - killedAt;
    const redone = epochAtCrash - checkpointAtCrash;
    console.log(
      `[figures] one worker killed (lock ${LOCK_MS} ms, stalled check ${STALLED_MS} ms, checkpointEvery ${options.checkpointEvery}, ` +
        `epoch ${epochMs.toFixed(0)} ms): the job finished ${(costMs / 1000).toFixed(2)} s later than uninterrupted; ` +
        `detection ${(detectionMs / 1000).toFixed(2)} s, ${redone} epochs redone (${((redone * epochMs) / 1000).toFixed(2)} s)`,
    );
    expect(costMs).toBeLessThan(30_000);
    for (const w of workers) if (w !== victim) await w.stop();
  });

  it('a batch of jobs completes while workers are killed and restarted every ~1.5 s', async () => {
    const { app, audit } = service;
    const jobsCount = 6;
    // Jobs of about 2.5 s whatever the machine's speed, so that kills every 1 to 2 s land mid-training, after
    // checkpoints: an epoch of this set takes about 17 ms on a quiet machine, ten times that on a busy one.
    const epochs = Math.min(400, Math.max(40, Math.round(2500 / (await meanEpochMs()))));
    const options = { checkpointEvery: 5, seed: 4 };
    const workers = [await spawn(), await spawn()];
    const ids: string[] = [];
    for (let i = 0; i < jobsCount; i++) ids.push(await submitJob(app, key, datasetId, epochs, options));

    const finished = async () => {
      const rows = await audit.query<{ status: string }>('SELECT status FROM "Job" WHERE id = ANY($1::uuid[])', [ids]);
      return rows.filter((r) => r.status !== 'queued' && r.status !== 'running').length;
    };
    let kills = 0;
    const started = Date.now();
    while ((await finished()) < jobsCount && Date.now() - started < 40_000) {
      await sleep(1000 + Math.random() * 1000);
      const victim = kills % 2;
      await workers[victim].kill();
      kills++;
      workers[victim] = await spawn();
    }
    await waitFor('every job to finish', async () => (await finished()) === jobsCount, 30_000);
    const elapsedS = (Date.now() - started) / 1000;

    const statuses = await audit.query<{ id: string; status: string }>('SELECT id, status FROM "Job" WHERE id = ANY($1::uuid[])', [ids]);
    const succeeded = statuses.filter((r) => r.status === 'succeeded').length;
    const models = await audit.query<{ jobId: string; n: string }>(
      'SELECT "jobId", count(*) AS n FROM "Model" WHERE "jobId" = ANY($1::uuid[]) GROUP BY "jobId"', [ids]);
    const duplicatedModels = models.filter((m) => Number(m.n) > 1).length;
    const metricRows = await audit.query<{ jobId: string; n: string; distinct_epochs: string; max: number }>(
      'SELECT "jobId", count(*) AS n, count(DISTINCT epoch) AS distinct_epochs, max(epoch) AS max FROM "JobMetric" WHERE "jobId" = ANY($1::uuid[]) GROUP BY "jobId"', [ids]);
    const weights = new Set<string | null>();
    for (const id of ids) weights.add(await audit.modelWeights(id));
    const resumes = all
      .flatMap((w) => loggedEntries(w.output(), 'resuming job from its checkpoint'))
      .filter((entry) => ids.includes(entry.jobId as string)).length;
    console.log(
      `[figures] ${jobsCount} jobs x ${epochs} epochs, 2 workers, ${kills} SIGKILLs in ${elapsedS.toFixed(1)} s ` +
        `(${resumes} resumes from a checkpoint): ` +
        `${succeeded} completed, ${jobsCount - succeeded} lost, ${duplicatedModels} with a duplicated model, ` +
        `metric rows per job ${[...new Set(metricRows.map((m) => m.n))].join('/')} for ${epochs} epochs`,
    );

    expect(kills).toBeGreaterThanOrEqual(3);
    expect(resumes).toBeGreaterThanOrEqual(1);
    expect(succeeded).toBe(jobsCount);
    expect(models.map((m) => Number(m.n))).toEqual(Array(jobsCount).fill(1));
    for (const id of ids) expect(await audit.metricEpochs(id), id).toEqual(epochsUpTo(epochs));
    // Same spec, data and seed: however often each job was interrupted, all ended with the same weights.
    expect(weights.size).toBe(1);
    expect([...weights][0]).not.toBeNull();
    for (const w of workers) await w.stop();
  });
});
