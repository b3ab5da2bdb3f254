// Follows a job until it ends: live over Server-Sent Events (GET /v1/jobs/:id/events) when the API offers them,
// else by polling GET /v1/jobs/:id. Either way the caller sees the same JobProgress updates and one JobOutcome.
import type { JobStatus, JobView } from '../contracts/jobs.js';
import type { ApiClient } from './api-client.js';
import { readServerEvents } from '../../public/event-stream.js';

export const POLL_INTERVAL_MS = 500;
/** Reconnections of a dropped event stream in a row without a single event before falling back to polling. */
const MAX_EMPTY_RECONNECTS = 3;

export interface JobProgress {
  status: JobStatus;
  epoch: number;
  epochs: number;
  loss: number | null;
  valLoss: number | null;
  accuracy: number | null;
  valAccuracy: number | null;
  etaSeconds: number | null;
}

export interface JobOutcome {
  status: 'succeeded' | 'failed' | 'cancelled';
  modelId: string | null;
  error: { code: string; message: string } | null;
}

export interface FollowOptions {
  onProgress(progress: JobProgress): void;
  /** Told once which way progress arrives. */
  onTransport?(transport: 'events' | 'polling'): void;
  pollIntervalMs?: number;
}

const isFinished = (status: string): status is JobOutcome['status'] => status === 'succeeded' || status === 'failed' || status === 'cancelled';

export async function followJob(client: ApiClient, jobId: string, options: FollowOptions): Promise<JobOutcome> {
  const progress = new ProgressState();
  const viaEvents = await followEvents(client, jobId, progress, options);
  if (viaEvents) return viaEvents;
  options.onTransport?.('polling');
  return pollJob(client, jobId, progress, options);
}

/** Null when the API has no event stream for this job (older API, proxy refusing streams): poll instead. */
async function followEvents(client: ApiClient, jobId: string, progress: ProgressState, options: FollowOptions): Promise<JobOutcome | null> {
  let lastEventId: string | undefined;
  let emptyReconnects = 0;
  let announced = false;
  while (emptyReconnects <= MAX_EMPTY_RECONNECTS) {
    const res = await client.stream(`/v1/jobs/${jobId}/events`, lastEventId === undefined ? {} : { 'last-event-id': lastEventId });
    if (res.status !== 200 || !res.body || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
      await res.body?.cancel();
      return null;
    }
    if (!announced) options.onTransport?.('events');
    announced = true;
    let received = false;
    for await (const { event, data, id } of readServerEvents(res.body)) {
      lastEventId = id;
      received = true;
      const payload = parseObject(data);
      if (!payload) continue;
      if (event === 'end') {
        const status = String(payload.status);
        if (isFinished(status)) return toOutcome(status, payload);
      } else if (event === 'status' || event === 'epoch') {
        options.onProgress(progress.update(payload));
      }
    }
    // The stream ended without an end event (dropped, or an API that closes it at the end): ask where the job is.
    const job = await client.get<JobView>(`/v1/jobs/${jobId}`);
    options.onProgress(progress.update(job));
    if (isFinished(job.status)) return toOutcome(job.status, job);
    emptyReconnects = received ? 0 : emptyReconnects + 1;
    await sleep(POLL_INTERVAL_MS);
  }
  return null;
}

async function pollJob(client: ApiClient, jobId: string, progress: ProgressState, options: FollowOptions): Promise<JobOutcome> {
  for (;;) {
    const job = await client.get<JobView>(`/v1/jobs/${jobId}`);
    options.onProgress(progress.update(job));
    if (isFinished(job.status)) return toOutcome(job.status, job);
    await sleep(options.pollIntervalMs ?? POLL_INTERVAL_MS);
  }
}

function toOutcome(status: JobOutcome['status'], fields: { modelId?: unknown; error?: unknown }): JobOutcome {
  const error = fields.error as { code?: unknown; message?: unknown } | null | undefined;
  return {
    status,
    modelId: typeof fields.modelId === 'string' ? fields.modelId : null,
    error: error ? { code: String(error.code ?? 'ERR_UNKNOWN'), message: String(error.message ?? '') } : null,
  };
}

/**
 * The latest known figures, merged from whatever arrives (a status event, an epoch event, a polled job). The ETA
 * is the server's when it sends one, else the pace of the epochs seen so far.
 */
class ProgressState {
  private current: JobProgress = { status: 'queued', epoch: 0, epochs: 0, loss: null, valLoss: null, accuracy: null, valAccuracy: null, etaSeconds: null };
  private firstSeen: { epoch: number; at: number } | null = null;

  update(fields: Record<string, unknown> | JobView): JobProgress {
    const next = { ...this.current };
    const f = fields as Record<string, unknown>;
    if (typeof f.status === 'string') next.status = f.status as JobStatus;
    else if (typeof f.epoch === 'number' && next.status === 'queued') next.status = 'running';
    for (const key of ['epoch', 'epochs'] as const) if (typeof f[key] === 'number') next[key] = f[key];
    for (const key of ['loss', 'valLoss', 'accuracy', 'valAccuracy'] as const) if (typeof f[key] === 'number' || f[key] === null) next[key] = f[key];
    next.etaSeconds = typeof f.etaSeconds === 'number' ? f.etaSeconds : this.estimateEta(next);
    this.current = next;
    return next;
  }

  private estimateEta({ status, epoch, epochs }: JobProgress): number | null {
    if (status !== 'running' || epochs <= 0) return null;
    const now = performance.now();
    if (!this.firstSeen || epoch < this.firstSeen.epoch) this.firstSeen = { epoch, at: now };
    const done = epoch - this.firstSeen.epoch;
    if (done <= 0) return this.current.etaSeconds;
    return ((epochs - epoch) * (now - this.firstSeen.at)) / done / 1000;
  }
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
