// Every error a client can see, in one coded table (in the manner of fastify's lib/errors.js). Routes throw
// these; the error plugin turns them into { error: { code, message, details } } with the table's status.

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: string,
    readonly statusCode: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** One input at fault: where it is (body.training.epochs, querystring.cursor, params.id, ...) and what is wrong. */
export interface Issue {
  field: string;
  message: string;
}

/**
 * The one shape of details (docs/api.md "Errors"): an error about the request's input carries `field`, the first
 * input at fault, and `issues`, every input at fault ({ field, message }, the first being `field`'s), whether it
 * was thrown with either or both; other keys (row, column, limit, quota, ...) stay beside them. Errors not about an
 * input (quota, rate limit) carry only their own keys.
 */
function normalizedDetails(details: unknown, message: string): unknown {
  if (typeof details !== 'object' || details === null || Array.isArray(details)) return details;
  const { field, issues, ...rest } = details as { field?: unknown; issues?: unknown };
  const listed = Array.isArray(issues) && issues.length > 0 ? (issues as Issue[]) : null;
  if (typeof field !== 'string' && !listed) return details;
  const first = typeof field === 'string' ? field : listed![0].field;
  return { field: first, issues: listed ?? [{ field: first, message }], ...rest };
}

/** What a client receives for every error: { error: { code, message, details? } }. */
export const errorBody = ({ code, message, details }: ApiError) => ({
  error: { code, message, ...(details !== undefined ? { details: normalizedDetails(details, message) } : {}) },
});

function define(code: string, statusCode: number, fallback: string) {
  const create = (message: string = fallback, details?: unknown) => new ApiError(code, statusCode, message, details);
  return Object.assign(create, { code, statusCode });
}

export const Errors = {
  VALIDATION: define('ERR_VALIDATION', 400, 'request is invalid'),
  INVALID_DATASET: define('ERR_INVALID_DATASET', 400, 'dataset is invalid'),
  INVALID_INPUT: define('ERR_INVALID_INPUT', 400, 'prediction input is invalid'),
  BAD_REQUEST: define('ERR_BAD_REQUEST', 400, 'request could not be read'),
  UNAUTHORIZED: define('ERR_UNAUTHORIZED', 401, 'missing or invalid API key: send Authorization: Bearer <api key>'),
  FORBIDDEN: define('ERR_FORBIDDEN', 403, 'this route needs the admin API key'),
  QUOTA_EXCEEDED: define('ERR_QUOTA_EXCEEDED', 403, "the tenant's quota does not allow this; delete something or ask the operator for more"),
  NOT_FOUND: define('ERR_NOT_FOUND', 404, 'not found'),
  ROUTE_NOT_FOUND: define('ERR_ROUTE_NOT_FOUND', 404, 'no such route'),
  METHOD_NOT_ALLOWED: define('ERR_METHOD_NOT_ALLOWED', 405, 'this path does not answer this method; the Allow header lists those it does'),
  REQUEST_TIMEOUT: define('ERR_REQUEST_TIMEOUT', 408, 'the request was not received in time'),
  CONFLICT: define('ERR_CONFLICT', 409, 'the resource is not in a state that allows this'),
  IDEMPOTENCY_IN_PROGRESS: define('ERR_IDEMPOTENCY_IN_PROGRESS', 409, 'a request with this Idempotency-Key is still being processed; retry shortly'),
  BODY_TOO_LARGE: define('ERR_BODY_TOO_LARGE', 413, 'request body is larger than the configured limit'),
  URI_TOO_LONG: define('ERR_URI_TOO_LONG', 414, 'a path parameter is longer than 100 characters'),
  DATASET_TOO_LARGE: define('ERR_DATASET_TOO_LARGE', 413, 'dataset is larger than the configured limits'),
  UNSUPPORTED_MEDIA_TYPE: define('ERR_UNSUPPORTED_MEDIA_TYPE', 415, 'unsupported Content-Type: send application/json (or text/csv to POST /v1/datasets)'),
  UNPROCESSABLE: define('ERR_UNPROCESSABLE', 422, 'the request does not fit the referenced data'),
  MODEL_TOO_LARGE: define('ERR_MODEL_TOO_LARGE', 422, 'the model has more parameters than the configured limit'),
  TRAINING_TOO_LARGE: define('ERR_TRAINING_TOO_LARGE', 422, 'training would need more memory than a worker may use (WORKER_MEMORY_LIMIT_MB)'),
  IDEMPOTENCY_MISMATCH: define('ERR_IDEMPOTENCY_MISMATCH', 422, 'this Idempotency-Key was already used with a different request'),
  RATE_LIMITED: define('ERR_RATE_LIMITED', 429, 'too many requests; retry after the number of seconds in Retry-After'),
  HEADERS_TOO_LARGE: define('ERR_HEADERS_TOO_LARGE', 431, 'request headers are larger than the server accepts'),
  UNAVAILABLE: define('ERR_UNAVAILABLE', 503, 'a backing service is unavailable, try again'),
  INTERNAL: define('ERR_INTERNAL', 500, 'internal server error'),
} as const;

/** A list's cursor that is not an id of the list (another tenant's, deleted, made up). */
export const notACursor = () => Errors.VALIDATION('querystring.cursor: not a cursor returned by this endpoint', { field: 'querystring.cursor' });

/** fastify's own error codes that a client can cause, mapped onto the table (called with fastify's message). */
export const fastifyErrorMap: Record<string, (message?: string) => ApiError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: (message) => Errors.BODY_TOO_LARGE(message, { field: 'body' }),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => Errors.UNSUPPORTED_MEDIA_TYPE(undefined, { field: 'headers.content-type' }),
  FST_ERR_CTP_EMPTY_JSON_BODY: (message) => Errors.BAD_REQUEST(message, { field: 'body' }),
  FST_ERR_CTP_INVALID_JSON_BODY: (message) => Errors.BAD_REQUEST(message, { field: 'body' }),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: (message) => Errors.BAD_REQUEST(message, { field: 'headers.content-length' }),
  FST_ERR_VALIDATION: Errors.VALIDATION,
  // These two would echo the whole path back; the fixed messages say what is wrong.
  FST_ERR_BAD_URL: () => Errors.BAD_REQUEST('the URL has invalid percent-encoding'),
  FST_ERR_MAX_PARAM_LENGTH: () => Errors.URI_TOO_LONG(),
};
