import { z } from 'zod';
import { evaluationSchema } from './evaluation.js';
import { predictResponseSchema } from './models.js';

// Names and aliases appear in URLs (/v1/registry/iris/aliases/production): plain tokens, no escaping needed.
export const modelNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'expected 1 to 100 letters, digits, ".", "_" or "-", starting with a letter or digit')
  .describe('A name in the model registry (e.g. "iris-classifier"): its versions are models numbered 1, 2, ...');

export const aliasSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9._-]{0,62}$/, 'expected 1 to 63 letters, digits, ".", "_" or "-", starting with a letter')
  .describe('A movable label on one version of a name, e.g. production or staging');

const versionNumber = z.number().int().min(1).max(2_147_483_647);

export const registryNameParamsSchema = z.object({ name: modelNameSchema });
export const registryAliasParamsSchema = z.object({ name: modelNameSchema, alias: aliasSchema });

const aliasesSchema = z.record(z.string(), versionNumber).describe('alias -> version, e.g. { "production": 2 }');

export const registeredModelSummarySchema = z.object({
  name: modelNameSchema,
  latestVersion: versionNumber.describe('The highest version number handed out'),
  versions: z.number().int().min(0).describe('Versions registered under the name (a deleted model takes its version with it)'),
  aliases: aliasesSchema,
  createdAt: z.iso.datetime(),
});
export const registeredModelListSchema = z.object({ items: z.array(registeredModelSummarySchema) });

export const modelVersionSchema = z.object({
  version: versionNumber,
  modelId: z.uuid(),
  createdAt: z.iso.datetime().describe('When the version was registered'),
  evaluation: evaluationSchema.nullable().describe("The model's evaluation on its job's validation rows; null for imported models"),
});

export const registeredModelSchema = z
  .object({
    name: modelNameSchema,
    latestVersion: versionNumber,
    createdAt: z.iso.datetime(),
    versions: z.array(modelVersionSchema).describe('Oldest first'),
    aliases: aliasesSchema,
  })
  .meta({ id: 'RegisteredModel' });
export type RegisteredModelView = z.infer<typeof registeredModelSchema>;

export const setAliasBodySchema = z.strictObject({ version: versionNumber.describe('An existing version of the name') });

export const aliasDeletedSchema = z.null().describe('The alias is gone; no body. Deleting it again answers 404');

export const aliasSchemaView = z.object({ name: modelNameSchema, alias: aliasSchema, version: versionNumber, modelId: z.uuid() });

export const registryPredictQuerySchema = z.strictObject({
  alias: aliasSchema.optional().describe('Predict with the version this alias points to'),
  version: z.coerce.number().int().min(1).max(2_147_483_647).optional().describe('Predict with this version'),
});

export const registryPredictResponseSchema = predictResponseSchema.extend({
  modelId: z.uuid().describe('The model that answered'),
  version: versionNumber.describe('Its version under the name'),
});
