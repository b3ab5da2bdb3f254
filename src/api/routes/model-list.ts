// GET /v1/models: the tenant's models, newest first, paged like GET /v1/jobs. Its own plugin so the listing stays
// apart from the model routes that load weights (predict, evaluate): a page never reads a weight.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { commonErrorResponses } from '../../contracts/common.js';
import { listModelsQuerySchema, modelListSchema } from '../../contracts/model-list.js';
import type { ModelSummary } from '../../db/models.js';
import { notACursor } from '../errors.js';

const view = ({ createdAt, ...model }: ModelSummary) => ({ ...model, createdAt: createdAt.toISOString() });

const modelListRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addHook('onRequest', app.authenticate);

  app.get(
    '/v1/models',
    {
      schema: {
        tags: ['models'],
        summary: "The tenant's models (trained and imported), newest first, with cursor pagination",
        description:
          'Each item is what GET /v1/models/{id} answers. Filters: name (the versions of a registry name), jobId (the ' +
          'model a job trained), datasetId (models trained on a dataset). limit (1 to 100, default 20) per page; pass ' +
          'nextCursor back as cursor for the next page, null on the last one.',
        security: [{ bearer: [] }],
        querystring: listModelsQuerySchema,
        response: { 200: modelListSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const { cursor } = request.query;
      if (cursor && !(await app.repos.models.exists(request.tenantId, cursor))) throw notACursor();
      const page = await app.repos.models.list(request.tenantId, request.query);
      return { items: page.items.map(view), nextCursor: page.nextCursor };
    },
  );
};
export default modelListRoutes;
