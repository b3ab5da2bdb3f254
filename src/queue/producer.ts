// Putting a job on the queue (ids only), and what a run trains on, read from Postgres. The worker thread cannot reach
// the database, so its worker process loads the dataset's packed float32 rows and hands them over at start, in
// shared memory (a SharedArrayBuffer crosses to the thread without a copy).
import type { Queue } from 'bullmq';
import { TRAINING_QUEUE, type TrainingInput, type TrainingJobData } from '../contracts/job-data.js';
import type { Training, StoredPreprocessing } from '../contracts/training.js';
import { applyPreprocessing } from '../data/standardize.js';
import type { TrainingDataReader } from '../db/datasets.js';
import type { JobRepository } from '../db/jobs.js';
import type { ModelSpec, TrainingOptions } from '../engine/index.js';
import type { Job } from '../generated/prisma/client.js';

function toEngineOptions(training: Training): TrainingOptions {
  const { checkpointEvery: _ignored, ...options } = training;
  return options;
}

class MissingJobError extends Error {
  override name = 'MissingJobError';
}

/**
 * Everything a run of `job` (its row, as the worker process marked it running) trains on, read from Postgres, the
 * dataset possibly through a cache (src/worker/dataset-cache.ts).
 */
export async function loadTrainingInput(jobs: JobRepository, datasets: TrainingDataReader, job: Job): Promise<TrainingInput> {
  const data = await datasets.getTrainingData(job.tenantId, job.datasetId);
  if (!data) throw new MissingJobError(`dataset ${job.datasetId} of job ${job.id} does not exist`);
  const training = job.training as Training;
  const preprocessing = job.preprocessing as StoredPreprocessing;
  // The dataset's arrays may be shared with other runs: standardized inputs go into shared memory of this run's own.
  const inputs = preprocessing.standardize
    ? applyPreprocessing(preprocessing, data.inputs, data.features.length, new Float32Array(new SharedArrayBuffer(data.inputs.byteLength)))
    : data.inputs;
  const initialModel = job.initialModelId ? await jobs.initialWeights(job.initialModelId) : null;
  if (job.initialModelId && !initialModel) throw new MissingJobError(`initial model ${job.initialModelId} of job ${job.id} does not exist`);
  return {
    spec: job.model as unknown as ModelSpec,
    options: toEngineOptions(training),
    checkpointEvery: training.checkpointEvery,
    dataset: { rows: data.rows, inputs, targets: data.outputs },
    initialModel,
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
