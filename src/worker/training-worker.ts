// The worker process: a BullMQ Worker whose processor runs in worker threads (dist/worker/processor.js), plus
// the parent-side duties the thread must not do: database writes, cancellation, shutdown and reconciliation; and
// what follows from those writes: live events on Redis and webhook deliveries (a second BullMQ Worker).
import { Queue, Worker, type Job } from 'bullmq';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/index.js';
import { TRAINING_QUEUE, type TrainingJobData, type TrainingResult } from '../contracts/job-data.js';
import { WEBHOOK_QUEUE, type WebhookJobData } from '../contracts/webhooks.js';
import { createDb } from '../db/client.js';
import { datasetRepository } from '../db/datasets.js';
import { jobRepository } from '../db/jobs.js';
import { sweepRepository } from '../db/sweeps.js';
import { webhookRepository } from '../db/webhooks.js';
import { subscribeCancel } from '../queue/cancel-channel.js';
import { createRedis } from '../queue/connection.js';
import { subscribeDeletions } from '../queue/deletion-channel.js';
import { loadTrainingInput } from '../queue/producer.js';
import { createDispatcher, type QueueLogger } from '../queue/dispatcher.js';
import { Reconciler } from '../queue/reconciler.js';
import { createWebhookOutbox } from '../queue/webhook-outbox.js';
import { DatasetCache } from './dataset-cache.js';
import { startHealthServer } from './health-server.js';
import { JobAnnouncer } from './job-announcer.js';
import { ProgressRecorder } from './progress-recorder.js';
import { ThreadLink } from './thread-link.js';
import { startWebhookWorker } from './webhook-worker.js';
import { WorkerMetrics } from './worker-metrics.js';

/** Compiled JS only: tsx cannot load TypeScript inside worker threads on Node 20. */
const processorFile = fileURLToPath(new URL('./processor.js', import.meta.url));

export interface TrainingWorker {
  /** Stops taking jobs, checkpoints the running ones and hands them back to the queue, then disconnects. */
  close(): Promise<void>;
}

