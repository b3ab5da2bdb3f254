// Quotas: the admin reads and sets a tenant's (like its rate-limit budgets in tenants.ts), a tenant reads its usage
// against them. Uploads, jobs and imports are checked where they are stored (src/db/quotas.ts).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { adminErrorResponses, commonErrorResponses, idParamsSchema } from '../../contracts/common.js';
import { tenantQuotasBodySchema, tenantQuotasSchema, usageSchema } from '../../contracts/quotas.js';
import { quotaRepository, type QuotaDefaults } from '../../db/quotas.js';
import { Errors } from '../errors.js';

/** quotas: the configured defaults (QUOTA_STORAGE_BYTES, QUOTA_DATASETS, QUOTA_MODELS). */
const quotaRoutes: FastifyPluginAsyncZod<{ quotas: QuotaDefaults }> = async (app, { quotas: defaults }) => {
  const quotas = quotaRepository(app.db);

  app.get(
    '/v1/usage',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['quotas'],
        summary: "The tenant's usage against its quotas: bytes stored, datasets, models (with queued or running jobs)",
        description:
          'Counted from what is stored when asked, so a delete lowers it at once. storageBytes.used is datasets (their ' +
          'float32 arrays) + models (their weights) + activeJobs (the most a queued or running job\'s model can take); ' +
          'models.used is stored models + queued or running jobs. An upload, job or import that would pass a limit ' +
          'answers 403 ERR_QUOTA_EXCEEDED.',
        security: [{ bearer: [] }],
        response: { 200: usageSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const usage = await quotas.usage(request.tenantId, defaults);
      if (!usage) throw Errors.NOT_FOUND(`tenant ${request.tenantId} not found`);
      return usage;
    },
  );

  app.get(
    '/v1/tenants/:id/quotas',
    {
      onRequest: app.authenticateAdmin,
      schema: {
        tags: ['tenants'],
        summary: "A tenant's quotas (admin key): bytes stored, datasets and models, its own or the defaults",
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 200: tenantQuotasSchema, ...adminErrorResponses },
      },
    },
    async (request) => {
      const limits = await quotas.limits(request.params.id, defaults);
      if (!limits) throw Errors.NOT_FOUND(`tenant ${request.params.id} not found`);
      return limits;
    },
  );

  app.patch(
    '/v1/tenants/:id/quotas',
    {
      onRequest: app.authenticateAdmin,
      schema: {
        tags: ['tenants'],
        summary: "Set a tenant's quotas (admin key); null puts one back to the default",
        description:
          'Applies to the next upload, job or import on every API process. A quota below what the tenant already ' +
          'uses removes nothing: further uploads, jobs and imports are refused until deletes bring usage under it.',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        body: tenantQuotasBodySchema,
        response: { 200: tenantQuotasSchema, ...adminErrorResponses },
      },
    },
    async (request) => {
      const limits = await quotas.setLimits(request.params.id, request.body, defaults);
      if (!limits) throw Errors.NOT_FOUND(`tenant ${request.params.id} not found`);
      return limits;
    },
  );
};
export default quotaRoutes;
