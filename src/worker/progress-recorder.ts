// Persists what the training threads report, on the worker (parent) side. Messages of one job are written strictly
// in order through a promise chain; every write is idempotent, so BullMQ's at-least-once delivery (a job
// redelivered after a stall, or run twice at once) never duplicates a metric or a model. While Postgres is
// unreachable each write is retried with backoff, and the thread waits at its next checkpoint. Once a write is in
// Postgres the listener hears of it (live events, webhooks), so nothing announced is ahead of the database.
// A write that fails for any other reason is not skipped over: the run's later epochs, checkpoints and model are
// refused, so it fails loudly at its next checkpoint instead of ending "succeeded" with a hole in its metrics.
import type { ParentReply, StartReply, ThreadEnvelope, TrainingInput } from '../contracts/job-data.js';
import type { JobRepository } from '../db/jobs.js';
import { retryWhileUnavailable } from '../db/retry.js';
import type { QueueLogger } from '../queue/dispatcher.js';
import type { Job } from '../generated/prisma/client.js';
import type { ProgressListener } from './job-announcer.js';

/** What `enqueue` resolves with when the work threw anything but "unreachable". */
const FAILED: unique symbol = Symbol('failed');
const ok = (result: unknown) => ({ ok: result !== FAILED });

export class ProgressRecorder {
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Jobs whose current run lost a write to an error other than "unreachable" (what, for the refusal's message). */
  private readonly lost = new Map<string, string>();

  constructor(
    private readonly jobs: JobRepository,
    private readonly log: QueueLogger,
    /** Called when Postgres refuses an epoch because the job is no longer running (cancelled, finished elsewhere). */
    private readonly onInactive: (jobId: string) => void,
    /** Reads what a run trains on from Postgres (the job's dataset, spec and options), given the job's row. */
    private readonly loadInput: (job: Job) => Promise<TrainingInput>,
    private readonly listener: ProgressListener,
    /** Runs of one job whose worker died, in a row, after which the job is failed instead of started again. */
    private readonly maxCrashes: number,
    /** JOB_MAX_WALL_TIME_MS: how long after its first start a job may still train. */
    private readonly maxWallTimeMs: number,
  ) {}

  /** Announces the job's end, if it has ended, behind the writes queued for it. */
  announceEnd(jobId: string): void {
    void this.enqueue(jobId, 'announcing the end of the job', () => this.listener.ended(jobId));
  }

  /**
   * Runs `work` for one job behind everything already queued for it, retrying while Postgres is unreachable.
   * Resolves with its result, or `failed` when it threw anything else (logged).
   */
  enqueue<T>(jobId: string, what: string, work: () => Promise<T>): Promise<T | typeof FAILED> {
    const retried = () =>
      retryWhileUnavailable(work, (err, attempt, delayMs) => {
        if (attempt === 1 || attempt % 10 === 0) this.log.warn({ err, jobId, attempt, delayMs }, `postgres unreachable; retrying ${what}`);
      });
    const next = (this.chains.get(jobId) ?? Promise.resolve()).then(retried).catch((err: unknown): typeof FAILED => {
      this.log.error({ err, jobId }, `${what} failed`);
      if (!this.lost.has(jobId)) this.lost.set(jobId, what);
      return FAILED;
    });
    this.chains.set(jobId, next);
    void next.then(() => {
      if (this.chains.get(jobId) === next) this.chains.delete(jobId);
    });
    return next;
  }

  /** Work that builds on every earlier write of the run: refused once one of them was lost, so what is stored is a prefix. */
  private afterAllWritten<T>(jobId: string, work: () => Promise<T>): () => Promise<T> {
    return () => {
      const lost = this.lost.get(jobId);
      if (lost !== undefined) throw new Error(`an earlier write of this run failed (${lost}); nothing after it is stored`);
      return work();
    };
  }

  /** Writes one message from a training thread; returns the reply the thread waits for, if any. */
  async record({ jobId, message }: ThreadEnvelope): Promise<ParentReply['reply'] | undefined> {
    const jobs = this.jobs;
    switch (message.kind) {
      case 'start': {
        const reply = await this.enqueue(jobId, 'starting the job', async (): Promise<StartReply> => {
          this.lost.delete(jobId);
          const job = await jobs.markRunning(jobId);
          // Cancelled, finished or deleted while it waited (or a redelivery of a finished job): do not train.
          if (job?.status !== 'running') return { proceed: false, reason: 'inactive', status: job?.status ?? null };
          // This start counted itself: the runs before it since the last clean hand-back all died with their worker.
          // A job that kills its worker every time (memory, a native crash) would otherwise be resumed forever.
          const crashes = job.unfinishedRuns - 1;
          if (crashes > this.maxCrashes) {
            const message = `the worker training this job died in each of its last ${crashes} runs; it is not started again (JOB_MAX_CRASHES=${this.maxCrashes})`;
            await jobs.markFailed(jobId, { code: 'ERR_WORKER_CRASHED', message });
            this.log.warn({ jobId, crashes }, 'job failed: its worker died too many times');
            this.announceEnd(jobId);
            return { proceed: false, reason: 'inactive', status: 'failed' };
          }
          const [checkpoint, input] = await Promise.all([jobs.latestCheckpoint(jobId), this.loadInput(job)]);
          if (checkpoint) this.log.info({ jobId, resumeEpoch: checkpoint.epoch }, 'resuming job from its checkpoint');
          await jobs.recordBackend(jobId, message.backend, checkpoint?.epoch ?? 0);
          this.listener.started(jobId, checkpoint?.epoch ?? 0);
          const deadline = (job.startedAt ?? new Date()).getTime() + this.maxWallTimeMs;
          return { proceed: true, checkpoint: (checkpoint?.data as never) ?? null, input, deadline };
        });
        // Without Postgres' answer the thread must not guess: it stops, and the job is handed out again.
        return reply === FAILED ? { proceed: false, reason: 'inactive', status: null } : reply;
      }
      case 'epoch': {
        const recorded = await this.enqueue(jobId, `recording epoch ${message.report.epoch}`, this.afterAllWritten(jobId, async () => {
          const stored = await jobs.recordEpoch(jobId, message.report);
          if (stored) this.listener.epoch(jobId, message.report);
          return stored;
        }));
        if (recorded === false) this.onInactive(jobId);
        return undefined;
      }
      case 'checkpoint':
        return ok(await this.enqueue(jobId, `recording the epoch ${message.checkpoint.epoch} checkpoint`,
          this.afterAllWritten(jobId, () => jobs.recordCheckpoint(jobId, message.checkpoint))));
      case 'final': {
        const modelId = await this.enqueue(jobId, 'storing the model',
          this.afterAllWritten(jobId, () => jobs.recordFinal(jobId, message.model, message.last, message.epochs, message.evaluation)));
        this.announceEnd(jobId);
        return { ...ok(modelId), hasModel: modelId !== null };
      }
      case 'error': {
        const stored = ok(await this.enqueue(jobId, 'recording the training error', () => jobs.markFailed(jobId, message.error)));
        this.announceEnd(jobId);
        return stored;
      }
      case 'end':
        void this.enqueue(jobId, 'closing the run', async () => this.lost.delete(jobId));
        return undefined;
    }
  }

  /** Resolves when everything queued so far has been written. */
  async drain(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }
}
