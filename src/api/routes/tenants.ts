// Tenants and their API keys; every route here needs the admin key. Rotation: issue a new key, move clients to
// it, then revoke the old one (a revoked key answers 401 from then on).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { adminErrorResponses, deletedResponseSchema, idParamsSchema } from '../../contracts/common.js';
import {
  apiKeyCreatedSchema,
  apiKeyListSchema,
  apiKeySchema,
  createTenantBodySchema,
  tenantCreatedSchema,
  tenantKeyParamsSchema,
  tenantRateLimitsBodySchema,
  tenantRateLimitsSchema,
} from '../../contracts/tenants.js';
import { stopCancelled } from '../../queue/cancel-channel.js';
import { issueApiKey } from '../api-keys.js';
import { Errors } from '../errors.js';
import { effectiveLimits, type RateLimitDefaults } from '../rate-limit-budgets.js';

const tenantRoutes: FastifyPluginAsyncZod<{ rateLimits: RateLimitDefaults }> = async (app, opts) => {
  app.addHook('onRequest', app.authenticateAdmin);
  const { tenants } = app.repos;

  const requireTenant = async (id: string) => {
    if (!(await tenants.exists(id))) throw Errors.NOT_FOUND(`tenant ${id} not found`);
  };

  app.post(
    '/v1/tenants',
    {
      schema: {
        tags: ['tenants'],
        summary: 'Create a tenant (admin key) and return its first API key, shown only once',
        security: [{ bearer: [] }],
        body: createTenantBodySchema,
        response: { 201: tenantCreatedSchema, ...adminErrorResponses },
      },
    },
    async (request, reply) => {
      const { apiKey, hash, prefix } = issueApiKey();
      const tenant = await tenants.create(request.body.name, { hash, prefix });
      return reply.status(201).send({ ...tenant, apiKey });
    },
  );

  app.delete(
    '/v1/tenants/:id',
    {
      schema: {
        tags: ['tenants'],
        summary: 'Delete a tenant and everything it has (admin key): keys, datasets, jobs, models; its queued work too',
        description:
          'One transaction deletes its API keys (401 from then on, on every API process), datasets, jobs with their ' +
          'metrics, checkpoints and webhook deliveries, and models. Its queued jobs are then taken off the queue and its ' +
          'running ones cancelled: their workers stop them at their next batch, and Postgres refuses ' +
          'anything more they would write. A second DELETE answers 404.',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 204: deletedResponseSchema, ...adminErrorResponses },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const outcome = await tenants.delete(id);
      if (!outcome) throw Errors.NOT_FOUND(`tenant ${id} not found`);
      // Their rows are gone, which the workers re-check; these only make them stop sooner (as POST /v1/jobs/:id/cancel does).
      for (const jobId of outcome.activeJobs) {
        await stopCancelled(app.queue, app.redis, app.queuePrefix, jobId);
      }
      await app.deletions.announce({ tenantId: id, tenant: true, datasets: [], models: [] });
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/tenants/:id/keys',
    {
      schema: {
        tags: ['tenants'],
        summary: "A tenant's API keys, live and revoked, oldest first (admin key); never the keys themselves",
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 200: apiKeyListSchema, ...adminErrorResponses },
      },
    },
    async (request) => {
      await requireTenant(request.params.id);
      return { items: await tenants.listKeys(request.params.id) };
    },
  );

  app.post(
    '/v1/tenants/:id/keys',
    {
      schema: {
        tags: ['tenants'],
        summary: 'Issue another API key for a tenant (admin key), e.g. to rotate keys; shown only once',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 201: apiKeyCreatedSchema, ...adminErrorResponses },
      },
    },
    async (request, reply) => {
      await requireTenant(request.params.id);
      const { apiKey, hash, prefix } = issueApiKey();
      const key = await tenants.createKey(request.params.id, { hash, prefix });
      return reply.status(201).send({ ...key, apiKey });
    },
  );

  app.delete(
    '/v1/tenants/:id/keys/:keyId',
    {
      schema: {
        tags: ['tenants'],
        summary: 'Revoke an API key (admin key): it answers 401 from now on. Revoking twice keeps the first time',
        security: [{ bearer: [] }],
        params: tenantKeyParamsSchema,
        response: { 200: apiKeySchema, ...adminErrorResponses },
      },
    },
    async (request) => {
      const key = await tenants.revokeKey(request.params.id, request.params.keyId);
      if (!key) throw Errors.NOT_FOUND(`API key ${request.params.keyId} of tenant ${request.params.id} not found`);
      // Every API process forgets its key lookups and ends the key's event streams at once.
      await app.deletions.announce({ tenantId: request.params.id, tenant: false, datasets: [], models: [], keysRevoked: true });
      return key;
    },
  );

  app.get(
    '/v1/tenants/:id/rate-limits',
    {
      schema: {
        tags: ['tenants'],
        summary: "A tenant's rate-limit budgets (admin key): requests and predictions per window, its own or the defaults",
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 200: tenantRateLimitsSchema, ...adminErrorResponses },
      },
    },
    async (request) => {
      const own = await tenants.budgets(request.params.id);
      if (!own) throw Errors.NOT_FOUND(`tenant ${request.params.id} not found`);
      return effectiveLimits(own, opts.rateLimits);
    },
  );

  app.patch(
    '/v1/tenants/:id/rate-limits',
    {
      schema: {
        tags: ['tenants'],
        summary: "Set a tenant's rate-limit budgets (admin key); null puts one back to the default",
        description:
          'Applies at once on the API process that answers and within AUTH_CACHE_TTL_MS on the others. A window ' +
          'already under way keeps its count: a smaller budget may refuse the rest of it at once.',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        body: tenantRateLimitsBodySchema,
        response: { 200: tenantRateLimitsSchema, ...adminErrorResponses },
      },
    },
    async (request) => {
      const own = await tenants.setBudgets(request.params.id, request.body);
      if (!own) throw Errors.NOT_FOUND(`tenant ${request.params.id} not found`);
      app.forgetApiKeys();
      return effectiveLimits(own, opts.rateLimits);
    },
  );
};
export default tenantRoutes;
