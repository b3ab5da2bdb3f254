import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { commonErrorResponses, errorBodySchema, idempotencyHeadersSchema, idParamsSchema } from '../../contracts/common.js';
import {
  csvDatasetQuerySchema,
  datasetDetailSchema,
  datasetListSchema,
  datasetSchema,
  jsonDatasetBodySchema,
  sequenceDatasetBodySchema,
} from '../../contracts/datasets.js';
import { DatasetError, DatasetTooLargeError } from '../../data/dataset-error.js';
import { encodeCsv, encodeDataset, type DatasetLimits, type EncodedDataset } from '../../data/encode-dataset.js';
import { encodeSequenceCsv, encodeSequences } from '../../data/encode-sequences.js';
import type { DatasetSummary } from '../../db/datasets.js';
import { Errors } from '../errors.js';

const csvBodySchema = z
  .string()
  .describe('CSV text with a header row; send Content-Type: text/csv with ?name=&target= (and &sequence= for a sequence CSV)');

const view = ({ createdAt, ...d }: DatasetSummary) => ({ ...d, createdAt: createdAt.toISOString() });

function encodeOrThrow(build: () => EncodedDataset): EncodedDataset {
  try {
    return build();
  } catch (err) {
    if (err instanceof DatasetTooLargeError) throw Errors.DATASET_TOO_LARGE(err.message, err.details);
    if (err instanceof DatasetError) throw Errors.INVALID_DATASET(err.message, err.details);
    throw err;
  }
}

const datasetRoutes: FastifyPluginAsyncZod<{ limits: DatasetLimits }> = async (app, { limits }) => {
  app.addHook('onRequest', app.authenticate);

  app.post(
    '/v1/datasets',
    {
      schema: {
        tags: ['datasets'],
        summary: 'Upload a dataset as JSON or CSV (Content-Type: text/csv, ?name=...&target=col[,col][&sequence=idColumn])',
        description:
          'Feature columns must be numeric. A single non-numeric target column becomes classes (one-hot for ' +
          'training, labels in predictions). Ragged rows, non-numeric or non-finite feature cells and empty data ' +
          'answer 400 naming the row and column. Sequence datasets (for rnn/lstm models) come as JSON ' +
          '{ name, sequences, targets } or as a CSV with one row per step and a sequence id column (?sequence=); all ' +
          'sequences must have the same number of steps (a ragged or empty one answers 400 naming it). For sequence ' +
          'datasets DATASET_MAX_ROWS counts steps. Bodies above BODY_LIMIT_BYTES, and datasets above DATASET_MAX_ROWS, ' +
          'DATASET_MAX_COLUMNS or DATASET_MAX_CELLS, answer 413.',
        security: [{ bearer: [] }],
        headers: idempotencyHeadersSchema,
        querystring: csvDatasetQuerySchema,
        body: z.union([jsonDatasetBodySchema, sequenceDatasetBodySchema, csvBodySchema], {
          error: 'expected a JSON object { name, columns, rows, target } or { name, sequences, targets }, or a text/csv body',
        }),
        response: {
          201: datasetSchema,
          ...commonErrorResponses,
          409: errorBodySchema,
          413: errorBodySchema,
          415: errorBodySchema,
          422: errorBodySchema,
        },
      },
      config: { idempotent: true },
    },
    async (request, reply) => {
      const body = request.body;
      let name: string;
      let encoded: EncodedDataset;
      if (typeof body === 'string') {
        const { name: queryName, target, sequence, perStepTargets } = request.query;
        if (!queryName) throw Errors.VALIDATION('querystring.name: required for text/csv uploads', { field: 'querystring.name' });
        if (!target) throw Errors.VALIDATION('querystring.target: required for text/csv uploads', { field: 'querystring.target' });
        if (perStepTargets !== undefined && sequence === undefined) {
          throw Errors.VALIDATION('querystring.perStepTargets: only for sequence CSVs, which also need querystring.sequence', {
            field: 'querystring.perStepTargets',
          });
        }
        name = queryName;
        const targets = target.split(',').map((t) => t.trim());
        encoded = encodeOrThrow(() =>
          sequence === undefined
            ? encodeCsv(body, targets, limits)
            : encodeSequenceCsv(body, { target: targets, sequence, perStepTargets: perStepTargets === 'true' }, limits),
        );
      } else if ('sequences' in body) {
        name = body.name;
        encoded = encodeOrThrow(() => encodeSequences(body, limits));
      } else {
        name = body.name;
        const targets = Array.isArray(body.target) ? body.target : [body.target];
        encoded = encodeOrThrow(() => encodeDataset(body.columns, body.rows, targets, limits));
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
