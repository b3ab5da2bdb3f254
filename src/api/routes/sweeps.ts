import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { commonErrorResponses, errorBodySchema, idempotencyHeadersSchema, idParamsSchema } from '../../contracts/common.js';
import { createSweepBodySchema, listSweepsQuerySchema, sweepListSchema, sweepSchema } from '../../contracts/sweeps.js';
import type { QuotaDefaults } from '../../db/quotas.js';
import { stopCancelled } from '../../queue/cancel-channel.js';
import { Errors, notACursor } from '../errors.js';
import { planSweep, type SweepLimits } from '../sweep-plan.js';

/** quotas: the configured defaults (QUOTA_*): a sweep is checked as every model its jobs can make. */
const sweepRoutes: FastifyPluginAsyncZod<{ limits: SweepLimits; quotas: QuotaDefaults }> = async (app, { limits, quotas }) => {
  app.addHook('onRequest', app.authenticate);
  const { sweeps, datasets } = app.repos;


  app.post(
    '/v1/sweeps',
    {
      schema: {
        tags: ['sweeps'],
        summary: 'Start a hyperparameter sweep: many jobs over one dataset, varying the settings the space names',
        description:
          'Each trial is an ordinary job (GET /v1/jobs/{id}, with sweepId), at most `parallelism` of them queued or ' +
          'training at once and within TENANT_MAX_CONCURRENT_JOBS. Every configuration is drawn and checked when the sweep is ' +
          'created, as POST /v1/jobs checks a job: a space path not in base, an empty choice, a range with low >= high, a ' +
          'value the job checks refuse, a grid or trial count over SWEEP_MAX_TRIALS answer 422 naming body.space.<path> ' +
          '(or body.trials). The sweep counts against the models and storageBytes quotas as every model its jobs can make.',
        security: [{ bearer: [] }],
        headers: idempotencyHeadersSchema,
        body: createSweepBodySchema,
        response: { 202: sweepSchema, ...commonErrorResponses, 403: errorBodySchema, 422: errorBodySchema, 503: errorBodySchema },
      },
      config: { idempotent: true },
    },
    async (request, reply) => {
      const body = request.body;
      const dataset = await datasets.get(request.tenantId, body.datasetId);
      if (!dataset) throw Errors.NOT_FOUND(`datasetId: dataset ${body.datasetId} not found`, { field: 'datasetId' });
      const plan = planSweep(body, dataset, limits);
      const id = await sweeps.create(
        {
          tenantId: request.tenantId,
          datasetId: body.datasetId,
          strategy: body.strategy,
          objective: body.objective,
          parallelism: body.parallelism,
          eta: plan.eta,
          request: {
            base: plan.base,
            space: body.space,
            paths: Object.keys(body.space),
            trials: plan.trials.length,
            halving: body.strategy === 'halving' ? { eta: plan.eta } : null,
          },
          trials: plan.trials,
          rungEpochs: plan.rungEpochs,
        },
        quotas,
      );
      // The sweep is durable from here on: if making its first jobs fails now, the workers' reconcile pass makes them.
      await app.advanceSweep(id).catch((err: unknown) => request.log.warn({ err, sweepId: id }, 'sweep scheduling deferred to the reconciler'));
      const view = await sweeps.get(request.tenantId, id);
      return reply.status(202).send(view!);
    },
  );

  app.get(
    '/v1/sweeps',
    {
      schema: {
        tags: ['sweeps'],
        summary: "The tenant's sweeps, newest first, with cursor pagination",
        security: [{ bearer: [] }],
        querystring: listSweepsQuerySchema,
        response: { 200: sweepListSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const { cursor } = request.query;
      if (cursor && !(await sweeps.exists(request.tenantId, cursor))) throw notACursor();
      return sweeps.list(request.tenantId, request.query);
    },
  );

  app.get(
    '/v1/sweeps/:id',
    {
      schema: {
        tags: ['sweeps'],
        summary: 'A sweep: its status, every trial with its job, params and objective, and the best trial so far',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 200: sweepSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const sweep = await sweeps.get(request.tenantId, request.params.id);
      if (!sweep) throw Errors.NOT_FOUND(`sweep ${request.params.id} not found`);
      return sweep;
    },
  );

  app.post(
    '/v1/sweeps/:id/cancel',
    {
      schema: {
        tags: ['sweeps'],
        summary: 'Cancel a sweep: no trial is made any more, and its queued and running jobs are cancelled',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 200: sweepSchema, ...commonErrorResponses, 409: errorBodySchema },
      },
    },
    async (request) => {
      const { id } = request.params;
      const outcome = await sweeps.cancel(request.tenantId, id);
      if (!outcome) throw Errors.NOT_FOUND(`sweep ${id} not found`);
      if (outcome.view.status !== 'cancelled') throw Errors.CONFLICT(`sweep ${id} already ${outcome.view.status}`, { status: outcome.view.status });
      // As POST /v1/jobs/{id}/cancel does for each: Postgres already says cancelled; these make it take effect sooner.
      for (const jobId of outcome.cancelledJobs) {
        await stopCancelled(app.queue, app.redis, app.queuePrefix, jobId);
      }
      await app.dispatchJobs(request.tenantId).catch((err: unknown) => request.log.warn({ err }, 'dispatch deferred to the reconciler'));
      return outcome.view;
    },
  );
};
export default sweepRoutes;
