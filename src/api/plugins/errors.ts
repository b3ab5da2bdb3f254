import fp from 'fastify-plugin';
import type { FastifyError } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { QuotaExceededError } from '../../db/quotas.js';
import { isDatabaseUnavailable } from '../../db/retry.js';
import { ApiError, errorBody, Errors, fastifyErrorMap, type Issue } from '../errors.js';
import { RouteMethods } from '../route-methods.js';

/** ['body', 'model', 'layers', 0, 'units'] -> 'body.model.layers[0].units' */
const formatPath = (parts: PropertyKey[]): string =>
  parts.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');

type ZodIssue = { code: string; path: PropertyKey[]; message: string; errors?: ZodIssue[][]; keys?: string[] };

/** How far into the value a branch got before failing: the depth of its deepest issue. */
const reach = (branch: ZodIssue[]): number => Math.max(...branch.map((i) => i.path.length));

/**
 * A union that fails reports "Invalid input" with one issue list per branch. The useful list is the branch the
 * client evidently meant: the one that got furthest into the value (a sequence body with one bad number fails deep
 * inside `sequences`, and at the top level of the tabular branch), then the one with fewest issues, then the first.
 * A branch that fails on the type of the value itself was not meant at all.
 */
function describeIssue(issue: ZodIssue, context: string | undefined, prefix: PropertyKey[] = []): Issue[] {
  const path = [...prefix, ...issue.path];
  // A strict object names every key it does not know, each its own field (querystring.foo: unknown parameter).
  if (issue.code === 'unrecognized_keys' && issue.keys?.length) {
    const what = context === 'querystring' ? 'parameter' : context === 'headers' ? 'header' : 'field';
    return issue.keys.map((key) => ({ field: formatPath(context ? [context, ...path, key] : [...path, key]), message: `unknown ${what}` }));
  }
  if (issue.code === 'invalid_union' && issue.errors?.length) {
    const candidates = issue.errors.filter((branch) => branch.length > 0 && !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0));
    const meant = candidates.reduce<ZodIssue[] | undefined>((best, branch) => {
      if (!best) return branch;
      const [a, b] = [reach(branch), reach(best)];
      return a > b || (a === b && branch.length < best.length) ? branch : best;
    }, undefined);
    if (meant) return meant.flatMap((i) => describeIssue(i, context, path));
  }
  return [{ field: formatPath(context ? [context, ...path] : path), message: issue.message }];
}

/** Turns every thrown error into the coded body; 5xx bodies never carry internals. */
export default fp(
  async (app) => {
    app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
      let apiError: ApiError;
      if (err instanceof ApiError) {
        apiError = err;
      } else if (hasZodFastifySchemaValidationErrors(err)) {
        const issues = err.validation.flatMap((v) => {
          // The type provider flattens each zod issue into an ajv-like shape; rebuild the issue from it.
          const path = v.instancePath.split('/').filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
          const issue = { ...(v.params as object), code: v.keyword, path, message: v.message ?? 'invalid' } as ZodIssue;
          return describeIssue(issue, err.validationContext);
        });
        const first = issues[0];
        apiError = Errors.VALIDATION(`${first.field}: ${first.message}`, { issues });
      } else if (err instanceof QuotaExceededError) {
        apiError = Errors.QUOTA_EXCEEDED(err.message, err.details);
      } else if (err.code && fastifyErrorMap[err.code]) {
        const entry = fastifyErrorMap[err.code];
        const { bodyLimit, config } = request.routeOptions;
        const limit = `${bodyLimit} bytes, ${config.bodyLimitSetting ?? 'BODY_LIMIT_BYTES'}`;
        apiError = entry(err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `${entry().message} (${limit})` : err.message);
      } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
        apiError = new ApiError(Errors.BAD_REQUEST.code, err.statusCode, err.message);
      } else if (isDatabaseUnavailable(err)) {
        // Postgres is unreachable: a retryable 503; the pool reconnects by itself once it is back.
        apiError = Errors.UNAVAILABLE('the database is unavailable, try again');
      } else {
        request.log.error({ err }, 'unhandled error');
        apiError = Errors.INTERNAL();
      }
      if (apiError.statusCode >= 500) request.log.error({ err }, apiError.message);
      return reply.status(apiError.statusCode).send(errorBody(apiError));
    });
    // A known path asked with a method it does not answer is a 405 naming those it does; an unknown path a 404.
    const routeMethods = new RouteMethods();
    app.addHook('onRoute', (route) => routeMethods.add(route.url, route.method));
    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0];
      const allow = routeMethods.allowed(path);
      if (allow.length === 0) throw Errors.ROUTE_NOT_FOUND(`no route ${request.method} ${path}`);
      reply.header('allow', allow.join(', '));
      throw Errors.METHOD_NOT_ALLOWED(`${path} does not answer ${request.method}; it answers ${allow.join(', ')}`, { field: 'method', allow });
    });
  },
  { name: 'errors' },
);
