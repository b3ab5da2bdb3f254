import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { Config } from '../../config/index.js';

/** The OpenAPI document is generated from the routes' zod schemas: /docs (UI) and /docs/json. */
export default fp<{ config: Config }>(
  async (app, { config }) => {
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
