// buildApp(): plugins first (errors, prisma, queue, auth, security, body parsers, idempotency, swagger, metrics, job
// events, deletions, webhook URLs, dashboard), then one route plugin per resource. It never listens: server.ts does, and tests use the app in-process.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { ConfigError, type Config } from '../config/index.js';
import { acceptEmptyBodies } from './bodyless-routes.js';
import { locationOfCreated } from './created-location.js';
import { clientErrorHandler, frameworkErrorHandler, requireHost } from './client-errors.js';
import { ModelCache } from './model-cache.js';
import { dropUnusedConnectionsOnClose } from './unused-connections.js';
import authPlugin from './plugins/auth.js';
import bodyParsersPlugin from './plugins/body-parsers.js';
import dashboardPlugin from './plugins/dashboard.js';
import deletionsPlugin from './plugins/deletions.js';
import errorsPlugin from './plugins/errors.js';
import idempotencyPlugin from './plugins/idempotency.js';
import jobEventsPlugin from './plugins/job-events.js';
import metricsPlugin from './plugins/metrics.js';
import prismaPlugin from './plugins/prisma.js';
import queuePlugin from './plugins/queue.js';
import securityPlugin from './plugins/security.js';
import swaggerPlugin from './plugins/swagger.js';
import datasetRoutes from './routes/datasets.js';
import healthRoutes from './routes/health.js';
import jobEventRoutes from './routes/job-events.js';
import jobRoutes from './routes/jobs.js';
import modelExportRoutes from './routes/model-export.js';
import modelListRoutes from './routes/model-list.js';
import modelRoutes from './routes/models.js';
import registryRoutes from './routes/registry.js';
import sweepRoutes from './routes/sweeps.js';
import quotaRoutes from './routes/quotas.js';
import tenantRoutes from './routes/tenants.js';
import webhookRoutes from './routes/webhooks.js';

/** A caller's x-request-id is kept when it is a plain token (so it cannot forge log lines); otherwise a new UUID. */
function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

export async function buildApp(config: Config): Promise<FastifyInstance> {
  if (!config.ADMIN_API_KEY) throw new ConfigError('ADMIN_API_KEY is required to run the API (`npm run dev` makes a random one for development)');
  const app = Fastify({
    logger: { level: config.LOG_LEVEL },
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Every log line of a request carries reqId; every response echoes it as x-request-id (first hook below).
    requestIdHeader: false,
    genReqId: requestId,
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
    // Checked by requireHost instead, so the answer is a coded error like every other.
    http: { requireHostHeader: false },
  }).withTypeProvider<ZodTypeProvider>();
  // Hooks on every request are callback-style where they do not wait for anything: no promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onRequest', requireHost);
  dropUnusedConnectionsOnClose(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const rateLimits = { requests: config.RATE_LIMIT_MAX, predictions: config.RATE_LIMIT_PREDICT_MAX, windowMs: config.RATE_LIMIT_WINDOW_MS };
  const quotas = { storageBytes: config.QUOTA_STORAGE_BYTES, datasets: config.QUOTA_DATASETS, models: config.QUOTA_MODELS };

  await app.register(errorsPlugin);
  app.addHook('onRoute', acceptEmptyBodies);
  app.addHook('preSerialization', locationOfCreated);
  await app.register(prismaPlugin, { databaseUrl: config.DATABASE_URL });
  await app.register(queuePlugin, { redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, tenantLimit: config.TENANT_MAX_CONCURRENT_JOBS });
  await app.register(authPlugin, { adminApiKey: config.ADMIN_API_KEY, cacheTtlMs: config.AUTH_CACHE_TTL_MS });
  await app.register(securityPlugin, { limits: rateLimits });
  await app.register(bodyParsersPlugin, {
    maxJsonContainers: config.DATASET_MAX_ROWS + 100_000,
    routeLimits: { PREDICT_BODY_LIMIT_BYTES: config.PREDICT_BODY_LIMIT_BYTES, JOB_BODY_LIMIT_BYTES: config.JOB_BODY_LIMIT_BYTES },
  });
  await app.register(idempotencyPlugin, { ttlSeconds: config.IDEMPOTENCY_TTL_SECONDS });
  await app.register(swaggerPlugin, { config });
  if (config.METRICS_ENABLED) await app.register(metricsPlugin, { token: config.METRICS_TOKEN, open: config.METRICS_OPEN });
  await app.register(deletionsPlugin, { redisUrl: config.REDIS_URL });
  await app.register(jobEventsPlugin, {
    redisUrl: config.REDIS_URL,
    pingIntervalMs: config.EVENTS_PING_INTERVAL_MS,
    maxStreamsPerKey: config.EVENTS_MAX_STREAMS_PER_KEY,
  });
  await app.register(dashboardPlugin);

  await app.register(healthRoutes);
  await app.register(tenantRoutes, { rateLimits });
  await app.register(quotaRoutes, { quotas });
  await app.register(datasetRoutes, {
    limits: { maxRows: config.DATASET_MAX_ROWS, maxColumns: config.DATASET_MAX_COLUMNS, maxCells: config.DATASET_MAX_CELLS },
    quotas,
  });
  await app.register(jobRoutes, {
    limits: { maxParameters: config.MODEL_MAX_PARAMETERS, maxEpochs: config.TRAINING_MAX_EPOCHS, maxTrainingBytes: config.WORKER_MEMORY_LIMIT_MB * 1024 * 1024 },
    allowPrivateWebhooks: config.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
    quotas,
  });
  await app.register(sweepRoutes, {
    limits: {
      maxParameters: config.MODEL_MAX_PARAMETERS,
      maxEpochs: config.TRAINING_MAX_EPOCHS,
      maxTrainingBytes: config.WORKER_MEMORY_LIMIT_MB * 1024 * 1024,
      maxTrials: config.SWEEP_MAX_TRIALS,
    },
    quotas,
  });
  const modelCache = new ModelCache(config.MODEL_CACHE_MB * 1024 * 1024);
  await app.register(modelRoutes, { cache: modelCache });
  await app.register(registryRoutes, { cache: modelCache });
  await app.register(jobEventRoutes);
  await app.register(webhookRoutes);
  await app.register(modelListRoutes);
  await app.register(modelExportRoutes, { maxParameters: config.MODEL_MAX_PARAMETERS, quotas });
  await app.ready();
  return app;
}
