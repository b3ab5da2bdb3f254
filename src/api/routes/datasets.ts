import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { commonErrorResponses, deletedResponseSchema, errorBodySchema, idempotencyHeadersSchema, idParamsSchema } from '../../contracts/common.js';
import {
  csvDatasetQuerySchema,
  datasetDetailSchema,
  VIEW_CATEGORIES,
  type ColumnView,
  datasetListSchema,
  datasetSchema,
  jsonDatasetBodySchema,
  listDatasetsQuerySchema,
  sequenceDatasetBodySchema,
} from '../../contracts/datasets.js';
import { encodeDataset, type DatasetLimits, type EncodedDataset } from '../../data/encode-dataset.js';
import { encodeSequences } from '../../data/encode-sequences.js';
import { numberLabel } from '../../data/cells.js';
import { listNames } from '../../data/dataset-error.js';
import type { StoredColumn } from '../../data/column-reader.js';
import type { DatasetSummary } from '../../db/datasets.js';
import { QuotaExceededError, quotaRepository, type QuotaDefaults } from '../../db/quotas.js';
import { Errors, notACursor } from '../errors.js';
import { checkTextHeaders, discardBody } from '../plugins/body-parsers.js';
import { csvBodySchema, csvUploadParser, CsvUpload, datasetApiError } from './csv-upload.js';

const view = ({ createdAt, ...d }: DatasetSummary) => ({ ...d, createdAt: createdAt.toISOString() });

/** A stored column as the dataset view shows it: the most frequent categories with their counts, not the dictionary. */
function columnView({ labels, counts, distinct, stats, ...column }: StoredColumn): ColumnView {
  const categories = labels
    ?.map((value, i) => ({ value, count: counts![i] }))
    .sort((a, b) => b.count - a.count)
    .slice(0, VIEW_CATEGORIES);
  // min and max are stored float32 values: shown as the shortest decimal that is that float32 (32.1, not 32.0999985).
  const shown = stats ? { stats: { ...stats, min: Number(numberLabel(stats.min)), max: Number(numberLabel(stats.max)) } } : {};
  return { ...column, ...shown, ...(distinct >= 0 ? { distinct } : {}), ...(categories ? { categories } : {}) };
}

function encodeOrThrow(build: () => EncodedDataset): EncodedDataset {
  try {
    return build();
  } catch (err) {
    throw datasetApiError(err);
  }
}

