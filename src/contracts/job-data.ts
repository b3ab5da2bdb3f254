// What crosses the queue and the thread boundary: the BullMQ job payload, and the messages between a training
// thread and its worker process. Plain JSON, except the dataset's typed arrays.
import type { EpochReport, ModelSpec, SerializedModel, TrainingCheckpoint, TrainingOptions } from '../engine/index.js';
import type { Evaluation } from './evaluation.js';
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
 * `start` asks whether to train and from which checkpoint; `end` says the thread is free again.
 */
export type ThreadMessage = TrainingProgress | { kind: 'start' } | { kind: 'end' };

export interface ThreadEnvelope {
  /** One run of one job in one thread; a job redelivered to the same process gets a new run id. */
  runId: string;
  jobId: string;
  /** Set when the thread waits for a reply: the process answers after the write is durable in Postgres. */
  seq?: number;
  message: ThreadMessage;
}

export type StartReply =
  | { proceed: true; checkpoint: TrainingCheckpoint | null; input: TrainingInput }
  /** The job is no longer active in Postgres (cancelled, finished, deleted), or the process is shutting down. */
  | { proceed: false; reason: 'inactive'; status: JobStatus | null }
  | { proceed: false; reason: 'shutdown' };

export interface ParentReply {
  runId: string;
  seq: number;
  /** `start` gets a StartReply; every other message gets whether its write succeeded. */
  reply: StartReply | { ok: boolean };
}

export const THREAD_TO_PROCESS_CHANNEL = 'backprop:training:thread-to-process';
export const PROCESS_TO_THREAD_CHANNEL = 'backprop:training:process-to-thread';

/** Abort reasons the worker process gives `worker.cancelJob()`; the thread's AbortSignal carries them. */
export const CANCEL_REASON = {
  /** The user cancelled the job: stop, record nothing more. */
  cancelled: 'cancelled',
  /** The worker process is stopping (SIGTERM): checkpoint, then hand the job back to the queue. */
  shutdown: 'shutdown',
  /** This process lost the job's lock (Redis flushed, process stalled): checkpoint and stop; another run owns it. */
  lost: 'lost',
} as const;

export interface TrainingResult {
  epochs: number;
  loss: number | null;
}
