import fp from 'fastify-plugin';
import type { FastifyError } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ApiError, Errors, fastifyErrorMap } from '../errors.js';

/** ['body', 'model', 'layers', 0, 'units'] -> 'body.model.layers[0].units' */
const formatPath = (parts: PropertyKey[]): string =>
  parts.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');

type ZodIssue = { code: string; path: PropertyKey[]; message: string; errors?: ZodIssue[][] };

/**
 * A union that fails reports "Invalid input" with one issue list per branch. The useful list is the branch the
 * client evidently meant: the first one that does not fail on the type of the value itself.
 */
function describeIssue(issue: ZodIssue, context: string | undefined, prefix: PropertyKey[] = []): { field: string; message: string }[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors?.length) {
    const meant = issue.errors.find((branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0));
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
      } else if (err.code && fastifyErrorMap[err.code]) {
        const entry = fastifyErrorMap[err.code];
        apiError = entry(err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `${entry().message} (${app.initialConfig.bodyLimit} bytes)` : err.message);
      } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
        apiError = new ApiError(Errors.BAD_REQUEST.code, err.statusCode, err.message);
      } else {
        request.log.error({ err }, 'unhandled error');
        apiError = Errors.INTERNAL();
      }
      if (apiError.statusCode >= 500) request.log.error({ err }, apiError.message);
      const body = { error: { code: apiError.code, message: apiError.message, ...(apiError.details !== undefined ? { details: apiError.details } : {}) } };
      return reply.status(apiError.statusCode).send(body);
    });
    app.setNotFoundHandler((request) => {
      throw Errors.ROUTE_NOT_FOUND(`no route ${request.method} ${request.url.split('?')[0]}`);
    });
  },
  { name: 'errors' },
);
