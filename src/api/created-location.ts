// Every 201 (created) and 202 (accepted) answers with Location: the address of what it made. Each such route is
// POSTed to the collection of what it creates (/v1/jobs, /v1/datasets, /v1/models, /v1/tenants,
// /v1/tenants/{id}/keys) and answers the new resource with its id, so the address is the collection's plus the id.
// Set here, as the answer is serialized, rather than in each route: a replay of an Idempotency-Key answers the
// stored body through the same path and gets the same Location.
import type { preSerializationHookHandler } from 'fastify';

export const locationOfCreated: preSerializationHookHandler<unknown> = (request, reply, payload, done) => {
  const id = (payload as { id?: unknown } | null)?.id;
  if ((reply.statusCode === 201 || reply.statusCode === 202) && typeof id === 'string' && !reply.hasHeader('location')) {
    reply.header('location', `${request.url.split('?')[0].replace(/\/+$/, '')}/${encodeURIComponent(id)}`);
  }
  done(null, payload);
};
