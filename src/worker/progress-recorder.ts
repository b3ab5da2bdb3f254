// Persists what the training thread reports, on the worker (parent) side. Messages of one job are written
// strictly in order through a promise chain; every write is idempotent, so BullMQ's at-least-once delivery
// (a job redelivered after a stall) never duplicates a metric or a model.
import type { Job } from 'bullmq';
import type { TrainingJobData, TrainingProgress } from '../contracts/job-data.js';
import type { JobRepository } from '../db/jobs.js';

export interface Logger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export class ProgressRecorder {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly jobs: JobRepository,
    private readonly log: Logger,
  ) {}

  /** Queues work for one job behind everything already queued for it. */
  enqueue(jobId: string, work: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(jobId) ?? Promise.resolve())
      .then(work)
      .catch((err: unknown) => this.log.error({ err, jobId }, 'persisting job progress failed'));
    this.chains.set(jobId, next);
    void next.then(() => {
      if (this.chains.get(jobId) === next) this.chains.delete(jobId);
    });
    return next;
  }

  record(job: Job<TrainingJobData>, message: TrainingProgress): Promise<void> {
    const jobId = job.data.jobId;
    return this.enqueue(jobId, async () => {
      switch (message.kind) {
        case 'epoch':
          await this.jobs.recordEpoch(jobId, message.report);
          break;
        case 'checkpoint':
          await this.jobs.recordCheckpoint(jobId, message.checkpoint);
          // A redelivered job (after a worker crash) then resumes here instead of starting over.
          await job.updateData({ ...job.data, resumeFrom: message.checkpoint });
          break;
        case 'final':
          await this.jobs.recordFinal(jobId, message.model, message.last, message.epochs);
          break;
        case 'error':
          await this.jobs.markFailed(jobId, message.error);
          break;
      }
    });
  }

  /** Resolves when everything queued so far has been written. */
  async drain(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }
}
