// The only reader of process.env. Parsed once with zod and frozen, so a bad value fails at start, not mid-request.
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { COLUMNS_CEILING } from '../contracts/datasets.js';
import { EPOCHS_CEILING } from '../contracts/training.js';

const MiB = 1024 * 1024;

export const configSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  /**
   * One Redis server; a comma-separated list of URLs (a single one with a trailing comma) is a Redis Cluster's seed
   * nodes, as is REDIS_CLUSTER_NODES.
   */
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .refine((value) => value.split(',').filter((part) => part.trim()).every((part) => z.url({ protocol: /^rediss?$/ }).safeParse(part.trim()).success), {
      message: 'REDIS_URL must be a redis:// or rediss:// URL, or a comma-separated list of them (a cluster)',
    }),
  /**
   * A Redis Cluster's seed nodes as host:port,host:port (at least one; the cluster tells the rest). When set it
   * replaces REDIS_URL, and QUEUE_PREFIX gets a hash tag ({bp}) unless it has one, so every key of a queue shares a slot.
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^\s*[^\s,:]+:\d+\s*(,\s*[^\s,:]+:\d+\s*)*$/, 'REDIS_CLUSTER_NODES must be host:port[,host:port...]')
    .optional(),
  /** Required by the API (tenant creation); the worker does not need it. */
  ADMIN_API_KEY: z.string().min(16, 'ADMIN_API_KEY must be at least 16 characters').optional(),
  /** Largest accepted request body; a 5,000-row MNIST CSV is about 10 MB. */
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(32 * MiB),
  /**
   * Body limits of routes whose bodies are small by nature (at most BODY_LIMIT_BYTES): POST /v1/models/:id/predict and
   * /v1/registry/:name/predict (10,000 rows of 4 numbers are about 250 KB), and POST /v1/jobs.
   */
  PREDICT_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(MiB),
  JOB_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(MiB),
  /** Redis key prefix for BullMQ; tests use their own so runs never collide. */
  QUEUE_PREFIX: z.string().min(1).default('bp'),
  /** Training threads per worker process; one per core by default, so two jobs train at once on two cores. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(availableParallelism()),
  /** Decoded datasets a worker process keeps in memory between runs (datasets never change); 0 keeps none. */
  WORKER_DATASET_CACHE_MB: z.coerce.number().int().min(0).default(256),
  /**
   * What float32 matrix products run on (src/runtime/gemm-backend.ts): 'auto' uses the system's OpenBLAS
   * (libopenblas.so.0) when it loads and WebAssembly otherwise, 'off' always WebAssembly, and a path names the
   * OpenBLAS library to load. Logged at start; OPENBLAS_NUM_THREADS caps the threads one job's products may use.
   */
  BACKPROP_NATIVE_GEMM: z.string().min(1).default('auto'),
  /** BullMQ lock duration; the worker renews it every half of this while a job trains. */
  JOB_LOCK_DURATION_MS: z.coerce.number().int().min(1000).default(30_000),
  /** Worker deaths a job survives in a row (it resumes from its checkpoint each time); at the next start it fails. */
  JOB_MAX_CRASHES: z.coerce.number().int().min(0).max(1000).default(10),
  /**
   * How long after its first start a job may still train (queue waits after a hand-back count too): past it, the
   * job stops at its next batch boundary, keeps its checkpoint and fails with ERR_JOB_WALL_TIME_EXCEEDED.
   */
  JOB_MAX_WALL_TIME_MS: z.coerce.number().int().min(1000).default(24 * 3600 * 1000),
  /** How often workers look for jobs whose worker died (lock expired) and hand them to another worker. */
  STALLED_INTERVAL_MS: z.coerce.number().int().min(500).default(30_000),
  /** How often a worker compares Postgres with Redis and re-enqueues active jobs the queue lost (also on Redis reconnect). */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(200).default(10_000),
  /** Jobs of one tenant in the queue or training at once; the tenant's further jobs wait queued in Postgres. */
  TENANT_MAX_CONCURRENT_JOBS: z.coerce.number().int().min(1).default(4),
  /** SIGTERM: how long a worker (checkpointing its jobs) or the API (finishing requests) may take before it exits anyway. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /**
   * Port of the worker's own health endpoint (event-loop delay, active jobs). Unset: 3001, or a free port when
   * another worker on the host has 3001 (logged in "worker started"). Set: exactly that port, and the worker
   * refuses to start, in one line, when it is taken; 0 always picks a free port.
   */
  WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /**
   * Interface of the worker's health endpoint. Loopback by default: it has no authentication besides METRICS_TOKEN,
   * and the container's or host's own health check reaches it there; 0.0.0.0 for a scraper on another host.
   */
  WORKER_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * Memory for deserialized models the API keeps for predictions, counted per model as its weights and gradient
   * buffers, its layers' buffers for a 256-row chunk, and its weights' stored text; 0 keeps none.
   */
  MODEL_CACHE_MB: z.coerce.number().int().min(0).default(256),
  /** Dataset limits, checked while a CSV is read, so an oversized upload fails before it is held in memory. */
  DATASET_MAX_ROWS: z.coerce.number().int().min(1).default(1_000_000),
  DATASET_MAX_COLUMNS: z.coerce.number().int().min(2).max(COLUMNS_CEILING).default(10_000),
  /** rows x columns (and rows x classes of a one-hot target); 20M float32 cells are 80 MB. */
  DATASET_MAX_CELLS: z.coerce.number().int().min(1).default(20_000_000),
  /**
   * Memory one training run may take in a worker, estimated at submission (activations per batch, weights, gradients,
   * optimizer slots, the encoded dataset): POST /v1/jobs answers 422 past it rather than let the run kill its worker.
   */
  WORKER_MEMORY_LIMIT_MB: z.coerce.number().int().min(16).default(2048),
  /** Weights and biases of a model, counted before anything is allocated. */
  MODEL_MAX_PARAMETERS: z.coerce.number().int().min(1).default(10_000_000),
  TRAINING_MAX_EPOCHS: z.coerce.number().int().min(1).max(EPOCHS_CEILING).default(10_000),
  /** Configurations one sweep may try (grid points, or draws): its plan is checked and stored whole when it is created. */
  SWEEP_MAX_TRIALS: z.coerce.number().int().min(1).max(10_000).default(100),
  /**
   * How long an API key's lookup (its tenant and rate-limit budgets, or that it is unknown) is remembered per API
   * process (0 = look it up on every request).
   */
  AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).default(5_000),
  /**
   * Requests per tenant (per unknown key, per IP without a key) per window, on /v1 routes other than predict;
   * Redis-backed, so shared by API processes. The admin may set a tenant's own (PATCH /v1/tenants/:id/rate-limits).
   */
  RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(1200),
  /** POST /v1/models/:id/predict calls per tenant per window: a budget of their own, apart from RATE_LIMIT_MAX. */
  RATE_LIMIT_PREDICT_MAX: z.coerce.number().int().min(1).default(60_000),
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).default(60_000),
  /**
   * Default quotas per tenant (the admin may set a tenant's own: PATCH /v1/tenants/:id/quotas): bytes stored (datasets'
   * float32 arrays, models' weights, and the weights of the models queued or running jobs will make), datasets, and
   * models (stored, plus one per queued or running job). An upload, job or import past one answers 403.
   */
  QUOTA_STORAGE_BYTES: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(100 * 1024 * MiB),
  QUOTA_DATASETS: z.coerce.number().int().min(0).max(1_000_000_000).default(10_000),
  QUOTA_MODELS: z.coerce.number().int().min(0).max(1_000_000_000).default(10_000),
  /** How long an Idempotency-Key is remembered. */
  IDEMPOTENCY_TTL_SECONDS: z.coerce.number().int().min(60).default(86_400),
  /**
   * GET /v1/jobs/:id/events: a `: ping` comment this often. At each, the API process re-checks its streams' keys
   * (through the key cache) and, in one query for all its streams, which jobs moved on without a Redis message.
   */
  EVENTS_PING_INTERVAL_MS: z.coerce.number().int().min(100).default(15_000),
  /** Event streams open at once per API key, counted in Redis across API processes; one more answers 429. */
  EVENTS_MAX_STREAMS_PER_KEY: z.coerce.number().int().min(1).default(20),
  /** GET /metrics (Prometheus text format): served unless false. */
  METRICS_ENABLED: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** When set, GET /metrics (the API's, and a worker's) needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
  /**
   * true: the API's GET /metrics answers without a token when METRICS_TOKEN is unset. Otherwise it refuses (403): its
   * figures span every tenant, so leaving it open is a choice made explicitly (`npm run dev` makes it).
   */
  METRICS_OPEN: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Webhook deliveries: attempts in all, the first retry's delay (doubling after each failure), and the timeout of one POST. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(10),
  WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(10).default(1000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** Webhook POSTs a worker process sends at once. */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  /**
   * Webhooks go to public addresses only (src/webhook-target.ts): not loopback, private, link-local (cloud metadata)
   * and the like. true lifts that, for receivers on a private network.
   */
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  MIGRATE_ON_START: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
});

