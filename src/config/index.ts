// The only reader of process.env. Parsed once with zod and frozen, so a bad value fails at start, not mid-request.
import { z } from 'zod';

const MiB = 1024 * 1024;

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  /** Required by the API (tenant creation); the worker does not need it. */
  ADMIN_API_KEY: z.string().min(16, 'ADMIN_API_KEY must be at least 16 characters').optional(),
  /** Largest accepted request body; a 5,000-row MNIST CSV is about 10 MB. */
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(32 * MiB),
  /** Redis key prefix for BullMQ; tests use their own so runs never collide. */
  QUEUE_PREFIX: z.string().min(1).default('bp'),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** BullMQ lock duration; the worker renews it every half of this while a job trains. */
  JOB_LOCK_DURATION_MS: z.coerce.number().int().min(1000).default(30_000),
  /** How often workers look for jobs whose worker died (lock expired) and hand them to another worker. */
  STALLED_INTERVAL_MS: z.coerce.number().int().min(500).default(30_000),
  /** Port of the worker's own health endpoint (event-loop delay, active jobs); 0 picks a free port. */
  WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  /** How many deserialized models the API keeps in memory for predictions. */
  MODEL_CACHE_SIZE: z.coerce.number().int().min(0).default(32),
  MIGRATE_ON_START: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
});

export type Config = Readonly<z.output<typeof configSchema>>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the environment (plus explicit overrides, used by tests and process launchers) once. */
export function loadConfig(overrides: Record<string, string | undefined> = {}): Config {
  const parsed = configSchema.safeParse({ ...process.env, ...overrides });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return Object.freeze(parsed.data);
}
