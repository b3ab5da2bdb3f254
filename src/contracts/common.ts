import { z } from 'zod';

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'ERR_NOT_FOUND' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof errorBodySchema>;

export const idParamsSchema = z.object({ id: z.uuid() });

/**
 * The query of every list: newest first, `limit` per page, `cursor` the previous page's nextCursor (the first item
 * of the next page, so a page is stable while newer items are created). Strict, like every query: an unknown
 * parameter answers 400 naming it rather than being ignored.
 */
export const pageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.uuid().optional().describe('nextCursor of the previous page'),
});

/** A page of a list: nextCursor is null on the last page. */
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.uuid().nullable() });

/** The error responses every authenticated route can give, for the OpenAPI document. */
export const commonErrorResponses = {
  400: errorBodySchema,
  401: errorBodySchema,
  404: errorBodySchema,
  429: errorBodySchema,
} as const;

/** The error responses of an admin route: a tenant key answers 403. */
export const adminErrorResponses = { ...commonErrorResponses, 403: errorBodySchema } as const;

/** 204 of a DELETE: no body. A second DELETE of the same id answers 404. */
export const deletedResponseSchema = z.null().describe('Deleted; no body');

/** Datasets and models compute in float32: a number larger in magnitude would turn into Infinity. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** A NUL or a lone UTF-16 surrogate: Postgres can store neither in text or JSONB, so they are refused at the edge. */
export const UNSTORABLE_TEXT = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A trimmed, non-empty name that Postgres can store. */
export const nameSchema = (max = 200) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((s) => !UNSTORABLE_TEXT.test(s), { message: 'must not contain NUL characters or invalid Unicode' });

/** Sent on POST /v1/jobs and POST /v1/datasets: a retry with the same key and request returns the first response. */
export const idempotencyHeadersSchema = z.looseObject({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, 'expected 1 to 255 visible ASCII characters')
    .optional()
    .describe(
      'Makes the request safe to retry: a repeat with the same key and the same request answers the first ' +
        'response (with Idempotent-Replayed: true) instead of creating again; the same key with a different request ' +
        'answers 422. Keys are per tenant and kept for IDEMPOTENCY_TTL_SECONDS.',
    ),
});
