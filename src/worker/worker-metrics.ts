// The worker process's own Prometheus metrics, at GET /metrics on its health port: what only the process that
// trains sees as it happens (each epoch's duration, webhook attempts). The API's /metrics has the cluster-wide view.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DatasetSource } from './dataset-cache.js';

export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly epochs = new Counter({
    name: 'backprop_worker_epochs_total',
    help: 'Epochs trained and stored by this worker process (rate() gives epochs per second)',
    registers: [this.registry],
  });
  private readonly epochDuration = new Histogram({
    name: 'backprop_worker_epoch_duration_seconds',
    help: 'Training time of one epoch',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly webhookAttempts = new Counter({
    name: 'backprop_webhook_attempts_total',
    help: 'Webhook POSTs sent by this worker process, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly datasetReads = new Counter({
    name: 'backprop_worker_dataset_reads_total',
    help: "Datasets a run started on, by where they came from: Postgres, another run's read in flight, or the cache",
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  datasetRead(source: DatasetSource): void {
    this.datasetReads.inc({ source });
  }

  /** Reports the dataset cache's size whenever the metrics are scraped. */
  watchDatasetCache(bytes: () => number): void {
    new Gauge({
      name: 'backprop_worker_dataset_cache_bytes',
      help: 'Bytes of decoded datasets this worker process keeps between runs',
      registers: [this.registry],
      collect() {
        this.set(bytes());
      },
    });
  }

  epochCompleted(ms: number): void {
    this.epochs.inc();
    this.epochDuration.observe(ms / 1000);
  }

  webhookAttempt(outcome: 'delivered' | 'failed'): void {
    this.webhookAttempts.inc({ outcome });
  }
}
