import { z } from 'zod';
import { pageOf, pageQuerySchema } from './common.js';
import { gemmBackendSchema } from './gemm-backends.js';
import { modelSpecBodySchema } from './model-spec.js';
import { modelNameSchema } from './registry.js';
import { DEFAULT_PREPROCESSING, preprocessingBodySchema } from './preprocessing.js';
import { trainingSchema } from './training.js';

export const jobStatusSchema = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof jobStatusSchema>;
export const finishedStatuses: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

export const webhookUrlSchema = z
  .url({ protocol: /^https?$/, error: 'expected an http or https URL' })
  .max(2048)
  .describe(
    'Called once when the job ends (succeeded, failed or cancelled): a signed POST of the job summary, retried with ' +
      'exponential backoff until it answers 2xx. Deliveries: GET /v1/jobs/{id}/webhooks. It must reach a public ' +
      'address: loopback, private and link-local ones are refused (400) unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true.',
  );

export const createJobBodySchema = z
  .strictObject({
    datasetId: z.uuid(),
    model: modelSpecBodySchema,
    training: trainingSchema.default(trainingSchema.parse({})),
    preprocessing: preprocessingBodySchema
      .optional()
      .describe(
        `Default ${JSON.stringify(DEFAULT_PREPROCESSING)}. With initialModelId, leave it out to keep the model's fitted ` +
          'preprocessing; given, it must be the one the model was fitted with (else 422 naming initialModelId)',
      ),
    webhookUrl: webhookUrlSchema.optional(),
    initialModelId: z
      .uuid()
      .optional()
      .describe(
        'Warm start: begin from this model\'s weights instead of a fresh initialization. Its layers, input width and ' +
          'loss must match `model`; the job keeps that model\'s preprocessing (its weights expect inputs on that scale).',
      ),
    modelName: modelNameSchema
      .optional()
      .describe('Register the model as the next version of this name in the model registry when the job succeeds (GET /v1/registry/{name})'),
  })
  .meta({ id: 'CreateJob' });
export type CreateJobBody = z.infer<typeof createJobBodySchema>;

export const jobQueuedSchema = z.object({ id: z.uuid(), status: z.literal('queued') });

export const jobErrorSchema = z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() });
export type JobError = z.infer<typeof jobErrorSchema>;

export const jobSettingsSchema = z
  .object({
    model: modelSpecBodySchema,
    training: trainingSchema.extend({ seed: z.number().int().min(0).max(2 ** 32 - 1).describe('The seed the job trains with: the one sent, or the one the server chose') }),
    preprocessing: preprocessingBodySchema,
    initialModelId: z.uuid().optional(),
    modelName: modelNameSchema.optional(),
  })
  .describe(
    'What the job was asked, with every default filled in and the seed it trains with: POST { datasetId, ...settings } ' +
      'to /v1/jobs to repeat the run (with the same dataset, the same weights epoch for epoch)',
  );
export type JobSettings = z.infer<typeof jobSettingsSchema>;

export const jobSchema = z
  .object({
    id: z.uuid(),
    datasetId: z.uuid().nullable().describe('The dataset it trained on; null once that dataset was deleted'),
    status: jobStatusSchema,
    epoch: z.number().int(),
    epochs: z.number().int(),
    loss: z.number().nullable(),
    valLoss: z.number().nullable(),
    accuracy: z.number().nullable(),
    valAccuracy: z.number().nullable(),
    error: jobErrorSchema.nullable().describe('Why a failed job failed; code is one of the ERR_* codes of docs/api.md'),
    modelId: z.uuid().nullable(),
    sweepId: z.uuid().nullable().describe('The sweep this job is a trial of (GET /v1/sweeps/{id}); null for a job of its own'),
    settings: jobSettingsSchema,
    backends: z
      .array(gemmBackendSchema)
      .describe(
        'What its runs multiplied on, one entry per change: a run resumed on a worker with another backend continues ' +
          'from the same weights but no longer repeats bit for bit (docs/engine.md); empty until it first starts',
      ),
    createdAt: z.iso.datetime(),
    startedAt: z.iso.datetime().nullable(),
    finishedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Job' });
export type JobView = z.infer<typeof jobSchema>;

export const listJobsQuerySchema = pageQuerySchema.extend({ status: jobStatusSchema.optional(), sweepId: z.uuid().optional().describe("Only this sweep's trial jobs") });

export const jobListSchema = pageOf(jobSchema);

export const metricSchema = z.object({
  epoch: z.number().int(),
  loss: z.number(),
  valLoss: z.number().nullable(),
  accuracy: z.number().nullable(),
  valAccuracy: z.number().nullable(),
  learningRate: z.number().nullable().describe('The rate the epoch trained with (training.schedule); null for epochs stored before schedules'),
  ms: z.number(),
});
export const metricListSchema = z.object({ items: z.array(metricSchema) });