/** With a Redis Cluster: REDIS_URL lists its nodes and QUEUE_PREFIX carries a hash tag. */
const clusterAware = configSchema.transform((config) => {
  const cluster = config.REDIS_CLUSTER_NODES ?? (config.REDIS_URL.includes(',') ? config.REDIS_URL : undefined);
  if (!cluster) return config;
  const nodes = config.REDIS_CLUSTER_NODES
    ? config.REDIS_CLUSTER_NODES.split(',').map((node) => `redis://${node.trim()}`)
    : config.REDIS_URL.split(',').map((url) => url.trim());
  // A list, even of one node (then with a trailing comma), is what tells createRedis to connect to a cluster.
  const REDIS_URL = nodes.length > 1 ? nodes.join(',') : `${nodes[0]},`;
  const QUEUE_PREFIX = /\{[^}]+\}/.test(config.QUEUE_PREFIX) ? config.QUEUE_PREFIX : `{${config.QUEUE_PREFIX}}`;
  return { ...config, REDIS_URL, QUEUE_PREFIX };
});

export type Config = Readonly<z.output<typeof clusterAware>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the environment (plus explicit overrides, used by tests and process launchers) once. */
export function loadConfig(overrides: Record<string, string | undefined> = {}): Config {
  const parsed = clusterAware.safeParse({ ...process.env, ...overrides });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return Object.freeze(parsed.data);
}

