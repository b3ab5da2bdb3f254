// The crash-resume check shared by the dense and the recurrent worker tests: what "resumes from its checkpoint and
// ends byte-identical to an uninterrupted run" means is written once, so both job kinds are held to the same bar.
import { expect } from 'vitest';
import { epochsUpTo, type Inspector } from './inspect.js';
import { waitForJob, type Target } from './jobs.js';
import { loggedEntries, type WorkerProcess } from './processes.js';

export interface ResumeRun {
  target: Target;
  key: string;
  audit: Inspector;
  /** Submits the job (the same spec, data and seed each call); returns its id. */
  submit: () => Promise<string>;
  epochs: number;
  checkpointEvery: number;
  /** The worker that runs the reference job and is then SIGKILLed mid-job. */
  worker: WorkerProcess;
  startWorker: () => Promise<WorkerProcess>;
}

/**
 * Trains a reference job to the end, then the same job again: SIGKILLs `worker` once that job passed epoch 12,
 * starts another worker and expects the job to resume from the checkpoint stored before the crash and to end with
 * one metric row per epoch, the reference's losses and byte-identical weights in one model. Returns what the
 * caller may check further, and the new worker (still running).
 */
export async function expectResumesAfterKill(run: ResumeRun): Promise<{ checkpointAtCrash: number; weights: string; worker: WorkerProcess }> {
  const { target, key, audit, epochs } = run;
  const reference = await run.submit();
  await waitForJob(target, key, reference, (j) => j.status === 'succeeded', 'the reference job', 90_000);

  const jobId = await run.submit();
  await waitForJob(target, key, jobId, (j) => j.epoch >= 12, 'the job to pass a checkpoint', 60_000);
  await run.worker.kill();
  const atCrash = await audit.job(jobId);
  const checkpointAtCrash = await audit.checkpointEpoch(jobId);
  expect(atCrash?.status).toBe('running');
  expect(checkpointAtCrash).toBeGreaterThanOrEqual(10);
  expect(checkpointAtCrash! % run.checkpointEvery).toBe(0);

  const worker = await run.startWorker();
  const job = await waitForJob(target, key, jobId, (j) => j.status !== 'running', 'the job to finish after the crash', 90_000);
  expect(job.status).toBe('succeeded');
  // The same backend before and after the crash: one entry, from the first run.
  expect(job.backends).toEqual([expect.objectContaining({ fromEpoch: 0 })]);

  // Exactly one metric row per epoch: no gap, no duplicate (the replayed epochs rewrote their own rows).
  expect(await audit.metricEpochs(jobId)).toEqual(epochsUpTo(epochs));
  expect(await audit.metricLosses(jobId)).toEqual(await audit.metricLosses(reference));
  // Byte-identical final weights to the uninterrupted run with the same seed, and one model.
  const weights = await audit.modelWeights(jobId);
  expect(weights).not.toBeNull();
  expect(weights).toBe(await audit.modelWeights(reference));
  expect(await audit.modelCount(jobId)).toBe(1);
  // The new worker continued from the checkpoint stored before the crash, not from epoch 0.
  const resumed = loggedEntries(worker.output(), 'resuming job from its checkpoint');
  expect(resumed).toContainEqual(expect.objectContaining({ jobId, resumeEpoch: checkpointAtCrash }));
  return { checkpointAtCrash: checkpointAtCrash!, weights: weights!, worker };
}
