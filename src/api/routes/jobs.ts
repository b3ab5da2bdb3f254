import { randomInt } from 'node:crypto';
import type { LayerSpec, ModelSpec } from '../../engine/index.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { commonErrorResponses, deletedResponseSchema, errorBodySchema, idempotencyHeadersSchema, idParamsSchema } from '../../contracts/common.js';
import {
  createJobBodySchema,
  jobListSchema,
  jobQueuedSchema,
  jobSchema,
  listJobsQuerySchema,
  metricListSchema,
} from '../../contracts/jobs.js';
import { DatasetError } from '../../data/dataset-error.js';
import { matchColumns } from '../../data/encode-inputs.js';
import { DEFAULT_PREPROCESSING } from '../../contracts/preprocessing.js';
import { storedEncoding, widestEncoding } from '../../data/encoding.js';
import { stopCancelled } from '../../queue/cancel-channel.js';
import { refusedHost } from '../../webhook-target.js';
import { ReferenceGoneError } from '../../db/jobs.js';
import type { QuotaDefaults } from '../../db/quotas.js';
import { Errors, notACursor } from '../errors.js';
import { checkClassWeights, checkModelFitsDataset, checkWarmStartFit, countParameters, type ModelLimits } from './job-validation.js';

/** allowPrivateWebhooks: WEBHOOK_ALLOW_PRIVATE_ADDRESSES, a webhookUrl may name a loopback or private address. */
/** quotas: the configured defaults (QUOTA_*): a job counts as the model it will make until it ends. */
const jobRoutes: FastifyPluginAsyncZod<{ limits: ModelLimits; allowPrivateWebhooks: boolean; quotas: QuotaDefaults }> = async (
  app,
  { limits, allowPrivateWebhooks, quotas },
) => {
  app.addHook('onRequest', app.authenticate);
  const { jobs, datasets, models } = app.repos;

  app.post(
    '/v1/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Queue a training job',
        description:
          'The input width comes from the dataset; the last layer\'s units must equal the target width (number of classes ' +
          'for a class target). A sequence dataset needs rnn/lstm layers first (its steps become the model\'s ' +
          'sequenceLength, its features per step the inputSize), a tabular one dense layers only; the last recurrent layer ' +
          'returns sequences exactly when the dataset has per-step targets; a stack the engine refuses (a dense layer before ' +
          'a recurrent one, ...) answers 422 naming the layer. At most TRAINING_MAX_EPOCHS epochs (400) and ' +
          'MODEL_MAX_PARAMETERS weights and biases (422); training memory, estimated from the layers, batchSize and dataset, ' +
          'within WORKER_MEMORY_LIMIT_MB (422 ERR_TRAINING_TOO_LARGE with the estimate and the largest batchSize that fits); ' +
          'binaryCrossEntropy and categoricalCrossEntropy need a class target or numeric targets within [0, 1] (422 naming ' +
          'model.loss). The job counts against the models quota until it ends, and ' +
          'reserves its model\'s float32 weights (at the widest input encoding) against the storageBytes quota; past ' +
          'either, 403 ERR_QUOTA_EXCEEDED and nothing is stored.',
        security: [{ bearer: [] }],
        headers: idempotencyHeadersSchema,
        body: createJobBodySchema,
        response: { 202: jobQueuedSchema, ...commonErrorResponses, 403: errorBodySchema, 409: errorBodySchema, 422: errorBodySchema, 503: errorBodySchema },
      },
      config: { idempotent: true },
    },
    async (request, reply) => {
      const { datasetId, model, training, preprocessing, webhookUrl, initialModelId, modelName } = request.body;
      if (training.epochs > limits.maxEpochs) {
        throw Errors.VALIDATION(`body.training.epochs: expected at most ${limits.maxEpochs} (TRAINING_MAX_EPOCHS), got ${training.epochs}`, {
          field: 'body.training.epochs',
          limit: limits.maxEpochs,
        });
      }
      const refused = webhookUrl && !allowPrivateWebhooks ? refusedHost(webhookUrl) : null;
      if (refused) {
        throw Errors.VALIDATION(`body.webhookUrl: expected a public address; ${refused} (allowed only with WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true)`, {
          field: 'body.webhookUrl',
        });
      }
      const dataset = await datasets.get(request.tenantId, datasetId);
      if (!dataset) throw Errors.NOT_FOUND(`datasetId: dataset ${datasetId} not found`, { field: 'datasetId' });
      checkClassWeights(training.classWeights, dataset.classes);
      const initial = initialModelId ? await models.get(request.tenantId, initialModelId) : null;
      if (initialModelId && !initial) {
        throw Errors.NOT_FOUND(`initialModelId: model ${initialModelId} not found`, { field: 'initialModelId' });
      }
      const featureColumns = dataset.columns.filter((c) => c.role === 'feature');
      // A warm start keeps its model's fitted encoding (those weights expect inputs encoded that way); a fresh job
      // is checked against the widest encoding its options allow and fits the exact one on its training rows.
      const initialEncoding = initial ? storedEncoding(initial.preprocessing, initial.features) : null;
      if (initialEncoding) {
        try {
          matchColumns(initialEncoding, featureColumns, 'initialModelId');
        } catch (err) {
          if (err instanceof DatasetError) throw Errors.UNPROCESSABLE(`initialModelId: ${err.message}`, err.details);
          throw err;
        }
      }
      if (initial) checkWarmStartFit(initial, dataset, preprocessing);
      const inputSize = initialEncoding ? initialEncoding.inputs.length : widestEncoding(featureColumns, preprocessing ?? DEFAULT_PREPROCESSING);
      // A sequence dataset's features are per step; its steps become the model's sequenceLength.
      const sequence = dataset.sequenceLength === undefined ? {} : { sequenceLength: dataset.sequenceLength };
      const spec = { inputSize, ...sequence, ...model };
      const seed = training.seed ?? randomInt(0, 2 ** 31);
      checkModelFitsDataset(spec, { ...training, seed }, dataset, limits);
      if (initial) checkWarmStart(initial.spec, spec);
      const id = await jobs.create({
        tenantId: request.tenantId,
        datasetId,
        model: spec,
        training: { ...training, seed },
        preprocessing: initial ? initial.preprocessing : (preprocessing ?? DEFAULT_PREPROCESSING),
        ...(webhookUrl ? { webhookUrl } : {}),
        ...(initial ? { initialModelId: initial.id } : {}),
        ...(modelName ? { modelName } : {}),
        modelBytes: countParameters(spec) * Float32Array.BYTES_PER_ELEMENT,
      }, quotas).catch((err: unknown) => {
        // The dataset or the initial model was deleted since it was read above: as if it had never existed.
        if (!(err instanceof ReferenceGoneError)) throw err;
        const what = err.field === 'datasetId' ? `dataset ${datasetId}` : `model ${initialModelId}`;
        throw Errors.NOT_FOUND(`${err.field}: ${what} not found`, { field: err.field });
      });
      // The job is durable in Postgres from here on. It goes on the queue now if its tenant has a free slot
      // (TENANT_MAX_CONCURRENT_JOBS), otherwise when one frees up; if Redis or Postgres fails right here, the
      // workers' reconciler enqueues it later, so the client is not asked to retry (which would duplicate it).
      await app.dispatchJobs(request.tenantId).catch((err: unknown) => request.log.warn({ err, jobId: id }, 'dispatch deferred to the reconciler'));
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
      if (cursor && !(await jobs.exists(request.tenantId, cursor))) throw notACursor();
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
        summary: 'Cancel a job: a queued job never starts, a running one stops at its next batch and keeps its slot until then',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 200: jobSchema, ...commonErrorResponses, 409: errorBodySchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      const job = await jobs.cancel(request.tenantId, id);
      if (!job) throw Errors.NOT_FOUND(`job ${id} not found`);
      if (job.status !== 'cancelled') throw Errors.CONFLICT(`job ${id} already ${job.status}`, { status: job.status });
      // Postgres already says cancelled, which the worker re-checks; these only make it take effect sooner.
      // Best effort: without Redis, the worker notices at the job's next epoch, which Postgres refuses to record.
      await stopCancelled(app.queue, app.redis, app.queuePrefix, id);
      // A cancelled job frees its tenant's slot for the next waiting one; a cancelled trial lets its sweep go on.
      if (job.sweepId) await app.advanceSweep(job.sweepId).catch((err: unknown) => request.log.warn({ err }, 'sweep scheduling deferred to the reconciler'));
      await app.dispatchJobs(request.tenantId).catch((err: unknown) => request.log.warn({ err }, 'dispatch deferred to the reconciler'));
      return job;
    },
  );

  app.delete(
    '/v1/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Delete a finished job with its metrics, checkpoint, events and webhook deliveries; its model stays',
        description:
          'Only a succeeded, failed or cancelled job: a queued or running one answers 409 (cancel it first). The model ' +
          'it trained is not deleted (delete it with DELETE /v1/models/{id}); it keeps predicting, with jobId and ' +
          'datasetId null like an imported model. A webhook delivery still being retried is dropped. A second DELETE ' +
          'answers 404.',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 204: deletedResponseSchema, ...commonErrorResponses, 409: errorBodySchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const outcome = await jobs.delete(request.tenantId, id);
      if (!outcome) throw Errors.NOT_FOUND(`job ${id} not found`);
      if (!outcome.deleted && outcome.sweepId) {
        throw Errors.CONFLICT(`job ${id} is a trial of sweep ${outcome.sweepId}, which is still running: delete it once the sweep has ended (or cancel the sweep: POST /v1/sweeps/${outcome.sweepId}/cancel)`, {
          field: 'id',
          sweepId: outcome.sweepId,
        });
      }
      if (!outcome.deleted) {
        throw Errors.CONFLICT(`job ${id} is ${outcome.status}: only a finished job can be deleted; cancel it first (POST /v1/jobs/${id}/cancel)`, {
          field: 'id',
          status: outcome.status,
        });
      }
      // Its finished BullMQ record (ids only) goes too; one still locked by an ending run expires with the queue's retention.
      await app.queue.remove(id).catch(() => 0);
      if (outcome.modelId) await app.deletions.announce({ tenantId: request.tenantId, tenant: false, datasets: [], models: [outcome.modelId] });
      return reply.status(204).send(null);
    },
  );
};
export default jobRoutes;

