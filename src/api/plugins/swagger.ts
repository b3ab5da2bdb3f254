import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/** The OpenAPI document is generated from the routes' zod schemas: /docs (UI) and /docs/json. */
export default fp<{ bodyLimit: number }>(
  async (app, opts) => {
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'Backprop training service',
          version: '0.1.0',
          description:
            'Upload datasets, train dense networks in the background, poll their progress and call predictions. ' +
            `Request bodies are limited to ${opts.bodyLimit} bytes (BODY_LIMIT_BYTES); larger ones answer 413.`,
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
