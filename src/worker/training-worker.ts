// The worker process: a BullMQ Worker whose processor runs in worker threads (dist/worker/processor.js), plus
// the parent-side duties the thread must not do: database writes, cancellation and queue reconciliation.
import { Queue, Worker, type Job } from 'bullmq';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/index.js';
import { TRAINING_QUEUE, type TrainingJobData, type TrainingProgress, type TrainingResult } from '../contracts/job-data.js';
import { createDb } from '../db/client.js';
import { datasetRepository } from '../db/datasets.js';
import { jobRepository } from '../db/jobs.js';
import { subscribeCancel } from '../queue/cancel-channel.js';
import { createRedis } from '../queue/connection.js';
import { buildTrainingPayload, enqueueTraining } from '../queue/producer.js';
import { startHealthServer, type WorkerHealth } from './health-server.js';
import { ProgressRecorder, type Logger } from './progress-recorder.js';

/** Compiled JS only: tsx cannot load TypeScript inside worker threads on Node 20. */
export const processorFile = fileURLToPath(new URL('./processor.js', import.meta.url));

export interface TrainingWorker {
  worker: Worker<TrainingJobData, TrainingResult>;
  health: WorkerHealth;
  close(): Promise<void>;
}

export async function startTrainingWorker(config: Config, log: Logger): Promise<TrainingWorker> {
  const db = createDb(config.DATABASE_URL);
  const jobs = jobRepository(db);
  const datasets = datasetRepository(db);
  const connection = createRedis(config.REDIS_URL, 'worker');
  const subscriber = createRedis(config.REDIS_URL, 'worker');
  const recorder = new ProgressRecorder(jobs, log);
  const queue = new Queue<TrainingJobData>(TRAINING_QUEUE, { connection, prefix: config.QUEUE_PREFIX });

  const worker = new Worker<TrainingJobData, TrainingResult>(TRAINING_QUEUE, processorFile, {
    connection,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    lockDuration: config.JOB_LOCK_DURATION_MS,
    stalledInterval: config.STALLED_INTERVAL_MS,
    useWorkerThreads: true,
    autorun: false,
  });
  let active = 0;

  worker.on('active', (job) => {
    active++;
    void recorder.enqueue(job.data.jobId, async () => {
      const status = await jobs.markRunning(job.data.jobId);
      // Cancelled (or deleted) while it waited: abort before the first epoch is recorded.
      if (status !== 'running') worker.cancelJob(job.id!, 'cancelled');
    });
  });
  worker.on('progress', (job, progress) => void recorder.record(job, progress as TrainingProgress));
  worker.on('completed', (job) => {
    active--;
    void recorder.enqueue(job.data.jobId, async () => {
      // The final message normally marked it succeeded; anything else still active means no model arrived.
      await jobs.markFailed(job.data.jobId, { code: 'ERR_NO_MODEL', message: 'training finished without producing a model' });
    });
  });
  worker.on('failed', (job?: Job<TrainingJobData>, err?: Error) => {
    if (!job) return;
    active--;
    void recorder.enqueue(job.data.jobId, async () => {
      // A cancelled job stays cancelled and an engine error was already stored: markFailed only touches active jobs.
      await jobs.markFailed(job.data.jobId, { code: 'ERR_TRAINING_FAILED', message: err?.message ?? job.failedReason ?? 'training failed' });
    });
  });
  worker.on('error', (err) => log.error({ err }, 'worker error'));

  await subscribeCancel(subscriber, config.QUEUE_PREFIX, (jobId) => {
    if (worker.cancelJob(jobId, 'cancelled')) log.info({ jobId }, 'cancelling running job');
  });

  await reconcile();
  void worker.run();
  const health = await startHealthServer(config.WORKER_HEALTH_PORT, config.HOST, () => active);
  log.info({ healthPort: health.port, prefix: config.QUEUE_PREFIX }, 'worker started');

  /** Jobs Postgres says are active but Redis lost (API crashed between insert and enqueue, Redis flushed). */
  async function reconcile(): Promise<void> {
    for (const jobId of await jobs.activeIds()) {
      if (await queue.getJob(jobId)) continue;
      await enqueueTraining(queue, await buildTrainingPayload(jobs, datasets, jobId));
      log.info({ jobId }, 're-enqueued a job missing from the queue');
    }
  }

  return {
    worker,
    health,
    async close() {
      await health.close();
      await worker.close();
      await recorder.drain();
      await queue.close();
      await subscriber.quit();
      await connection.quit();
      await db.$disconnect();
    },
  };
}
