// GET /v1/models: its own file because it names registry names, and the registry's contracts import models.ts.
import { z } from 'zod';
import { pageOf, pageQuerySchema } from './common.js';
import { modelSchema } from './models.js';
import { modelNameSchema } from './registry.js';

export const listModelsQuerySchema = pageQuerySchema.extend({
  name: modelNameSchema.optional().describe('Only the versions of this registry name'),
  jobId: z.uuid().optional().describe('Only the model this job trained'),
  datasetId: z.uuid().optional().describe("Only models whose job trained on this dataset"),
});
export type ListModelsQuery = z.infer<typeof listModelsQuerySchema>;

export const modelListSchema = pageOf(modelSchema);
