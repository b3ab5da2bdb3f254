import { z } from 'zod';

export const createTenantBodySchema = z.object({
  name: z.string().trim().min(1).max(200).describe('Display name of the tenant'),
});
export type CreateTenantBody = z.infer<typeof createTenantBodySchema>;

export const tenantCreatedSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  apiKey: z.string().describe('Shown once; only its hash is stored'),
});
