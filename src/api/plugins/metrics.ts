// Prometheus metrics at GET /metrics (prom-client, text format), in a registry of this app's own, so several apps
// in one process (tests) never register a metric twice. Two kinds:
// - what this API process measures: HTTP latency by route, prediction latency, Node's process metrics;
// - the service as a whole, read from Postgres and Redis at scrape time, so every replica reports the same
//   values: jobs by status, queue depth and wait, epochs per second and epoch duration over all workers. These are
//   read at most once per FIGURES_TTL_MS, one read shared by concurrent scrapes: a scrape storm costs no more
//   Postgres than one scraper.
// The figures span every tenant: /metrics needs METRICS_TOKEN, or an explicit METRICS_OPEN.
// Each worker process has its own /metrics on its health port (epoch duration histogram, webhook attempts).
import { timingSafeEqual, createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import fp from 'fastify-plugin';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { TRAINING_QUEUE } from '../../contracts/job-data.js';
import { jobStatusSchema } from '../../contracts/jobs.js';
import { WEBHOOK_QUEUE } from '../../contracts/webhooks.js';
import { Errors } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: the route's requests are left out of http_request_duration_seconds (event streams). */
    httpMetrics?: boolean;
  }
}

export interface MetricsOptions {
  /** METRICS_TOKEN: when set, /metrics needs it as a bearer token. */
  token?: string;
  /** METRICS_OPEN: without a token, /metrics answers anyone (else it refuses everyone). */
  open?: boolean;
}

/** Throughput and durations are computed over this window. */
const RECENT_MS = 60_000;
/** The mean wait is over jobs that started within this window. */
const WAIT_WINDOW_MS = 5 * 60_000;
const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'] as const;
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** POST /v1/models/:id/predict, as Fastify names the route. */
const PREDICT_ROUTE = '/v1/models/:id/predict';

/** Service-wide figures are read from Postgres and Redis at most this often. */
const FIGURES_TTL_MS = 5_000;

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * `read` at most once per FIGURES_TTL_MS: scrapes at once or close together share one read. A failed read is not
 * kept, so the next scrape tries again.
 */
function atMostEvery<T>(read: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | null = null;
  return () => {
    const now = Date.now();
    if (last && now - last.at < FIGURES_TTL_MS) return last.value;
    const value = read();
    last = { at: now, value };
    value.catch(() => {
      if (last?.value === value) last = null;
    });
    return value;
  };
}