export async function startTrainingWorker(config: Config, log: QueueLogger): Promise<TrainingWorker> {
  const db = createDb(config.DATABASE_URL);
  const jobs = jobRepository(db);
  const sweeps = sweepRepository(db);
  const connection = createRedis(config.REDIS_URL, 'worker');
  const subscriber = createRedis(config.REDIS_URL, 'worker');
  // Live events are dropped rather than queued while Redis is away: followers catch up from Postgres.
  const publisher = createRedis(config.REDIS_URL, 'client');
  publisher.on('error', () => undefined); // reconnects by itself; a failed publish is logged where it happens
  const queue = new Queue<TrainingJobData>(TRAINING_QUEUE, { connection, prefix: config.QUEUE_PREFIX });
  const dispatcher = createDispatcher({ jobs, sweeps, queue, tenantLimit: config.TENANT_MAX_CONCURRENT_JOBS, log });
  const reconciler = new Reconciler({ jobs, sweeps, queue, dispatcher, redis: connection, intervalMs: config.RECONCILE_INTERVAL_MS, log });
  const metrics = new WorkerMetrics();
  const datasets = new DatasetCache(datasetRepository(db), config.WORKER_DATASET_CACHE_MB * 1024 * 1024, (source) => metrics.datasetRead(source));
  metrics.watchDatasetCache(() => datasets.size);
  const webhooks = webhookRepository(db);
  const webhookQueue = new Queue<WebhookJobData>(WEBHOOK_QUEUE, { connection, prefix: config.QUEUE_PREFIX });
  const outbox = createWebhookOutbox({ webhooks, queue: webhookQueue, attempts: config.WEBHOOK_MAX_ATTEMPTS, backoffMs: config.WEBHOOK_BACKOFF_MS, log });
  const announcer = new JobAnnouncer(publisher, config.QUEUE_PREFIX, jobs, outbox, metrics, log);
  const recorder = new ProgressRecorder(
    jobs,
    log,
    (jobId) => link.stop(jobId, 'cancelled'),
    (job) => loadTrainingInput(jobs, datasets, job),
    announcer,
    config.JOB_MAX_CRASHES,
    config.JOB_MAX_WALL_TIME_MS,
  );
  let shuttingDown = false;
  const link = new ThreadLink(async (envelope) => {
    if (envelope.message.kind === 'start' && shuttingDown) return { proceed: false, reason: 'shutdown' };
    return recorder.record(envelope);
  });

  const worker = new Worker<TrainingJobData, TrainingResult>(TRAINING_QUEUE, processorFile, {
    connection,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    lockDuration: config.JOB_LOCK_DURATION_MS,
    stalledInterval: config.STALLED_INTERVAL_MS,
    // Postgres, not a stall counter, decides when a job is finished: a job whose worker died always goes back to
    // wait and resumes from its checkpoint (BullMQ's default of 1 would fail it on the second crash).
    maxStalledCount: Number.MAX_SAFE_INTEGER,
    useWorkerThreads: true,
    autorun: false,
  });

  /**
   * After a job's run ends: settle Postgres, announce the end if it was one, let its sweep (if it is a trial) make its
   * next trials, give the tenant's freed slot away.
   */
  const settle = (job: Job<TrainingJobData>, what: string, work: () => Promise<unknown>) => {
    void recorder.enqueue(job.data.jobId, what, work);
    recorder.announceEnd(job.data.jobId);
    void recorder.enqueue(job.data.jobId, 'advancing its sweep', () => dispatcher.jobEnded(job.data.jobId));
    void recorder.enqueue(job.data.jobId, "admitting the tenant's next jobs", () => dispatcher.dispatch(job.data.tenantId));
  };

  worker.on('completed', (job) =>
    // The thread waited until its model was stored; a job still active here got no model (a guard, not a path).
    settle(job, 'checking the model', () => jobs.markFailed(job.data.jobId, { code: 'ERR_NO_MODEL', message: 'training finished without producing a model' })),
  );
  worker.on('failed', (job: Job<TrainingJobData> | undefined, err: Error) => {
    if (!job) return;
    switch (err.name) {
      case 'CancelledError':
        // Cancelled by the user, or no longer active in Postgres. Its run has ended only now: until this write the
        // cancelled job still held its tenant's slot (jobs.admit counts a cancelled job with an unfinished run).
        return settle(job, 'ending the cancelled run', () => jobs.runHandedBack(job.data.jobId));
      case 'ReleasedError': // shutdown or lost lock, after a durable checkpoint: back on the queue from Postgres
        return settle(job, 'handing the job back to the queue', async () => {
          await jobs.runHandedBack(job.data.jobId);
          if (await dispatcher.requeue(job.data.jobId)) log.info({ jobId: job.data.jobId }, 'job handed back to the queue');
        });
      default:
        // Engine errors (bad spec, divergence) were stored by the thread already; markFailed only touches active jobs.
        return settle(job, 'recording the failure', () =>
          jobs.markFailed(job.data.jobId, { code: 'ERR_TRAINING_FAILED', message: err.message || job.failedReason || 'training failed' }),
        );
    }
  });
  // The lock could not be renewed (Redis flushed, or this process stalled): another run may own the job now.
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const jobId of jobIds) if (link.stop(jobId, 'lost')) log.warn({ jobId }, 'lost the job lock; stopping its run');
  });
  worker.on('error', (err) => log.error({ err }, 'worker error'));

  await subscribeCancel(subscriber, config.QUEUE_PREFIX, (jobId) => {
    if (link.stop(jobId, 'cancelled')) log.info({ jobId }, 'cancelling running job');
    // Cancelled by the API, maybe while it waited on no worker: its event stream and webhook learn of it here.
    recorder.announceEnd(jobId);
  });
  // A deleted dataset leaves this process's cache at once (and every dataset after a Redis outage, in case one was missed).
  await subscribeDeletions(subscriber, config.QUEUE_PREFIX, (notice) => {
    if (notice.kind === 'missed') return datasets.dropAll();
    const { tenantId, tenant, datasets: deleted } = notice.deletion;
    if (tenant) datasets.dropAll(tenantId);
    else if (deleted.length) datasets.drop(tenantId, deleted);
  });

  await reconciler.run('start');
  reconciler.start();
  void worker.run();
  const webhookWorker = startWebhookWorker({
    connection,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WEBHOOK_CONCURRENCY,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    allowPrivateAddresses: config.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
    webhooks,
    metrics,
    log,
  });
  // Deliveries a crash left behind (a job ended but its worker died before the outbox row), with the reconciler's pace.
  const sweepWebhooks = () => outbox.sweep((jobId) => announcer.ended(jobId)).catch((err: unknown) => log.warn({ err }, 'webhook sweep failed'));
  const webhookSweep = setInterval(() => void sweepWebhooks(), config.RECONCILE_INTERVAL_MS);
  webhookSweep.unref();
  void sweepWebhooks();
  const health = await startHealthServer(config.WORKER_HEALTH_PORT, config.WORKER_HEALTH_HOST, () => link.activeRuns, metrics.registry, config.METRICS_TOKEN);
  log.info({ healthPort: health.port, prefix: config.QUEUE_PREFIX }, 'worker started');

  return {
    async close() {
      shuttingDown = true;
      reconciler.stop();
      const closing = worker.close(); // takes no new job; resolves once the running ones have stopped
      for (const jobId of link.activeJobIds()) {
        // A deploy is no crash, even one whose hand-back outlasts SHUTDOWN_TIMEOUT_MS: said first, before the
        // checkpoint, so the next run of the job does not count this one against JOB_MAX_CRASHES.
        void recorder.enqueue(jobId, 'recording the run as released', () => jobs.runHandedBack(jobId));
        link.stop(jobId, 'shutdown');
      }
      await closing;
      await recorder.drain();
      link.close();
      clearInterval(webhookSweep);
      await webhookWorker.close();
      await health.close();
      await queue.close();
      await webhookQueue.close();
      await publisher.quit().catch(() => undefined);
      await subscriber.quit();
      await connection.quit();
      await db.$disconnect();
    },
  };
}