/** quotas: the configured defaults (QUOTA_*), for tenants the admin gave none of their own. */
const datasetRoutes: FastifyPluginAsyncZod<{ limits: DatasetLimits; quotas: QuotaDefaults }> = async (app, { limits, quotas }) => {
  app.addHook('onRequest', app.authenticate);
  const quotaRepo = quotaRepository(app.db);
  // A tenant with no room for another dataset is refused before its CSV is read (the route raises the error after
  // the idempotency check, like the CSV's own errors); the bytes are checked again with the count, under the
  // tenant's quota lock, when the encoded dataset is stored. An upload with an Idempotency-Key is read all the same:
  // it may be the retry of one that was stored (and filled the quota), which the hash of its body must match to get
  // the first answer again.
  const parseCsv = csvUploadParser(limits);
  const csvUnlessOverQuota = async (request: FastifyRequest, payload: Readable): Promise<CsvUpload> => {
    if (request.headers['idempotency-key'] !== undefined) return parseCsv(request, payload);
    try {
      await quotaRepo.precheck(request.tenantId, quotas, { what: 'another dataset', datasets: 1, storageBytes: 1 });
    } catch (err) {
      if (!(err instanceof QuotaExceededError)) throw err;
      checkTextHeaders(request);
      discardBody(request, payload);
      return new CsvUpload({ error: Errors.QUOTA_EXCEEDED(err.message, err.details) }, '');
    }
    return parseCsv(request, payload);
  };
  // In this plugin's scope only: CSV bodies are encoded as they stream in (csv-upload.ts), not buffered as text.
  app.removeContentTypeParser(['text/csv', 'text/plain']);
  app.addContentTypeParser(['text/csv', 'text/plain'], csvUnlessOverQuota);
  app.addContentTypeParser('text/tab-separated-values', csvUnlessOverQuota);

  app.post(
    '/v1/datasets',
    {
      schema: {
        tags: ['datasets'],
        summary: 'Upload a dataset as JSON, CSV or TSV (Content-Type: text/csv, ?name=...&target=col[,col][&sequence=idColumn])',
        description:
          'Column types are inferred (numeric, categorical, boolean; columnTypes overrides), ignore leaves columns out, ' +
          'and empty cells, null, NA, N/A, NaN, null and ? are missing (rows with a missing target are skipped and ' +
          'counted). A single non-numeric target column becomes classes (one-hot for training, labels in predictions). ' +
          'A mostly numeric column with a few labels, ragged rows, non-finite numbers, unknown names in ignore or ' +
          'columnTypes, and empty data answer 400 naming the row and column. Sequence datasets (for rnn/lstm models) come as JSON ' +
          '{ name, sequences, targets } or as a CSV with one row per step and a sequence id column (?sequence=); all ' +
          'sequences must have the same number of steps (a ragged or empty one answers 400 naming it). For sequence ' +
          'datasets DATASET_MAX_ROWS counts steps. Bodies above BODY_LIMIT_BYTES, and datasets above DATASET_MAX_ROWS, ' +
          'DATASET_MAX_COLUMNS or DATASET_MAX_CELLS, answer 413. A tenant at its datasets quota, or whose stored bytes ' +
          'plus the encoded arrays would pass its storageBytes quota, gets 403 ERR_QUOTA_EXCEEDED and nothing is stored. ' +
          'CSV cells may be separated by commas, semicolons, tabs or pipes (?delimiter=; by default a tab for ' +
          'text/tab-separated-values, else detected on the header line). Any body may be sent with Content-Encoding ' +
          'gzip or deflate: it is inflated as it streams in and BODY_LIMIT_BYTES counts the inflated bytes (413); a ' +
          'stream that does not inflate answers 400 and another encoding 415.',
        security: [{ bearer: [] }],
        headers: idempotencyHeadersSchema,
        querystring: csvDatasetQuerySchema,
        body: z.union([jsonDatasetBodySchema, sequenceDatasetBodySchema, csvBodySchema], {
          error: 'expected a JSON object { name, columns, rows, target } or { name, sequences, targets }, or a text/csv body',
        }),
        response: {
          201: datasetSchema,
          ...commonErrorResponses,
          403: errorBodySchema,
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
      if (body instanceof CsvUpload) {
        if ('error' in body.result) throw body.result.error;
        ({ name, dataset: encoded } = body.result);
      } else if ('sequences' in body) {
        name = body.name;
        encoded = encodeOrThrow(() => encodeSequences(body, limits));
      } else {
        name = body.name;
        const targets = Array.isArray(body.target) ? body.target : [body.target];
        const options = { ignore: body.ignore, columnTypes: body.columnTypes };
        encoded = encodeOrThrow(() => encodeDataset(body.columns, body.rows, targets, limits, options));
      }
      const dataset = await app.repos.datasets.create(request.tenantId, name, encoded, quotas);
      return reply.status(201).send(view(dataset));
    },
  );

  app.get(
    '/v1/datasets/:id',
    {
      schema: {
        tags: ['datasets'],
        summary: 'A dataset with its columns: type, role, missing and distinct counts, statistics or categories, warnings',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 200: datasetDetailSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const dataset = await app.repos.datasets.get(request.tenantId, request.params.id);
      if (!dataset) throw Errors.NOT_FOUND(`dataset ${request.params.id} not found`);
      const { columns, skippedRows, ...rest } = dataset;
      const skipped = { count: skippedRows, reason: skippedRows > 0 ? 'the target is missing (empty, null, NA, N/A, NaN, null or ?)' : 'none skipped' };
      return { ...view(rest), columns: columns.map(columnView), skippedRows: skipped } as z.infer<typeof datasetDetailSchema>;
    },
  );

  app.get(
    '/v1/datasets',
    {
      schema: {
        tags: ['datasets'],
        summary: 'The tenant\'s datasets, newest first, with cursor pagination (100 a page by default)',
        security: [{ bearer: [] }],
        querystring: listDatasetsQuerySchema,
        response: { 200: datasetListSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const { cursor } = request.query;
      if (cursor && !(await app.repos.datasets.exists(request.tenantId, cursor))) throw notACursor();
      const page = await app.repos.datasets.list(request.tenantId, request.query);
      return { items: page.items.map(view), nextCursor: page.nextCursor };
    },
  );

  app.delete(
    '/v1/datasets/:id',
    {
      schema: {
        tags: ['datasets'],
        summary: 'Delete a dataset; refused (409) while a queued or running job trains on it',
        description:
          'The rows are gone at once, on every API and worker process. Finished jobs on it keep their metrics with ' +
          'datasetId null, and the models trained on it keep predicting (each carries its own fitted encoding). ' +
          'While queued or running jobs use it the answer is 409 naming them (details.jobs): cancel them or wait. ' +
          'A second DELETE answers 404.',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 204: deletedResponseSchema, ...commonErrorResponses, 409: errorBodySchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const outcome = await app.repos.datasets.delete(request.tenantId, id);
      if (!outcome) throw Errors.NOT_FOUND(`dataset ${id} not found`);
      if (!outcome.deleted && outcome.activeSweeps.length) {
        const sweeps = outcome.activeSweeps;
        throw Errors.CONFLICT(
          `dataset ${id} is used by ${sweeps.length === 1 ? 'a sweep' : 'sweeps'} still making trials (${listNames(sweeps)}): ` +
            'cancel them (POST /v1/sweeps/{id}/cancel) or wait until they end, then delete it',
          { field: 'id', sweeps },
        );
      }
      if (!outcome.deleted) {
        const jobs = outcome.activeJobs;
        throw Errors.CONFLICT(
          `dataset ${id} is used by ${jobs.length === 1 ? 'a queued or running job' : 'queued or running jobs'} (${listNames(jobs)}): ` +
            'cancel them (POST /v1/jobs/{id}/cancel) or wait until they finish, then delete it',
          { field: 'id', jobs },
        );
      }
      await app.deletions.announce({ tenantId: request.tenantId, tenant: false, datasets: [id], models: outcome.models });
      return reply.status(204).send(null);
    },
  );
};
export default datasetRoutes;
