// What crosses the queue and the thread boundary: the BullMQ job payload, and the messages between a training
// thread and its worker process. Plain JSON only.
import type { EpochReport, ModelSpec, SerializedModel, TrainingCheckpoint, TrainingOptions } from '../engine/index.js';
import type { JobError, JobStatus } from './jobs.js';

export const TRAINING_QUEUE = 'training';

/**
 * The queue payload. It carries no checkpoint: a thread asks its worker process for the latest one in Postgres
 * when it starts, so a redelivered job always resumes from the newest durable state.
 */
export interface TrainingJobData {
  jobId: string;
  tenantId: string;
  spec: ModelSpec;
  options: TrainingOptions;
  checkpointEvery: number;
  /** Already preprocessed; base64 of little-endian Float32 arrays (rows x width). */
  dataset: { rows: number; inputs: string; outputs: string };
  /** Warm start: the weights training begins from when there is no checkpoint yet. */
  initialModel?: SerializedModel;
}

export type TrainingProgress =
  | { kind: 'epoch'; report: EpochReport }
  | { kind: 'checkpoint'; checkpoint: TrainingCheckpoint }
  | { kind: 'final'; model: SerializedModel; last: EpochReport | null; epochs: number }
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
  | { proceed: true; checkpoint: TrainingCheckpoint | null }
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
