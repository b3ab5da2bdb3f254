// What crosses the queue and the thread boundary: the BullMQ job payload and the progress messages the processor
// sends back. Plain JSON only.
import type { EpochReport, ModelSpec, SerializedModel, TrainingCheckpoint, TrainingOptions } from '../engine/index.js';
import type { JobError } from './jobs.js';

export const TRAINING_QUEUE = 'training';

export interface TrainingJobData {
  jobId: string;
  spec: ModelSpec;
  options: TrainingOptions;
  checkpointEvery: number;
  /** Already preprocessed; base64 of little-endian Float32 arrays (rows x width). */
  dataset: { rows: number; inputs: string; outputs: string };
  /** Set when the job must continue from a persisted checkpoint instead of starting over. */
  resumeFrom?: TrainingCheckpoint;
}

export type TrainingProgress =
  | { kind: 'epoch'; report: EpochReport }
  | { kind: 'checkpoint'; checkpoint: TrainingCheckpoint }
  | { kind: 'final'; model: SerializedModel; last: EpochReport | null; epochs: number }
  | { kind: 'error'; error: JobError };

export interface TrainingResult {
  epochs: number;
  loss: number | null;
}
