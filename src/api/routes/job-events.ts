// GET /v1/jobs/:id/events: a job's progress as Server-Sent Events (see JobEventStream for how Redis and Postgres
// combine). Authenticated by the Authorization header like every tenant route; another tenant's job is a 404. A key
// has at most EVENTS_MAX_STREAMS_PER_KEY open (429 past it); the API process pings and checks its streams
// (plugins/job-events.ts).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { commonErrorResponses, idParamsSchema } from '../../contracts/common.js';
import { EVENTS_DESCRIPTION } from '../../contracts/job-events.js';
import { apiKeyHash } from '../api-keys.js';
import { Errors } from '../errors.js';
import { JobEventStream } from '../job-event-stream.js';

const eventHeadersSchema = z.looseObject({
  'last-event-id': z
    .string()
    .regex(/^\d{1,9}$/, 'expected the id of an event of this stream (an epoch number)')
    .optional()
    .describe('Resume after this epoch: the epochs after it are replayed from Postgres, then live ones follow'),
});

/** Without Redis, a stream still follows the job by reading Postgres this often. */
const POLL_WITHOUT_REDIS_MS = 1000;

const jobEventRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addHook('onRequest', app.authenticate);
  const { jobs } = app.repos;

  app.get(
    '/v1/jobs/:id/events',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Live progress of a job as Server-Sent Events, until it ends',
        description: EVENTS_DESCRIPTION,
        security: [{ bearer: [] }],
        params: idParamsSchema,
        headers: eventHeadersSchema,
        response: {
          200: { description: 'The event stream', content: { 'text/event-stream': { schema: z.string() } } },
          ...commonErrorResponses,
        },
      },
      // A stream lasts as long as the job: its duration says nothing about the API's latency.
      config: { httpMetrics: false },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { tenantId } = request;
      if (!(await jobs.exists(tenantId, id))) throw Errors.NOT_FOUND(`job ${id} not found`);
      const keyHash = apiKeyHash(request)!;
      const release = await app.jobEvents.claim(keyHash);
      if (!release) {
        const limit = app.jobEvents.maxStreamsPerKey;
        throw Errors.RATE_LIMITED(`this API key has ${limit} event streams open, the most it may: close one first`, { budget: 'eventStreams', limit });
      }

      const after = Number(request.headers['last-event-id'] ?? 0);
      const stream = new JobEventStream(
        {
          job: () => jobs.get(tenantId, id),
          metricsSince: (epoch) => jobs.metricsSince(id, epoch),
          evaluation: (modelId) => app.repos.models.evaluation(tenantId, modelId),
        },
        after,
        request.log,
      );
      stream.onClose(release);
      // Subscribed before the first read of Postgres, so no epoch falls between the two.
      let subscribed = true;
      const following = app.jobEvents.hub.follow(id, (message) => stream.receive(message)).then(
        (stop) => stream.onClose(stop),
        (err: unknown) => {
          subscribed = false;
          request.log.warn({ err, jobId: id }, 'job events: Redis unavailable; following the job in Postgres');
        },
      );
      stream.start(following);
      void following.then(() => {
        if (subscribed) return;
        const timer = setInterval(() => stream.receive({ type: 'recheck' }), POLL_WITHOUT_REDIS_MS);
        stream.onClose(() => clearInterval(timer));
      });
      app.jobEvents.track({ stream, jobId: id, tenantId, keyHash });
      reply.raw.on('close', () => stream.close());
      // A client that left while its job or its slot was looked up: that 'close' has already fired.
      if (request.raw.socket.destroyed) stream.close();

      // No compression or proxy buffering: each event must leave as soon as it is written. (The response schema
      // documents the content type; the type provider knows no stream bodies, hence the cast.)
      return reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache, no-transform')
        .header('x-accel-buffering', 'no')
        .send(stream.output as never);
    },
  );
};
export default jobEventRoutes;
