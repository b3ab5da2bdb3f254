import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { Config } from '../../config/index.js';

/**
 * Every operation's operationId (the method name in generated clients), by "METHOD url" as the route declares it.
 * Kept here rather than in each route so that every route gets one and the names read as one vocabulary; a route
 * missing from this table gets a name derived from its method and URL (derivedOperationId), and a test checks that
 * every operation has one and that they are unique. A new route: add its line here.
 */
export const OPERATION_IDS: Record<string, string> = {
  'GET /health': 'getHealth',
  'GET /ready': 'getReadiness',
  'POST /v1/tenants': 'createTenant',
  'DELETE /v1/tenants/:id': 'deleteTenant',
  'GET /v1/tenants/:id/keys': 'listApiKeys',
  'POST /v1/tenants/:id/keys': 'createApiKey',
  'DELETE /v1/tenants/:id/keys/:keyId': 'revokeApiKey',
  'GET /v1/tenants/:id/rate-limits': 'getTenantRateLimits',
  'PATCH /v1/tenants/:id/rate-limits': 'setTenantRateLimits',
  'GET /v1/tenants/:id/quotas': 'getTenantQuotas',
  'PATCH /v1/tenants/:id/quotas': 'setTenantQuotas',
  'GET /v1/usage': 'getUsage',
  'GET /v1/tenants/:id/webhook-secret': 'getWebhookSecret',
  'POST /v1/tenants/:id/webhook-secret': 'rotateWebhookSecret',
  'POST /v1/datasets': 'uploadDataset',
  'GET /v1/datasets': 'listDatasets',
  'GET /v1/datasets/:id': 'getDataset',
  'DELETE /v1/datasets/:id': 'deleteDataset',
  'POST /v1/jobs': 'createJob',
  'GET /v1/jobs': 'listJobs',
  'GET /v1/jobs/:id': 'getJob',
  'DELETE /v1/jobs/:id': 'deleteJob',
  'GET /v1/jobs/:id/metrics': 'getJobMetrics',
  'GET /v1/jobs/:id/events': 'streamJobEvents',
  'GET /v1/jobs/:id/webhooks': 'listJobWebhooks',
  'POST /v1/jobs/:id/cancel': 'cancelJob',
  'POST /v1/models': 'importModel',
  'GET /v1/models': 'listModels',
  'GET /v1/models/:id': 'getModel',
  'DELETE /v1/models/:id': 'deleteModel',
  'POST /v1/models/:id/predict': 'predict',
  'POST /v1/models/:id/evaluate': 'evaluateModel',
  'GET /v1/models/:id/export': 'exportModel',
  'GET /v1/models/:id/tfjs/model.json': 'getTfjsModel',
  'GET /v1/models/:id/tfjs/weights.bin': 'getTfjsWeights',
  'GET /v1/registry': 'listRegisteredModels',
  'GET /v1/registry/:name': 'getRegisteredModel',
  'PUT /v1/registry/:name/aliases/:alias': 'setModelAlias',
  'DELETE /v1/registry/:name/aliases/:alias': 'deleteModelAlias',
  'POST /v1/registry/:name/predict': 'predictByName',
  'POST /v1/sweeps': 'createSweep',
  'GET /v1/sweeps': 'listSweeps',
  'GET /v1/sweeps/:id': 'getSweep',
  'POST /v1/sweeps/:id/cancel': 'cancelSweep',
};

const pascal = (word: string) => word.replace(/(?:^|[^a-zA-Z0-9]+)([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());

/** e.g. "POST /v1/models/:id/evaluate" -> "postModelsByIdEvaluate": unique per method and URL, if not pretty. */
export function derivedOperationId(method: string, url: string): string {
  const parts = url.split('/').filter((s) => s && s !== 'v1').map((s) => (s.startsWith(':') ? `By${pascal(s.slice(1))}` : pascal(s)));
  return method.toLowerCase() + parts.join('');
}

/** The OpenAPI document is generated from the routes' zod schemas: /docs (UI) and /docs/json. */
export default fp<{ config: Config }>(
  async (app, { config }) => {
    // Before swagger's own onRoute hook, so the document sees the id; HEAD twins and hidden routes are not documented.
    app.addHook('onRoute', (route) => {
      const method = [route.method].flat()[0];
      if (!route.schema || route.schema.hide || route.schema.operationId || method === 'HEAD') return;
      route.schema = { ...route.schema, operationId: OPERATION_IDS[`${method} ${route.url}`] ?? derivedOperationId(method, route.url) };
    });
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'Backprop training service',
          version: '0.1.0',
          description:
            'Upload datasets, train dense networks in the background, poll their progress and call predictions. ' +
            `Request bodies are limited to ${config.BODY_LIMIT_BYTES} bytes (BODY_LIMIT_BYTES); larger ones answer 413. ` +
            `Datasets: at most ${config.DATASET_MAX_ROWS} rows (DATASET_MAX_ROWS), ${config.DATASET_MAX_COLUMNS} columns ` +
            `(DATASET_MAX_COLUMNS) and ${config.DATASET_MAX_CELLS} cells (DATASET_MAX_CELLS), else 413. Models: at most ` +
            `${config.MODEL_MAX_PARAMETERS} weights and biases (MODEL_MAX_PARAMETERS, else 422) and ${config.TRAINING_MAX_EPOCHS} ` +
            `epochs (TRAINING_MAX_EPOCHS, else 400). Rate limits, per tenant and window of ${config.RATE_LIMIT_WINDOW_MS} ms ` +
            `(RATE_LIMIT_WINDOW_MS): ${config.RATE_LIMIT_PREDICT_MAX} predictions (RATE_LIMIT_PREDICT_MAX) and, apart from them, ` +
            `${config.RATE_LIMIT_MAX} requests to the other /v1 routes (RATE_LIMIT_MAX); the admin may set a tenant's own ` +
            '(PATCH /v1/tenants/{id}/rate-limits). More answer 429 naming the budget (details.budget), with Retry-After, ' +
            'RateLimit-Policy and RateLimit headers. ' +
            'Every response carries x-request-id (a caller\'s own is kept when it is a plain token), also found in the logs.',
        },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'swagger' },
);
