import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { commonErrorResponses, errorBodySchema, idParamsSchema } from '../../contracts/common.js';
import {
  csvDatasetQuerySchema,
  datasetDetailSchema,
  datasetListSchema,
  datasetSchema,
  jsonDatasetBodySchema,
} from '../../contracts/datasets.js';
import { DatasetError } from '../../data/dataset-error.js';
import { encodeDataset, type EncodedDataset } from '../../data/encode-dataset.js';
import { parseCsv } from '../../data/parse-csv.js';
import type { DatasetSummary } from '../../db/datasets.js';
import { Errors } from '../errors.js';

const csvBodySchema = z.string().describe('CSV text with a header row; send Content-Type: text/csv with ?name=&target=');

const view = ({ createdAt, ...d }: DatasetSummary) => ({ ...d, createdAt: createdAt.toISOString() });

function encodeOrThrow(build: () => EncodedDataset): EncodedDataset {
  try {
    return build();
  } catch (err) {
    if (err instanceof DatasetError) throw Errors.INVALID_DATASET(err.message, err.details);
    throw err;
  }
}

const datasetRoutes: FastifyPluginAsyncZod = async (app) => {
  // CSV bodies arrive as text; the body limit applies as for JSON.
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.addHook('onRequest', app.authenticate);

  app.post(
    '/v1/datasets',
    {
      schema: {
        tags: ['datasets'],
        summary: 'Upload a dataset as JSON or CSV (Content-Type: text/csv, ?name=...&target=col[,col])',
        description:
          'Feature columns must be numeric. A single non-numeric target column becomes classes (one-hot for ' +
          'training, labels in predictions). Ragged rows, non-numeric or non-finite feature cells and empty data ' +
          'answer 400 naming the row and column. Bodies above BODY_LIMIT_BYTES answer 413.',
        security: [{ bearer: [] }],
        querystring: csvDatasetQuerySchema,
        body: z.union([jsonDatasetBodySchema, csvBodySchema], {
          error: 'expected a JSON object { name, columns, rows, target } or a text/csv body',
        }),
        response: { 201: datasetSchema, ...commonErrorResponses, 413: errorBodySchema, 415: errorBodySchema },
      },
    },
    async (request, reply) => {
      const body = request.body;
      let name: string;
      let encoded: EncodedDataset;
      if (typeof body === 'string') {
        const { name: queryName, target } = request.query;
        if (!queryName) throw Errors.VALIDATION('querystring.name: required for text/csv uploads', { field: 'querystring.name' });
        if (!target) throw Errors.VALIDATION('querystring.target: required for text/csv uploads', { field: 'querystring.target' });
        name = queryName;
        encoded = encodeOrThrow(() => {
          const table = parseCsv(body);
          return encodeDataset(table.columns, table.rows, target.split(',').map((t) => t.trim()));
        });
      } else {
        name = body.name;
        const targets = Array.isArray(body.target) ? body.target : [body.target];
        encoded = encodeOrThrow(() => encodeDataset(body.columns, body.rows, targets));
      }
      const dataset = await app.repos.datasets.create(request.tenantId, name, encoded);
      return reply.status(201).send(view(dataset));
    },
  );

  app.get(
    '/v1/datasets/:id',
    {
      schema: {
        tags: ['datasets'],
        summary: 'A dataset with its per-column statistics',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 200: datasetDetailSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const dataset = await app.repos.datasets.get(request.tenantId, request.params.id);
      if (!dataset) throw Errors.NOT_FOUND(`dataset ${request.params.id} not found`);
      return view(dataset) as z.infer<typeof datasetDetailSchema>;
    },
  );

  app.get(
    '/v1/datasets',
    {
      schema: {
        tags: ['datasets'],
        summary: 'The tenant\'s datasets, newest first',
        security: [{ bearer: [] }],
        response: { 200: datasetListSchema, ...commonErrorResponses },
      },
    },
    async (request) => ({ items: (await app.repos.datasets.list(request.tenantId)).map(view) }),
  );
};
export default datasetRoutes;
