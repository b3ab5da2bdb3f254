// Tells the rest of the service what the worker process has just persisted: live events on Redis for the API's
// event streams, and a webhook when a job has ended. Called by the progress recorder after each write, so nothing
// announced is ahead of Postgres. Publishing is best effort (a client that missed an event catches up from
// Postgres); the webhook goes through the outbox in Postgres.
import type { RedisConnection } from '../queue/connection.js';
import type { JobEventMessage } from '../contracts/job-events.js';
import type { JobRepository } from '../db/jobs.js';
import type { EpochReport } from '../engine/index.js';
import type { QueueLogger } from '../queue/dispatcher.js';
import { publishJobEvent } from '../queue/job-events.js';
import type { WebhookOutbox } from '../queue/webhook-outbox.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** What the progress recorder reports, each call after the matching write is in Postgres. */
export interface ProgressListener {
  /** A run of the job started in a thread of this process (first start, resume, redelivery). */
  started(jobId: string, epoch: number): void;
  epoch(jobId: string, report: EpochReport): void;
  /** The job may have ended: announces it when Postgres says it is finished. */
  ended(jobId: string): Promise<void>;
}

export class JobAnnouncer implements ProgressListener {
  constructor(
    /** A connection that fails fast while Redis is away, so events are dropped rather than queued up. */
    private readonly publisher: RedisConnection,
    private readonly prefix: string,
    private readonly jobs: JobRepository,
    private readonly outbox: WebhookOutbox,
    private readonly metrics: WorkerMetrics,
    private readonly log: QueueLogger,
  ) {}

  started(jobId: string, epoch: number): void {
    this.publish(jobId, { type: 'status', status: 'running', epoch });
  }

  epoch(jobId: string, report: EpochReport): void {
    this.metrics.epochCompleted(report.ms);
    this.publish(jobId, { type: 'epoch', report });
  }

  async ended(jobId: string): Promise<void> {
    const ended = await this.jobs.finished(jobId);
    if (!ended) return;
    const { view } = ended;
    const status = view.status as 'succeeded' | 'failed' | 'cancelled';
    this.publish(jobId, { type: 'end', status, modelId: view.modelId, error: view.error });
    await this.outbox.jobEnded(ended);
  }

  private publish(jobId: string, message: JobEventMessage): void {
    publishJobEvent(this.publisher, this.prefix, jobId, message).catch((err: unknown) =>
      this.log.warn({ err, jobId, event: message.type }, 'could not publish a job event; followers catch up from Postgres'),
    );
  }
}
