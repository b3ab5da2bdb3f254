// Models in and out: the service's JSON document (export and import) and the TensorFlow.js layers format
// (model.json + weights.bin beside it, so tf.loadLayersModel(url, { requestInit: { headers } }) loads a model
// straight from the API). Both carry the model's fitted encoding: the JSON document as its preprocessing (an import
// encodes predict rows exactly as the original did), the TensorFlow.js model, which takes the encoded vector, as a
// description in userDefinedMetadata.encoding precise enough to encode a raw row by (docs/tables-export.md).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { commonErrorResponses, errorBodySchema, idempotencyHeadersSchema, idParamsSchema } from '../../contracts/common.js';
import { exportQuerySchema, importModelBodySchema, modelJsonSchema, tfjsModelJsonSchema } from '../../contracts/model-export.js';
import { modelSchema } from '../../contracts/models.js';
import type { StoredModel } from '../../db/models.js';
import { serializeModel } from '../../engine/index.js';
import { toModelJson } from '../../export/model-json.js';
import { ExportError, TFJS_WEIGHTS_PATH, toTfjsLayers, type TfjsLayersExport } from '../../export/tfjs-layers.js';
import type { QuotaDefaults } from '../../db/quotas.js';
import { Errors } from '../errors.js';
import { checkImport } from './model-import-validation.js';
import { modelView } from './models.js';

/** quotas: the configured defaults (QUOTA_*), which an import counts against. */
const modelExportRoutes: FastifyPluginAsyncZod<{ maxParameters: number; quotas: QuotaDefaults }> = async (app, { maxParameters, quotas }) => {
  app.addHook('onRequest', app.authenticate);
  const { models } = app.repos;

  const load = async (tenantId: string, id: string): Promise<StoredModel> => {
    const model = await models.get(tenantId, id);
    if (!model) throw Errors.NOT_FOUND(`model ${id} not found`);
    return model;
  };

  const tfjs = (model: StoredModel): TfjsLayersExport => {
    try {
      return toTfjsLayers(model.weights, {
        name: `model_${model.id.slice(0, 8)}`,
        features: model.features,
        targets: model.targets,
        classes: model.classes,
        preprocessing: model.preprocessing,
        weightsPath: TFJS_WEIGHTS_PATH,
      });
    } catch (err) {
      if (err instanceof ExportError) throw Errors.UNPROCESSABLE(`this model cannot be exported to TensorFlow.js: ${err.message}`);
      throw err;
    }
  };

  app.get(
    '/v1/models/:id/export',
    {
      schema: {
        tags: ['models'],
        summary: 'The model as one JSON document: spec, weights, fitted preprocessing, features, targets, class labels and evaluation',
        description:
          'preprocessing is the fitted encoding (per feature column: fill, was-missing indicator, center and scale, or ' +
          'categories with the other and missing inputs; input names; ignored columns; the regression target scale). ' +
          'POST /v1/models imports the document as it is. For TensorFlow.js use GET /v1/models/{id}/tfjs/model.json.',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        querystring: exportQuerySchema,
        response: { 200: modelJsonSchema, ...commonErrorResponses },
      },
    },
    async (request, reply) => {
      const model = await load(request.tenantId, request.params.id);
      reply.header('content-disposition', `attachment; filename="model-${model.id}.json"`);
      return toModelJson(model.weights, model);
    },
  );

  app.get(
    '/v1/models/:id/tfjs/model.json',
    {
      schema: {
        tags: ['models'],
        summary: 'The model in the TensorFlow.js layers format: model.json (topology and weights manifest)',
        description:
          'Load with tf.loadLayersModel(url, { requestInit: { headers: { authorization: "Bearer <key>" } } }); it then ' +
          'fetches weights.bin beside it with the same headers. The model takes the encoded vector (spec.inputSize values ' +
          'per row, or per step), not raw values: userDefinedMetadata.encoding says how a raw row becomes it, column by ' +
          'column, and for regression the scale to apply to the outputs (docs/tables-export.md); features, targets and ' +
          'classes are there too.',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 200: tfjsModelJsonSchema, ...commonErrorResponses, 422: errorBodySchema },
      },
    },
    async (request) => tfjs(await load(request.tenantId, request.params.id)).modelJson,
  );

  app.get(
    '/v1/models/:id/tfjs/weights.bin',
    {
      schema: {
        tags: ['models'],
        summary: "The TensorFlow.js model's weights: little-endian float32, in the order of model.json's manifest",
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: {
          200: { description: 'The weights file', content: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) } } },
          ...commonErrorResponses,
          422: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      const { weightData } = tfjs(await load(request.tenantId, request.params.id));
      const bytes = Buffer.from(weightData.buffer, weightData.byteOffset, weightData.byteLength);
      // Binary: sent as it is (the schema only documents it, hence the cast).
      return reply.type('application/octet-stream').send(bytes as never);
    },
  );

  app.post(
    '/v1/models',
    {
      schema: {
        tags: ['models'],
        summary: 'Import a model exported by GET /v1/models/{id}/export (from this service or another)',
        description:
          'The document is checked as a whole (422 naming the field): with the fitted preprocessing, features must be ' +
          'the names of its columns in order, the columns must encode to spec.inputSize inputs named as preprocessing.inputs, ' +
          'categories must be values a predict row can hold, and target (regression only) one center and scale per target; ' +
          'documents from before the encoding need features to match spec.inputSize and, with standardize, mean and std ' +
          'per feature. classes (or targets) must match the units of the last layer, and the engine must accept the spec and ' +
          'every weight array. At most MODEL_MAX_PARAMETERS weights and biases. evaluation is not kept. The model belongs ' +
          'to the calling tenant and predicts like the original. It counts against the models quota and its weights\' ' +
          'bytes against the storageBytes quota: past either, 403 ERR_QUOTA_EXCEEDED and nothing is stored.',
        security: [{ bearer: [] }],
        headers: idempotencyHeadersSchema,
        body: importModelBodySchema,
        response: { 201: modelSchema, ...commonErrorResponses, 403: errorBodySchema, 409: errorBodySchema, 422: errorBodySchema },
      },
      config: { idempotent: true },
    },
    async (request, reply) => {
      const body = request.body;
      const network = checkImport(body, maxParameters);
      const stored = await models.import(request.tenantId, {
        spec: body.spec,
        preprocessing: body.preprocessing,
        features: body.features,
        targets: body.targets,
        ...(body.classes ? { classes: body.classes } : {}),
        ...(body.modelName ? { modelName: body.modelName } : {}),
        // Stored as the engine serializes the network it accepted, like a trained model.
        weights: serializeModel(network),
      }, quotas);
      return reply.status(201).send(modelView(stored));
    },
  );
};
export default modelExportRoutes;
