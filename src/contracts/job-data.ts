// What crosses the queue and the thread boundary: the BullMQ job payload, and the messages between a training
// thread and its worker process. Plain JSON, except the dataset's typed arrays.
import type { EpochReport, ModelSpec, SerializedModel, TrainingCheckpoint, TrainingOptions } from '../engine/index.js';
import type { Evaluation } from './evaluation.js';
import type { GemmBackendRecord } from './gemm-backends.js';
import type { JobError, JobStatus } from './jobs.js';

export const TRAINING_QUEUE = 'training';

/**
 * The queue payload: ids only. Redis is transport, so it carries neither data nor state: when a thread starts a
 * run it asks its worker process, which reads the job, its dataset and its latest checkpoint from Postgres.
 */
export interface TrainingJobData {
  jobId: string;
  tenantId: string;
}

/** What a run trains on, loaded by the worker process from Postgres and handed to the thread at start. */
export interface TrainingInput {
  spec: ModelSpec;
  options: TrainingOptions;
  checkpointEvery: number;
  /**
   * Preprocessed row-major float32, straight from the dataset's stored packed bytes: nothing is re-parsed. In shared
   * memory, so the thread gets the process's arrays rather than a copy; nothing writes to them once handed over.
   */
  dataset: { rows: number; inputs: Float32Array; targets: Float32Array; weights?: Float32Array };
  /** Warm start: the weights training begins from when there is no checkpoint yet. */
  initialModel: SerializedModel | null;
  /** How the finished model is judged on the held-out rows. */
  evaluation: EvaluationContext;
}

/** What the thread needs to judge the final model: class labels, or target names and the targets' training scale. */
export type EvaluationContext =
  | { kind: 'classification'; labels: string[] }
  | { kind: 'regression'; names: string[]; scale?: { center: number[]; scale: number[] } };

export type TrainingProgress =
  | { kind: 'epoch'; report: EpochReport }
  | { kind: 'checkpoint'; checkpoint: TrainingCheckpoint }
  | { kind: 'final'; model: SerializedModel; last: EpochReport | null; epochs: number; evaluation: Evaluation | null }
  | { kind: 'error'; error: JobError };

/**
 * Thread -> worker process, over an in-process BroadcastChannel rather than BullMQ's progress (which writes to
 * Redis first): training keeps reporting to Postgres even while Redis is away, and the process can answer.
 * `start` asks whether to train and from which checkpoint, and hands over the run's stop flag: an Int32 in shared
 * memory where the process writes a STOP_REASONS code, which training reads between two batches without waiting for
 * the thread's event loop (an epoch runs synchronously). `end` says the thread is free again.
 */
export type ThreadMessage =
  | TrainingProgress
  /** `backend`: what the thread's float32 products run on, recorded with the job. */
  | { kind: 'start'; stop: SharedArrayBuffer; backend: Omit<GemmBackendRecord, 'fromEpoch'> }
  | { kind: 'end' };

export interface ThreadEnvelope {
  /** One run of one job in one thread; a job redelivered to the same process gets a new run id. */
  runId: string;
  jobId: string;
  /** Set when the thread waits for a reply: the process answers after the write is durable in Postgres. */
  seq?: number;
  message: ThreadMessage;
}

export type StartReply =
  /** `deadline`: when the job's wall time (JOB_MAX_WALL_TIME_MS since it first started) runs out, in epoch ms. */
  | { proceed: true; checkpoint: TrainingCheckpoint | null; input: TrainingInput; deadline: number }
  /** The job is no longer active in Postgres (cancelled, finished, deleted), or the process is shutting down. */
  | { proceed: false; reason: 'inactive'; status: JobStatus | null }
  | { proceed: false; reason: 'shutdown' };

export interface ParentReply {
  runId: string;
  seq: number;
  /**
   * `start` gets a StartReply; every other message gets whether its write succeeded, and `final` also whether the job
   * has a model now (`false`: it stopped being active, say cancelled, before this run's model could be stored).
   */
  reply: StartReply | WriteReply;
}

export interface WriteReply {
  ok: boolean;
  hasModel?: boolean;
}

export const THREAD_TO_PROCESS_CHANNEL = 'backprop:training:thread-to-process';
export const PROCESS_TO_THREAD_CHANNEL = 'backprop:training:process-to-thread';

/**
 * Why the worker process stops a run; a run's stop flag holds the reason's index + 1 (0: train on). cancelled: the
 * user cancelled the job (or Postgres no longer has it running), stop and record nothing more. shutdown: the worker
 * process is stopping (SIGTERM), checkpoint at the batch boundary and hand the job back to the queue. lost: this
 * process lost the job's lock (Redis flushed, process stalled), checkpoint and stop; another run owns it.
 */
export const STOP_REASONS = ['cancelled', 'shutdown', 'lost'] as const;
export type StopReason = (typeof STOP_REASONS)[number];

export interface TrainingResult {
  epochs: number;
  loss: number | null;
}
