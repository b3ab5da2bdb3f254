import { commonErrorResponses, deletedResponseSchema, errorBodySchema, idParamsSchema } from '../../contracts/common.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { evaluationSchema } from '../../contracts/evaluation.js';
import { evaluateBodySchema, modelSchema, predictBodySchema, predictResponseSchema } from '../../contracts/models.js';
import { DatasetError, listNames } from '../../data/dataset-error.js';
import type { StoredModel } from '../../db/models.js';
import { Errors } from '../errors.js';
import { evaluateOnDataset } from '../model-evaluation.js';
import type { ModelCache } from '../model-cache.js';
import { ownedModelFirst, predictCompilers, predictRows } from '../predict.js';

/** A stored model as GET /v1/models/:id shows it: everything but its weights. */
export const modelView = ({ weights: _weights, createdAt, ...model }: StoredModel) => ({ ...model, createdAt: createdAt.toISOString() });

/** cache: shared with POST /v1/registry/:name/predict (routes/registry.ts), so both predict from one copy of a model. */
const modelRoutes: FastifyPluginAsyncZod<{ cache: ModelCache }> = async (app, opts) => {
  app.addHook('onRequest', app.authenticate);
  const cache = opts.cache;
  const load = (tenantId: string, id: string) => cache.get(tenantId, id, () => app.repos.models.get(tenantId, id));
  // Deleted models (here or on another API process) are answered 404 at once, and changed ones re-read.
  app.deletions.listen((notice) => {
    if (notice.kind === 'missed') return cache.dropAll();
    const { tenantId, tenant, models } = notice.deletion;
    if (tenant) cache.dropAll(tenantId);
    else cache.drop(tenantId, models);
  });

  app.get(
    '/v1/models/:id',
    {
      schema: {
        tags: ['models'],
        summary: 'A trained model: spec, preprocessing, final metrics and source job',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 200: modelSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const loaded = await load(request.tenantId, request.params.id);
      if (!loaded) throw Errors.NOT_FOUND(`model ${request.params.id} not found`);
      return modelView(loaded.model);
    },
  );

  app.post(
    '/v1/models/:id/predict',
    {
      schema: {
        tags: ['models'],
        summary: 'Predict with a trained model; the stored preprocessing is applied first',
        description:
          'Tabular models take rows as objects keyed by column name with raw values (numbers, category strings, ' +
          'booleans; null or an absent key for missing), or, when every feature is numeric or boolean, arrays in feature ' +
          'order; they answer one array of outputs per row (regression in the target\'s own units). A category not seen ' +
          'in training is answered through the column\'s "other" input and reported in warnings; a value of the wrong ' +
          'kind answers 400 naming inputs[i].column. Sequence models (rnn/lstm) take sequences, each an array of sequenceLength steps of the ' +
          'dataset\'s features, and answer one array per sequence, or one array per step of each sequence when the model ' +
          'outputs every step. A wrong number of steps or features answers 400 naming the expectation.',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        body: predictBodySchema,
        response: { 200: predictResponseSchema, ...commonErrorResponses, 422: errorBodySchema },
      },
      ...predictCompilers,
      preValidation: ownedModelFirst(cache, (tenantId, id) => app.repos.models.exists(tenantId, id)),
    },
    async (request) => {
      const loaded = cache.peek(request.tenantId, request.params.id) ?? (await load(request.tenantId, request.params.id));
      if (!loaded) throw Errors.NOT_FOUND(`model ${request.params.id} not found`);
      return predictRows(loaded, request.body.inputs);
    },
  );

  app.post(
    '/v1/models/:id/evaluate',
    {
      schema: {
        tags: ['models'],
        summary: "Judge a model on a dataset with its columns, encoded with the model's stored preprocessing",
        description:
          'Classification: accuracy, log loss, confusion matrix, per-class precision/recall/F1, macro and weighted F1, ' +
          'ROC AUC for two classes. Regression: MAE, RMSE and R² per target in its own units. Values the model has not ' +
          'seen are counted in unseenCategories. A dataset without the model\'s columns, or with classes the model does ' +
          'not know, answers 422 naming them.',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        body: evaluateBodySchema,
        response: { 200: evaluationSchema, ...commonErrorResponses, 422: errorBodySchema },
      },
    },
    async (request) => {
      const loaded = await load(request.tenantId, request.params.id);
      if (!loaded) throw Errors.NOT_FOUND(`model ${request.params.id} not found`);
      const data = await app.repos.datasets.getTrainingData(request.tenantId, request.body.datasetId);
      if (!data) throw Errors.NOT_FOUND(`datasetId: dataset ${request.body.datasetId} not found`, { field: 'datasetId' });
      try {
        return evaluateOnDataset(loaded, data);
      } catch (err) {
        if (err instanceof DatasetError) throw Errors.UNPROCESSABLE(err.message, err.details);
        throw err;
      }
    },
  );

  app.delete(
    '/v1/models/:id',
    {
      schema: {
        tags: ['models'],
        summary: 'Delete a model; refused (409) while a registry alias points to it or an active job starts from it',
        description:
          'Every API process answers 404 for it at once (predict included). The job that trained it stays, with ' +
          'modelId null. 409 names what keeps it (details.aliases, details.jobs): move the alias, or wait for or ' +
          'cancel the queued or running jobs warm-started from it (initialModelId). A second DELETE answers 404.',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 204: deletedResponseSchema, ...commonErrorResponses, 409: errorBodySchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const outcome = await app.repos.models.delete(request.tenantId, id);
      if (!outcome) throw Errors.NOT_FOUND(`model ${id} not found`);
      if (!outcome.deleted) {
        const { aliases, activeJobs } = outcome;
        const reasons = [
          ...(aliases.length ? [`${aliases.length === 1 ? 'the alias' : 'the aliases'} ${listNames(aliases)} ${aliases.length === 1 ? 'points' : 'point'} to it (move ${aliases.length === 1 ? 'it' : 'them'} first)`] : []),
          ...(activeJobs.length ? [`queued or running jobs start from its weights (${listNames(activeJobs)})`] : []),
        ];
        throw Errors.CONFLICT(`model ${id} cannot be deleted: ${reasons.join('; ')}`, { field: 'id', aliases, jobs: activeJobs });
      }
      await app.deletions.announce({ tenantId: request.tenantId, tenant: false, datasets: [], models: [id] });
      return reply.status(204).send(null);
    },
  );
};
export default modelRoutes;
