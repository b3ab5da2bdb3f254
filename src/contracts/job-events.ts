// Live job progress. A worker process publishes a JobEventMessage on Redis once Postgres holds what it says; every
// API process relays the ones of the jobs its clients follow as Server-Sent Events (GET /v1/jobs/:id/events).
import type { EpochReport } from '../engine/index.js';
import type { Evaluation } from './evaluation.js';
import type { JobError, JobStatus } from './jobs.js';

export type FinishedStatus = 'succeeded' | 'failed' | 'cancelled';

/** Worker -> API processes, JSON on the Redis channel `<QUEUE_PREFIX>:job-events:<jobId>`. */
export type JobEventMessage =
  | { type: 'status'; status: JobStatus; epoch: number }
  | { type: 'epoch'; report: EpochReport }
  | { type: 'end'; status: FinishedStatus; modelId: string | null; error: JobError | null };

/** `event: status`: the job's state when the stream opens, then every change of status. */
export interface StatusEventData {
  status: JobStatus;
  epoch: number;
  epochs: number;
}

/** `event: epoch`, with `id: <epoch>`: one per completed epoch, in order. */
export interface EpochEventData {
  epoch: number;
  epochs: number;
  loss: number;
  valLoss: number | null;
  accuracy: number | null;
  valAccuracy: number | null;
  /** The rate the epoch trained with (null for epochs stored before schedules). */
  learningRate: number | null;
  /** Training time of this epoch. */
  ms: number;
  /** Epochs left times the mean training time of the last ten epochs (0 after the last epoch). */
  etaSeconds: number;
}

/** `event: end`: the job finished; the server closes the stream after it. */
export interface EndEventData {
  status: FinishedStatus;
  modelId: string | null;
  error: JobError | null;
  /** How the model did on the job's validation split (GET /v1/models/:id shows the same); null without a model. */
  evaluation: Evaluation | null;
}

/**
 * `event: closed`: the server ends the stream before the job ended, and says why: the API key was revoked (or its
 * tenant deleted), `ERR_UNAUTHORIZED`; reconnecting with the same key will not help.
 */
export interface ClosedEventData {
  code: string;
  message: string;
}

export const EVENTS_DESCRIPTION =
  'Server-Sent Events (text/event-stream). First `event: status` with `{status, epoch, epochs}` (the state now), then ' +
  '`event: epoch` with `{epoch, epochs, loss, valLoss, accuracy, valAccuracy, learningRate, ms, etaSeconds}` for every completed ' +
  'epoch (each with `id: <epoch>`), `event: status` on every change of status, and finally `event: end` with ' +
  '`{status, modelId, error, evaluation}` (the model\'s figures on the validation split), after which the server closes the stream. A `: ping` comment keeps idle connections ' +
  'open. A stream whose API key is revoked ends with `event: closed` and `{code, message}` (`ERR_UNAUTHORIZED`). ' +
  'An API key has at most EVENTS_MAX_STREAMS_PER_KEY streams open at once (20 by default); one more answers 429. ' +
  'Reconnect with `Last-Event-ID: <epoch>` to get the epochs after it (replayed from Postgres), then live ones. ' +
  'Events come through Redis, so any API process serves any job. The API key goes in the Authorization header: use ' +
  'fetch() rather than EventSource in browsers.';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A message from Redis, or null when it is not one of ours. */
export function parseJobEventMessage(text: string): JobEventMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  if (value.type === 'epoch' && isObject(value.report) && typeof value.report.epoch === 'number') return value as JobEventMessage;
  if (value.type === 'status' && typeof value.status === 'string' && typeof value.epoch === 'number') return value as JobEventMessage;
  if (value.type === 'end' && typeof value.status === 'string') return value as JobEventMessage;
  return null;
}
