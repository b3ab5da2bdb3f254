import { randomInt } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { commonErrorResponses, errorBodySchema, idParamsSchema } from '../../contracts/common.js';
import {
  createJobBodySchema,
  jobListSchema,
  jobQueuedSchema,
  jobSchema,
  listJobsQuerySchema,
  metricListSchema,
} from '../../contracts/jobs.js';
import { preprocessingFor } from '../../data/standardize.js';
import { publishCancel } from '../../queue/cancel-channel.js';
import { buildTrainingPayload, enqueueTraining } from '../../queue/producer.js';
import { Errors } from '../errors.js';
import { checkModelFitsDataset } from './job-validation.js';

const jobRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addHook('onRequest', app.authenticate);
  const { jobs, datasets } = app.repos;

  app.post(
    '/v1/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Queue a training job',
        description: 'The input width comes from the dataset; the last layer\'s units must equal the target width (number of classes for a class target).',
        security: [{ bearer: [] }],
        body: createJobBodySchema,
        response: { 202: jobQueuedSchema, ...commonErrorResponses, 422: errorBodySchema, 503: errorBodySchema },
      },
    },
    async (request, reply) => {
      const { datasetId, model, training, preprocessing } = request.body;
      const dataset = await datasets.get(request.tenantId, datasetId);
      if (!dataset) throw Errors.NOT_FOUND(`datasetId: dataset ${datasetId} not found`, { field: 'datasetId' });
      const spec = { inputSize: dataset.features.length, ...model };
      const seed = training.seed ?? randomInt(0, 2 ** 31);
      checkModelFitsDataset(spec, { ...training, seed }, dataset);

      const stats = dataset.features.map((f) => dataset.stats[f]);
      const mean = stats.map((s) => (s.kind === 'numeric' ? s.mean : 0));
      const std = stats.map((s) => (s.kind === 'numeric' ? s.std : 1));
      const id = await jobs.create({
        tenantId: request.tenantId,
        datasetId,
        model: spec,
        training: { ...training, seed },
        preprocessing: preprocessingFor(preprocessing.standardize, mean, std),
      });
      try {
        await enqueueTraining(app.queue, await buildTrainingPayload(jobs, datasets, id));
      } catch (err) {
        // Never leave a queued job that no worker will see: record why and tell the client to retry.
        request.log.error({ err, jobId: id }, 'enqueue failed');
        await jobs.markFailed(id, { code: Errors.UNAVAILABLE.code, message: 'the job queue was unavailable' });
        throw Errors.UNAVAILABLE('the job queue is unavailable, try again');
      }
      return reply.status(202).send({ id, status: 'queued' as const });
    },
  );

  app.get(
    '/v1/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'The tenant\'s jobs, newest first, with cursor pagination',
        security: [{ bearer: [] }],
        querystring: listJobsQuerySchema,
        response: { 200: jobListSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const { cursor } = request.query;
      if (cursor && !(await jobs.get(request.tenantId, cursor))) {
        throw Errors.VALIDATION('querystring.cursor: not a cursor returned by this endpoint', { field: 'querystring.cursor' });
      }
      return jobs.list(request.tenantId, request.query);
    },
  );

  app.get(
    '/v1/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Status and latest metrics of a job',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 200: jobSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const job = await jobs.get(request.tenantId, request.params.id);
      if (!job) throw Errors.NOT_FOUND(`job ${request.params.id} not found`);
      return job;
    },
  );

  app.get(
    '/v1/jobs/:id/metrics',
    {
      schema: {
        tags: ['jobs'],
        summary: 'One row per completed epoch',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 200: metricListSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const items = await jobs.metrics(request.tenantId, request.params.id);
      if (!items) throw Errors.NOT_FOUND(`job ${request.params.id} not found`);
      return { items };
    },
  );

  app.post(
    '/v1/jobs/:id/cancel',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Cancel a job: a queued job never starts, a running one stops within one epoch',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 200: jobSchema, ...commonErrorResponses, 409: errorBodySchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      if (!(await jobs.cancel(request.tenantId, id))) throw Errors.NOT_FOUND(`job ${id} not found`);
      const job = (await jobs.get(request.tenantId, id))!;
      if (job.status !== 'cancelled') throw Errors.CONFLICT(`job ${id} already ${job.status}`, { status: job.status });
      // Postgres already says cancelled, which the worker re-checks; these only make it take effect sooner.
      await app.queue.remove(id).catch(() => 0); // fails while a worker holds the job's lock
      await publishCancel(app.redis, app.queuePrefix, id);
      return job;
    },
  );
};
export default jobRoutes;
