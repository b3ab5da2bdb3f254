import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { commonErrorResponses, errorBodySchema } from '../../contracts/common.js';
import { createTenantBodySchema, tenantCreatedSchema } from '../../contracts/tenants.js';
import { generateApiKey, hashApiKey } from '../plugins/auth.js';

const tenantRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v1/tenants',
    {
      onRequest: app.authenticateAdmin,
      schema: {
        tags: ['tenants'],
        summary: 'Create a tenant (admin key) and return its API key, shown only once',
        security: [{ bearer: [] }],
        body: createTenantBodySchema,
        response: { 201: tenantCreatedSchema, ...commonErrorResponses, 403: errorBodySchema },
      },
    },
    async (request, reply) => {
      const apiKey = generateApiKey();
      const tenant = await app.repos.tenants.create(request.body.name, hashApiKey(apiKey));
      return reply.status(201).send({ ...tenant, apiKey });
    },
  );
};
export default tenantRoutes;