/**
 * `npm run dev`'s defaults, for a machine where Postgres and Redis run on their default local ports (the user and
 * password of the official Docker image; a local server with trust authentication ignores the password).
 * Development only: `npm start` and `npm run worker` require DATABASE_URL, and the API ADMIN_API_KEY.
 */
export const DEV_DEFAULTS = {
  DATABASE_URL: 'postgresql://postgres:postgres@127.0.0.1:5432/backprop',
  REDIS_URL: 'redis://127.0.0.1:6379',
  /** A local API's /metrics is open without a token; a deployment sets METRICS_TOKEN or opts in itself. */
  METRICS_OPEN: 'true',
} as const;

/**
 * The environment `npm run dev` gives the API and the worker: the caller's, over DEV_DEFAULTS, and a random admin key
 * when ADMIN_API_KEY is unset (returned apart, to be printed once).
 */
export function developmentEnv(): { env: Record<string, string>; generatedAdminKey: string | null } {
  const env: Record<string, string> = { ...DEV_DEFAULTS };
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  if (env.ADMIN_API_KEY) return { env, generatedAdminKey: null };
  const generatedAdminKey = `dev_${randomBytes(24).toString('base64url')}`;
  return { env: { ...env, ADMIN_API_KEY: generatedAdminKey }, generatedAdminKey };
}
