// Webhook deliveries of a job (tenant key) and the tenant's signing secret (admin key: the operator hands it to the
// tenant together with its API key). The secret is made by POST, or by the first delivery that needs it (so tenants
// created before webhooks existed get one too); reading it never makes one, so a GET changes nothing.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { adminErrorResponses, commonErrorResponses, idParamsSchema } from '../../contracts/common.js';
import { webhookDeliveryListSchema, webhookSecretSchema } from '../../contracts/webhooks.js';
import { Errors } from '../errors.js';

const webhookRoutes: FastifyPluginAsyncZod = async (app) => {
  const { webhooks } = app.repos;

  app.get(
    '/v1/jobs/:id/webhooks',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['jobs'],
        summary: "Deliveries of the job's webhook: status, attempts, last error and HTTP status",
        description:
          'A job created with webhookUrl gets one delivery when it ends (event job.succeeded, job.failed or job.cancelled). ' +
          'It is POSTed as JSON with X-Event-Id (the delivery id; the same on every retry), X-Event-Type and ' +
          'X-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the tenant\'s webhook secret>, and retried ' +
          'with exponential backoff (WEBHOOK_BACKOFF_MS doubling) until it answers 2xx or WEBHOOK_MAX_ATTEMPTS attempts failed.',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 200: webhookDeliveryListSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const items = await webhooks.listForJob(request.tenantId, request.params.id);
      if (!items) throw Errors.NOT_FOUND(`job ${request.params.id} not found`);
      return { items };
    },
  );

  app.get(
    '/v1/tenants/:id/webhook-secret',
    {
      onRequest: app.authenticateAdmin,
      schema: {
        tags: ['tenants'],
        summary: "The tenant's webhook signing secret (admin key); null until POST makes one or a first delivery needs one",
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 200: webhookSecretSchema, ...adminErrorResponses },
      },
    },
    async (request) => {
      const secret = await webhooks.currentSecret(request.params.id);
      if (secret === undefined) throw Errors.NOT_FOUND(`tenant ${request.params.id} not found`);
      return { tenantId: request.params.id, secret };
    },
  );

  app.post(
    '/v1/tenants/:id/webhook-secret',
    {
      onRequest: app.authenticateAdmin,
      schema: {
        tags: ['tenants'],
        summary: "Make or replace the tenant's webhook secret (admin key); deliveries from now on are signed with the new one",
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 200: webhookSecretSchema, ...adminErrorResponses },
      },
    },
    async (request) => {
      const secret = await webhooks.rotateSecret(request.params.id);
      if (!secret) throw Errors.NOT_FOUND(`tenant ${request.params.id} not found`);
      return { tenantId: request.params.id, secret };
    },
  );
};
export default webhookRoutes;