/** The initial model must have exactly the job's shape: same input width, layers and loss. */
function checkWarmStart(initial: ModelSpec, wanted: ModelSpec): void {
  const shape = (spec: ModelSpec) =>
    JSON.stringify({
      inputSize: spec.inputSize,
      sequenceLength: spec.sequenceLength ?? null,
      loss: spec.loss,
      // A dropout layer has no weights: its rate may change between the runs.
      layers: spec.layers.map((l) =>
        l.type === 'dropout'
          ? { type: l.type }
          : {
              type: l.type,
              units: l.units,
              activation: l.activation ?? null,
              returnSequences: 'returnSequences' in l ? (l.returnSequences ?? false) : null,
            },
      ),
    });
  if (shape(initial) !== shape(wanted)) {
    throw Errors.UNPROCESSABLE(
      `initialModelId: expected a model with the same inputs, layers and loss as this job (${describe(wanted)}), got ${describe(initial)}`,
      { field: 'initialModelId' },
    );
  }
}

function describe(spec: ModelSpec): string {
  const steps = spec.sequenceLength ? `${spec.sequenceLength}x` : '';
  const layer = (l: LayerSpec) => (l.type === 'dropout' ? `dropout ${l.rate}` : `${l.type} ${l.units} ${l.activation ?? ''}`.trim());
  return `${steps}${spec.inputSize} -> ${spec.layers.map(layer).join(' -> ')}, ${spec.loss}`;
}
