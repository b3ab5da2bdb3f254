// Builds the training payload from Postgres and puts it on the queue. The worker thread cannot reach the
// database, so the (already preprocessed) dataset travels in the job data.
import type { Queue } from 'bullmq';
import { TRAINING_QUEUE, type TrainingJobData } from '../contracts/job-data.js';
import type { Training, StoredPreprocessing } from '../contracts/training.js';
import { float32ToBase64 } from '../data/float-pack.js';
import { applyPreprocessing } from '../data/standardize.js';
import type { DatasetRepository } from '../db/datasets.js';
import type { JobRepository } from '../db/jobs.js';
import type { ModelSpec, TrainingOptions } from '../engine/index.js';

export { TRAINING_QUEUE };

export function toEngineOptions(training: Training): TrainingOptions {
  const { checkpointEvery: _ignored, ...options } = training;
  return options;
}

export class MissingJobError extends Error {
  override name = 'MissingJobError';
}

export async function buildTrainingPayload(jobs: JobRepository, datasets: DatasetRepository, jobId: string): Promise<TrainingJobData> {
  const job = await jobs.getRow(jobId);
  if (!job) throw new MissingJobError(`job ${jobId} does not exist`);
  const data = await datasets.getTrainingData(job.tenantId, job.datasetId);
  if (!data) throw new MissingJobError(`dataset ${job.datasetId} of job ${jobId} does not exist`);
  const training = job.training as Training;
  const inputs = applyPreprocessing(job.preprocessing as StoredPreprocessing, data.inputs, data.features.length);
  const initialModel = job.initialModelId ? await jobs.initialWeights(job.initialModelId) : null;
  if (job.initialModelId && !initialModel) throw new MissingJobError(`initial model ${job.initialModelId} of job ${jobId} does not exist`);
  return {
    jobId,
    tenantId: job.tenantId,
    spec: job.model as unknown as ModelSpec,
    options: toEngineOptions(training),
    checkpointEvery: training.checkpointEvery,
    dataset: { rows: data.rows, inputs: float32ToBase64(inputs), outputs: float32ToBase64(data.outputs) },
    ...(initialModel ? { initialModel } : {}),
  };
}

/** Idempotent: BullMQ ignores a second add with the same jobId. */
export async function enqueueTraining(queue: Queue, payload: TrainingJobData): Promise<void> {
  await queue.add('train', payload, {
    jobId: payload.jobId,
    // Failures are final (bad spec, divergence). A crashed worker is handled by BullMQ's stalled-job recovery, a
    // stopping worker hands its job back itself, and a lost job is re-enqueued by the reconciler.
    attempts: 1,
    removeOnComplete: { age: 24 * 3600 },
    removeOnFail: { age: 7 * 24 * 3600 },
  });
}
