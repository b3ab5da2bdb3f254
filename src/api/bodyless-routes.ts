// Routes that take no body (cancel, deletes, key issue, secret rotation) are often called by clients that send
// Content-Type: application/json on every request, with nothing after it. Fastify would parse that nothing as JSON
// and refuse it (FST_ERR_CTP_EMPTY_JSON_BODY, a 400); for a route without a body schema an empty body is no body.
import type { preParsingHookHandler, RouteOptions } from 'fastify';

const ignoreEmptyBodyType: preParsingHookHandler = (request, _reply, payload, done) => {
  const { headers } = request;
  // Fastify reads the Content-Type after preParsing: without one, an empty body is not parsed at all.
  if (headers['transfer-encoding'] === undefined && (headers['content-length'] ?? '0') === '0') delete headers['content-type'];
  done(null, payload);
};

/** onRoute: gives every route without a body schema the hook above (routes with a body keep Fastify's rules). */
export function acceptEmptyBodies(route: RouteOptions): void {
  if (route.schema?.body || [route.method].flat().every((m) => m === 'GET' || m === 'HEAD')) return;
  route.preParsing = [ignoreEmptyBodyType, ...[route.preParsing ?? []].flat()];
}
