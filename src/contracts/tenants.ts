import { z } from 'zod';
import { idParamsSchema, nameSchema } from './common.js';

export const createTenantBodySchema = z.strictObject({
  name: nameSchema().describe('Display name of the tenant'),
});
export type CreateTenantBody = z.infer<typeof createTenantBodySchema>;

export const apiKeySchema = z
  .object({
    id: z.uuid(),
    tenantId: z.uuid(),
    prefix: z.string().describe('The first characters of the key, to tell keys apart; empty for keys older than key listings'),
    createdAt: z.iso.datetime(),
    revokedAt: z.iso.datetime().nullable().describe('Set once the key is revoked; a revoked key answers 401'),
  })
  .meta({ id: 'ApiKey' });
export type ApiKeyView = z.infer<typeof apiKeySchema>;

export const apiKeyCreatedSchema = apiKeySchema
  .extend({ apiKey: z.string().describe('Shown once; only its sha256 is stored') })
  .meta({ id: 'ApiKeyCreated' });

export const apiKeyListSchema = z.object({ items: z.array(apiKeySchema) });

export const tenantCreatedSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  keyId: z.uuid().describe('Id of the API key, to revoke it later'),
  apiKey: z.string().describe('Shown once; only its hash is stored'),
});

export const tenantKeyParamsSchema = idParamsSchema.extend({ keyId: z.uuid() });

const budgetValueSchema = z.number().int().min(1).max(1_000_000_000);

export const tenantRateLimitsBodySchema = z.strictObject({
  requests: budgetValueSchema
    .nullable()
    .optional()
    .describe('Requests per window to /v1 routes other than predict; null: back to RATE_LIMIT_MAX; absent: unchanged'),
  predictions: budgetValueSchema
    .nullable()
    .optional()
    .describe('POST /v1/models/{id}/predict calls per window; null: back to RATE_LIMIT_PREDICT_MAX; absent: unchanged'),
});
export type TenantRateLimitsBody = z.infer<typeof tenantRateLimitsBodySchema>;

const budgetSchema = z.object({
  limit: z.number().int().describe('Requests allowed per window'),
  custom: z.boolean().describe("true: set for this tenant; false: the service's default"),
});

export const tenantRateLimitsSchema = z
  .object({
    windowMs: z.number().int().describe('Length of a window (RATE_LIMIT_WINDOW_MS); a window starts at its first request'),
    requests: budgetSchema.describe('Every /v1 route but predict, counted together'),
    predictions: budgetSchema.describe('POST /v1/models/{id}/predict, counted apart from the other requests'),
  })
  .meta({ id: 'TenantRateLimits' });
export type TenantRateLimits = z.infer<typeof tenantRateLimitsSchema>;