export default fp<MetricsOptions>(
  async (app, opts) => {
    const webhookQueue = new Queue(WEBHOOK_QUEUE, { connection: app.redis, prefix: app.queuePrefix });
    app.addHook('onClose', async () => webhookQueue.close());
    const queues: Record<string, Queue> = { [TRAINING_QUEUE]: app.queue, [WEBHOOK_QUEUE]: webhookQueue };
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const registers = [registry];

    const http = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route (as declared; "unmatched" for unknown paths) and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const predict = new Histogram({
      name: 'backprop_predict_duration_seconds',
      help: 'Time to answer POST /v1/models/:id/predict, by outcome (ok: 2xx, error: anything else)',
      labelNames: ['outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    // Callback-style: it runs on every response and waits for nothing, so it costs no promise.
    app.addHook('onResponse', (request, reply, done) => {
      if (request.routeOptions.config.httpMetrics !== false) {
        const route = request.routeOptions.url ?? 'unmatched';
        const seconds = reply.elapsedTime / 1000;
        http.observe({ method: request.method, route, status_code: String(reply.statusCode) }, seconds);
        if (route === PREDICT_ROUTE && request.method === 'POST') predict.observe({ outcome: reply.statusCode < 300 ? 'ok' : 'error' }, seconds);
      }
      done();
    });

    /** A failing source (Postgres or Redis away) leaves its gauges as they were rather than failing the scrape. */
    const collect = <T>(what: string, read: (this: T) => Promise<void>) =>
      async function (this: T) {
        try {
          await read.call(this);
        } catch (err) {
          app.log.warn({ err }, `metrics: could not read ${what}`);
        }
      };

    const jobsByStatus = atMostEvery(() => app.db.job.groupBy({ by: ['status'], _count: { _all: true } }));
    const queueCounts = atMostEvery(() =>
      Promise.all(Object.entries(queues).map(async ([name, queue]) => ({ name, counts: await queue.getJobCounts(...QUEUE_STATES) }))),
    );
    const oldestQueued = atMostEvery(() =>
      app.db.job.findFirst({ where: { status: 'queued' }, orderBy: { createdAt: 'asc' }, select: { createdAt: true } }),
    );
    const recentStarts = atMostEvery(() =>
      app.db.job.findMany({ where: { startedAt: { gte: new Date(Date.now() - WAIT_WINDOW_MS) } }, select: { createdAt: true, startedAt: true }, take: 10_000 }),
    );
    // Both epoch gauges read the same figures, once.
    const recentEpochs = atMostEvery(() =>
      app.db.jobMetric.aggregate({ where: { createdAt: { gte: new Date(Date.now() - RECENT_MS) } }, _count: { _all: true }, _avg: { ms: true } }),
    );

    new Gauge({
      name: 'backprop_jobs',
      help: 'Jobs by status, all tenants (Postgres)',
      labelNames: ['status'] as const,
      registers,
      collect: collect('jobs by status', async function (this: Gauge<'status'>) {
        const rows = await jobsByStatus();
        for (const status of jobStatusSchema.options) this.set({ status }, rows.find((r) => r.status === status)?._count._all ?? 0);
      }),
    });
    new Gauge({
      name: 'backprop_queue_depth',
      help: 'Jobs in each BullMQ queue by state (Redis); training jobs waiting for a tenant slot are in backprop_jobs{status="queued"} only',
      labelNames: ['queue', 'state'] as const,
      registers,
      collect: collect('queue depth', async function (this: Gauge<'queue' | 'state'>) {
        for (const { name, counts } of await queueCounts()) {
          for (const state of QUEUE_STATES) this.set({ queue: name, state }, counts[state] ?? 0);
        }
      }),
    });
    new Gauge({
      name: 'backprop_queue_oldest_wait_seconds',
      help: 'How long the oldest queued (not yet running) job has waited; 0 when none waits',
      registers,
      collect: collect('the oldest queued job', async function (this: Gauge) {
        const oldest = await oldestQueued();
        this.set(oldest ? Math.max(0, (Date.now() - oldest.createdAt.getTime()) / 1000) : 0);
      }),
    });
    new Gauge({
      name: 'backprop_queue_wait_seconds',
      help: 'Mean time from creation to start of the jobs that started in the last 5 minutes; 0 when none did',
      registers,
      collect: collect('queue wait', async function (this: Gauge) {
        const started = await recentStarts();
        const total = started.reduce((sum, j) => sum + (j.startedAt!.getTime() - j.createdAt.getTime()), 0);
        this.set(started.length ? total / started.length / 1000 : 0);
      }),
    });
    new Gauge({
      name: 'backprop_epochs_per_second',
      help: 'Epochs stored per second over the last minute, all workers (Postgres)',
      registers,
      collect: collect('recent epochs', async function (this: Gauge) {
        this.set((await recentEpochs())._count._all / (RECENT_MS / 1000));
      }),
    });
    new Gauge({
      name: 'backprop_epoch_duration_seconds',
      help: 'Mean training time of the epochs stored in the last minute, all workers; 0 when there were none (Postgres)',
      registers,
      collect: collect('recent epochs', async function (this: Gauge) {
        this.set(((await recentEpochs())._avg.ms ?? 0) / 1000);
      }),
    });

    const expected = opts.token ? sha256(`Bearer ${opts.token}`) : null;
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      if (!expected && !opts.open) {
        throw Errors.FORBIDDEN('GET /metrics is closed: set METRICS_TOKEN and scrape with Authorization: Bearer <METRICS_TOKEN>, or METRICS_OPEN=true');
      }
      if (expected && !timingSafeEqual(sha256(request.headers.authorization ?? ''), expected)) {
        throw Errors.UNAUTHORIZED('GET /metrics needs Authorization: Bearer <METRICS_TOKEN>');
      }
      return reply.type(registry.contentType).send(await registry.metrics());
    });
  },
  { name: 'metrics', dependencies: ['prisma', 'queue'] },
);
