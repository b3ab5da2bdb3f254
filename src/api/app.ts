// buildApp(): plugins first (errors, prisma, queue, auth, swagger), then one route plugin per resource.
// It never listens: server.ts does, and tests use the app in-process.
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { ConfigError, type Config } from '../config/index.js';
import authPlugin from './plugins/auth.js';
import errorsPlugin from './plugins/errors.js';
import prismaPlugin from './plugins/prisma.js';
import queuePlugin from './plugins/queue.js';
import swaggerPlugin from './plugins/swagger.js';
import datasetRoutes from './routes/datasets.js';
import healthRoutes from './routes/health.js';
import jobRoutes from './routes/jobs.js';
import modelRoutes from './routes/models.js';
import tenantRoutes from './routes/tenants.js';

export async function buildApp(config: Config): Promise<FastifyInstance> {
  if (!config.ADMIN_API_KEY) throw new ConfigError('ADMIN_API_KEY is required to run the API');
  const app = Fastify({
    logger: { level: config.LOG_LEVEL },
    bodyLimit: config.BODY_LIMIT_BYTES,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(errorsPlugin);
  await app.register(prismaPlugin, { databaseUrl: config.DATABASE_URL });
  await app.register(queuePlugin, { redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX });
  await app.register(authPlugin, { adminApiKey: config.ADMIN_API_KEY });
  await app.register(swaggerPlugin, { bodyLimit: config.BODY_LIMIT_BYTES });

  await app.register(healthRoutes);
  await app.register(tenantRoutes);
  await app.register(datasetRoutes);
  await app.register(jobRoutes);
  await app.register(modelRoutes, { cacheSize: config.MODEL_CACHE_SIZE });
  await app.ready();
  return app;
}
