// Putting a job on the queue (ids only), and what a run trains on, read from Postgres. The worker thread cannot reach
// the database, so its worker process loads the dataset's stored cells, encodes them with the job's preprocessing
// (fitted on the training rows at the job's first run, then stored with the job) and hands the inputs over at start,
// in shared memory (a SharedArrayBuffer crosses to the thread without a copy).
import type { Queue } from 'bullmq';
import { TRAINING_QUEUE, type EvaluationContext, type TrainingInput, type TrainingJobData } from '../contracts/job-data.js';
import { optionsOf, type StoredPreprocessing } from '../contracts/preprocessing.js';
import type { Training } from '../contracts/training.js';
import { rowWeights } from '../data/class-weights.js';
import { encodeStored } from '../data/encode-inputs.js';
import { fitEncoding, fitTargetScale, storedEncoding, toStoredPreprocessing, type Encoding } from '../data/encoding.js';
import type { TrainingDataReader } from '../db/datasets.js';
import type { JobRepository } from '../db/jobs.js';
import { splitRows, type ModelSpec, type TrainingOptions } from '../engine/index.js';
import type { Job } from '../generated/prisma/client.js';

function toEngineOptions(training: Training): TrainingOptions {
  const { checkpointEvery: _ignored, classWeights: _weights, ...options } = training;
  return options;
}

class MissingJobError extends Error {
  override name = 'MissingJobError';
}

const shared = (length: number) => new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT));

/**
 * Everything a run of `job` (its row, as the worker process marked it running) trains on, read from Postgres, the
 * dataset possibly through a cache (src/worker/dataset-cache.ts). The first run of a job fits its preprocessing on
 * the job's training rows (the seeded split the engine will make) and stores it, with the encoded input width, on the
 * job: later runs (a resume) and the model read it from there.
 */
export async function loadTrainingInput(jobs: JobRepository, datasets: TrainingDataReader, job: Job): Promise<TrainingInput> {
  // A queued or running job's dataset cannot be deleted (DELETE /v1/datasets/:id answers 409): null is a guard.
  const data = job.datasetId ? await datasets.getTrainingData(job.tenantId, job.datasetId) : null;
  if (!data) throw new MissingJobError(`dataset ${job.datasetId} of job ${job.id} does not exist`);
  const training = job.training as Training;
  const stored = job.preprocessing as StoredPreprocessing;
  const spec = job.model as unknown as ModelSpec;
  const steps = data.sequenceLength ?? 1;
  const split = splitRows(data.rows, training.validationSplit, training.seed ?? 0);
  const raw = { columns: data.columns, values: data.inputs, steps };
  const targetWidth = data.outputs.length / (data.rows * (data.perStepTargets ? steps : 1));

  let encoding = storedEncoding(stored, data.features);
  if (!encoding) {
    const options = optionsOf(stored);
    const fitted: Encoding = fitEncoding(options, raw, split.train);
    if (!data.classes && options.standardizeTargets && spec.loss === 'meanSquaredError') {
      fitted.target = fitTargetScale(data.outputs, targetWidth, data.perStepTargets ? steps : 1, split.train);
    }
    encoding = fitted;
    await jobs.recordPreprocessing(job.id, { ...spec, inputSize: encoding.inputs.length }, toStoredPreprocessing(options, encoding, data.ignored));
  }
  const inputs = encodeStored(encoding, raw, shared(data.rows * steps * encoding.inputs.length)).inputs;
  const targets = encoding.target ? scaleTargets(data.outputs, encoding.target) : data.outputs;
  const classWeights = training.classWeights;
  const weights = classWeights && data.classes ? rowWeights(classWeights, data.outputs, data.classes, split.train) : undefined;

  const initialModel = job.initialModelId ? await jobs.initialWeights(job.initialModelId) : null;
  if (job.initialModelId && !initialModel) throw new MissingJobError(`initial model ${job.initialModelId} of job ${job.id} does not exist`);
  const evaluation: EvaluationContext = data.classes
    ? { kind: 'classification', labels: data.classes }
    : { kind: 'regression', names: data.targets, ...(encoding.target ? { scale: encoding.target } : {}) };
  return {
    spec: { ...spec, inputSize: encoding.inputs.length },
    options: toEngineOptions(training),
    checkpointEvery: training.checkpointEvery,
    dataset: { rows: data.rows, inputs, targets, ...(weights ? { weights } : {}) },
    initialModel,
    evaluation,
  };
}

/** (y - center) / scale per target value, into shared memory of this run's own (the dataset's arrays may be shared). */
function scaleTargets(outputs: Float32Array, { center, scale }: { center: number[]; scale: number[] }): Float32Array {
  const out = shared(outputs.length);
  const width = center.length;
  for (let i = 0; i < outputs.length; i++) out[i] = (outputs[i] - center[i % width]) / scale[i % width];
  return out;
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
