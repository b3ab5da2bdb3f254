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
