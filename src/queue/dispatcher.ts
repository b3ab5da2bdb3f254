// Moves jobs from Postgres onto the queue. Postgres decides which jobs exist and which hold one of their tenant's
// slots; Redis only carries the admitted ones to a worker. Every step is idempotent (BullMQ ignores a second add
// of a job id), so API processes, workers and the reconciler may all call it at once.
import type { Queue } from 'bullmq';
import type { TrainingJobData } from '../contracts/job-data.js';
import type { JobRepository } from '../db/jobs.js';
import type { SweepRepository } from '../db/sweeps.js';
import { enqueueTraining } from './producer.js';

export interface QueueLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface DispatcherDeps {
  jobs: JobRepository;
  sweeps: SweepRepository;
  queue: Queue<TrainingJobData>;
  /** TENANT_MAX_CONCURRENT_JOBS */
  tenantLimit: number;
  log: QueueLogger;
}

export type Dispatcher = ReturnType<typeof createDispatcher>;

export function createDispatcher({ jobs, sweeps, queue, tenantLimit, log }: DispatcherDeps) {
  return {
    /**
     * Admits the tenant's oldest waiting jobs into its free slots and enqueues them. An enqueue that fails (Redis
     * away) is only logged: the job is admitted in Postgres, and the reconciler enqueues it once Redis is back.
     */
    async dispatch(tenantId: string): Promise<string[]> {
      const admitted = await jobs.admit(tenantId, tenantLimit);
      for (const jobId of admitted) {
        try {
          await enqueueTraining(queue, { jobId, tenantId });
        } catch (err) {
          log.warn({ err, jobId }, 'enqueue failed; the reconciler will enqueue the job when Redis is back');
        }
      }
      return admitted;
    },

    /**
     * Makes the sweep's next trial jobs (idempotent, under the sweep's row lock) and admits them into the tenant's
     * free slots. Called when one of its jobs ended, when it is created or cancelled, and by every reconcile pass.
     */
    async advanceSweep(sweepId: string): Promise<void> {
      const made = await sweeps.advance(sweepId);
      if (made) await this.dispatch(made.tenantId);
    },

    /** After a job ended: its sweep, if it is a trial, goes on. */
    async jobEnded(jobId: string): Promise<void> {
      const sweepId = await sweeps.sweepOfJob(jobId);
      if (sweepId) await this.advanceSweep(sweepId);
    },

    /**
     * Puts a job Postgres says is active back on the queue, built afresh from Postgres. A copy the queue holds as
     * finished (completed or failed in Redis only) is replaced; a live copy (waiting or training) is left alone.
     * Returns whether the job was enqueued.
     */
    async requeue(jobId: string): Promise<boolean> {
      const job = await jobs.statusAndTenant(jobId);
      if (job?.status !== 'queued' && job?.status !== 'running') return false;
      const existing = await queue.getJob(jobId);
      if (existing) {
        const state = await existing.getState();
        if (state !== 'completed' && state !== 'failed') return false;
        try {
          await existing.remove();
        } catch (err) {
          // Another process got there first and the new copy is already locked by a worker.
          log.info({ err, jobId }, 'requeue skipped: the job is held by a worker');
          return false;
        }
      }
      await enqueueTraining(queue, { jobId, tenantId: job.tenantId });
      return true;
    },

    /**
     * A cancelled job keeps its slot until a worker sees its run end. When no run can come any more (its worker died
     * and the queue no longer holds the job: the cancel removed it, or Redis lost it), the run ended with that worker:
     * its slot goes to the tenant's next job. A job the queue holds (active, waiting) is left to the worker that runs it.
     */
    async freeEndedCancels(): Promise<void> {
      for (const { id, tenantId } of await jobs.cancelledWithRuns()) {
        const state = await queue.getJobState(id);
        if (state !== 'unknown' && state !== 'completed' && state !== 'failed') continue;
        await jobs.runHandedBack(id);
        log.info({ jobId: id, queueState: state }, "a cancelled job's run ended with its worker; its slot is free");
        await this.dispatch(tenantId);
      }
    },
  };
}
