// The model registry (like MLflow's): names whose versions are models, aliases that point to a version, and
// predictions by name, so callers keep one address while the model behind it changes. Aliases are read from
// Postgres on every prediction, never cached: a move made through one API process holds on all of them at once.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { commonErrorResponses, errorBodySchema } from '../../contracts/common.js';
import { predictBodySchema } from '../../contracts/models.js';
import {
  aliasDeletedSchema,
  aliasSchemaView,
  registeredModelListSchema,
  registeredModelSchema,
  registryAliasParamsSchema,
  registryNameParamsSchema,
  registryPredictQuerySchema,
  registryPredictResponseSchema,
  setAliasBodySchema,
} from '../../contracts/registry.js';
import { Errors } from '../errors.js';
import type { ModelCache } from '../model-cache.js';
import { predictCompilers, predictRows, registeredNameFirst } from '../predict.js';

const nameNotFound = (name: string) => Errors.NOT_FOUND(`model name ${name} not found`, { field: 'name' });

const registryRoutes: FastifyPluginAsyncZod<{ cache: ModelCache }> = async (app, { cache }) => {
  app.addHook('onRequest', app.authenticate);
  const { registry, models } = app.repos;

  app.get(
    '/v1/registry',
    {
      schema: {
        tags: ['registry'],
        summary: "The tenant's registered model names, with their latest version and aliases",
        security: [{ bearer: [] }],
        response: { 200: registeredModelListSchema, ...commonErrorResponses },
      },
    },
    async (request) => ({ items: await registry.list(request.tenantId) }),
  );

  app.get(
    '/v1/registry/:name',
    {
      schema: {
        tags: ['registry'],
        summary: "A registered name: its versions (model, date, evaluation) and aliases",
        description:
          'A job created with modelName registers its model as the next version when it succeeds (POST /v1/models with ' +
          'modelName, at once); versions are numbered 1, 2, ... and a number is never reused.',
        security: [{ bearer: [] }],
        params: registryNameParamsSchema,
        response: { 200: registeredModelSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const found = await registry.get(request.tenantId, request.params.name);
      if (!found) throw nameNotFound(request.params.name);
      return found;
    },
  );

  app.put(
    '/v1/registry/:name/aliases/:alias',
    {
      schema: {
        tags: ['registry'],
        summary: 'Point an alias (production, staging, ...) at a version: created (201), or moved from the version it pointed to (200)',
        description:
          'Predictions by name that use the alias follow it from the next request on, on every API process. A new ' +
          'alias answers 201 with Location, its own address.',
        security: [{ bearer: [] }],
        params: registryAliasParamsSchema,
        body: setAliasBodySchema,
        response: { 200: aliasSchemaView, 201: aliasSchemaView, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      const { name, alias } = request.params;
      const { version } = request.body;
      const result = await registry.setAlias(request.tenantId, name, alias, version);
      if (!result.found) {
        if (result.missing === 'name') throw nameNotFound(name);
        throw Errors.NOT_FOUND(`version: ${name} has no version ${version}`, { field: 'version' });
      }
      if (result.created) reply.status(201).header('location', `/v1/registry/${name}/aliases/${alias}`);
      return { name, alias, version, modelId: result.modelId };
    },
  );

  app.delete(
    '/v1/registry/:name/aliases/:alias',
    {
      schema: {
        tags: ['registry'],
        summary: 'Remove an alias (the version it pointed to stays)',
        security: [{ bearer: [] }],
        params: registryAliasParamsSchema,
        response: { 204: aliasDeletedSchema, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      const { name, alias } = request.params;
      if (!(await registry.deleteAlias(request.tenantId, name, alias))) {
        throw Errors.NOT_FOUND(`alias ${alias} of model name ${name} not found`, { field: 'alias' });
      }
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/registry/:name/predict',
    {
      schema: {
        tags: ['registry'],
        summary: 'Predict with a version of a registered name: ?version=, ?alias=, or by default the production alias, else the latest version',
        description:
          'Takes and answers what POST /v1/models/{id}/predict does, plus the modelId and version that answered. ' +
          'Counted against the predictions budget.',
        security: [{ bearer: [] }],
        params: registryNameParamsSchema,
        querystring: registryPredictQuerySchema,
        body: predictBodySchema,
        response: { 200: registryPredictResponseSchema, ...commonErrorResponses, 422: errorBodySchema },
      },
      preValidation: registeredNameFirst((tenantId, name) => registry.exists(tenantId, name), nameNotFound),
      ...predictCompilers,
    },
    async (request) => {
      const { name } = request.params;
      const { alias, version } = request.query;
      if (alias !== undefined && version !== undefined) {
        throw Errors.VALIDATION('querystring: give alias or version, not both', { field: 'querystring.alias' });
      }
      const resolved = await registry.resolve(request.tenantId, name, { alias, version });
      if (!resolved.found) {
        switch (resolved.missing) {
          case 'name':
            throw nameNotFound(name);
          case 'alias':
            throw Errors.NOT_FOUND(`alias: ${name} has no alias ${alias}`, { field: 'querystring.alias' });
          case 'version':
            throw Errors.NOT_FOUND(`version: ${name} has no version ${version}`, { field: 'querystring.version' });
          default:
            throw Errors.NOT_FOUND(`model name ${name} has no versions left`, { field: 'name' });
        }
      }
      const { modelId } = resolved;
      const loaded = cache.peek(request.tenantId, modelId) ?? (await cache.get(request.tenantId, modelId, () => models.get(request.tenantId, modelId)));
      // Deleted between the lookup and the load.
      if (!loaded) throw Errors.NOT_FOUND(`model name ${name} has no version ${resolved.version}`, { field: 'name' });
      return { ...predictRows(loaded, request.body.inputs), modelId, version: resolved.version };
    },
  );
};
export default registryRoutes;
