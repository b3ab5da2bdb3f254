import { z } from 'zod';

/** What a tenant's quotas limit; the names appear in the admin's routes, GET /v1/usage and ERR_QUOTA_EXCEEDED's details. */
export const quotaNames = ['storageBytes', 'datasets', 'models'] as const;
export type QuotaName = (typeof quotaNames)[number];

const quotaValue = (max: number) => z.number().int().min(0).max(max);

export const tenantQuotasBodySchema = z.strictObject({
  storageBytes: quotaValue(Number.MAX_SAFE_INTEGER)
    .nullable()
    .optional()
    .describe('Bytes stored: datasets, models, and the models of queued or running jobs; null: back to QUOTA_STORAGE_BYTES; absent: unchanged'),
  datasets: quotaValue(1_000_000_000).nullable().optional().describe('Datasets stored; null: back to QUOTA_DATASETS; absent: unchanged'),
  models: quotaValue(1_000_000_000)
    .nullable()
    .optional()
    .describe('Models stored plus queued or running jobs (each will make one); null: back to QUOTA_MODELS; absent: unchanged'),
});
export type TenantQuotasBody = z.infer<typeof tenantQuotasBodySchema>;

const limitSchema = z.object({
  limit: z.number().int().describe('The most allowed'),
  custom: z.boolean().describe("true: set for this tenant; false: the service's default"),
});

export const tenantQuotasSchema = z
  .object({
    storageBytes: limitSchema.describe('Bytes stored (QUOTA_STORAGE_BYTES by default)'),
    datasets: limitSchema.describe('Datasets stored (QUOTA_DATASETS by default)'),
    models: limitSchema.describe('Models stored plus queued or running jobs (QUOTA_MODELS by default)'),
  })
  .meta({ id: 'TenantQuotas' });
export type TenantQuotas = z.infer<typeof tenantQuotasSchema>;

const usedSchema = limitSchema.extend({ used: z.number().int().describe('Counted from what is stored now; deletes lower it at once') });

export const usageSchema = z
  .object({
    storageBytes: usedSchema
      .extend({
        datasets: z.number().int().describe("Datasets' stored float32 arrays (inputs and outputs), in bytes"),
        models: z.number().int().describe("Models' weight arrays, in bytes"),
        activeJobs: z.number().int().describe('Reserved for the weights of the models that queued or running jobs will make'),
      })
      .describe('used = datasets + models + activeJobs'),
    datasets: usedSchema,
    models: usedSchema
      .extend({
        stored: z.number().int().describe('Models stored'),
        activeJobs: z.number().int().describe('Queued or running jobs, each of which will make a model'),
      })
      .describe('used = stored + activeJobs'),
  })
  .meta({ id: 'Usage' });
export type Usage = z.infer<typeof usageSchema>;
