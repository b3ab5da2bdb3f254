// Postgres is the source of truth, Redis only the transport. Every worker runs this loop: each admitted job that
// Postgres says is queued or running must be on the queue or training. Jobs the queue lost (Redis flushed or
// restarted without persistence, an API that died between insert and enqueue) are enqueued again from Postgres,
// and tenants with free slots get their waiting jobs. It runs at start, every RECONCILE_INTERVAL_MS, and whenever
// the Redis connection becomes ready again.
import type { Queue } from 'bullmq';
import type { RedisConnection } from './connection.js';
import type { TrainingJobData } from '../contracts/job-data.js';
import type { JobRepository } from '../db/jobs.js';
import type { SweepRepository } from '../db/sweeps.js';
import type { Dispatcher, QueueLogger } from './dispatcher.js';

export interface ReconcilerDeps {
  jobs: JobRepository;
  sweeps: SweepRepository;
  queue: Queue<TrainingJobData>;
  dispatcher: Dispatcher;
  /** The connection whose 'ready' event (a reconnect, maybe to an empty Redis) triggers a pass. */
  redis: RedisConnection;
  intervalMs: number;
  log: QueueLogger;
}

export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | null = null;
  private stopped = false;
  private readonly onReady = () => void this.run('redis ready');
  /**
   * A job the queue holds as finished while Postgres still says active is normally settled by its worker within
   * milliseconds; only one left like that for longer than this was lost between the two (its worker died).
   */
  private readonly finishedGraceMs: number;

  constructor(private readonly deps: ReconcilerDeps) {
    this.finishedGraceMs = Math.max(2000, deps.intervalMs);
  }

  start(): void {
    this.deps.redis.on('ready', this.onReady);
    this.schedule();
  }

  /** A pass in flight is not awaited: with Redis away it waits for the reconnect, and shutdown must not. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.deps.redis.off('ready', this.onReady);
  }

  /** One pass; concurrent triggers share it. Failures (Postgres or Redis away) are logged, the next pass retries. */
  run(trigger: string): Promise<void> {
    this.pass ??= this.reconcile()
      .catch((err: unknown) => this.deps.log.warn({ err, trigger }, 'reconcile pass failed; retrying on the next one'))
      .finally(() => (this.pass = null));
    return this.pass;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.run('interval').finally(() => this.schedule()), this.deps.intervalMs);
    this.timer.unref();
  }

  private async reconcile(): Promise<void> {
    const { jobs, sweeps, queue, dispatcher, log } = this.deps;
    for (const id of await jobs.dispatchedActive()) {
      if (this.stopped) break;
      const state = await queue.getJobState(id);
      let lost = state === 'unknown';
      if (state === 'completed' || state === 'failed') {
        const finishedOn = (await queue.getJob(id))?.finishedOn ?? 0;
        lost = Date.now() - finishedOn > this.finishedGraceMs;
      }
      if (lost && (await dispatcher.requeue(id))) log.info({ jobId: id, queueState: state }, 're-enqueued an active job the queue had lost');
    }
    await dispatcher.freeEndedCancels();
    // A trial's end is acted on by the worker that saw it; one that died first (or an API that died after storing a
    // sweep) leaves its sweep for this pass, which makes the same trials that worker would have (advance is idempotent).
    for (const sweepId of await sweeps.unfinished()) {
      if (this.stopped) break;
      await dispatcher.advanceSweep(sweepId);
    }
    for (const tenantId of await jobs.tenantsWaiting()) {
      if (this.stopped) break;
      await dispatcher.dispatch(tenantId);
    }
  }
}
