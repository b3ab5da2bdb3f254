import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { commonErrorResponses, idParamsSchema } from '../../contracts/common.js';
import { modelSchema, predictBodySchema, predictResponseSchema, type PredictBody } from '../../contracts/models.js';
import { applyPreprocessing } from '../../data/standardize.js';
import { Errors } from '../errors.js';
import { ModelCache } from '../model-cache.js';

/** Rows as arrays in feature order or as objects keyed by feature name -> one row-major Float32Array. */
function toMatrix(inputs: PredictBody['inputs'], features: string[]): Float32Array {
  const width = features.length;
  const out = new Float32Array(inputs.length * width);
  const expected = `${width} features (${features.join(', ')})`;
  inputs.forEach((row, r) => {
    if (Array.isArray(row)) {
      if (row.length !== width) {
        throw Errors.INVALID_INPUT(`inputs[${r}]: expected ${expected}, got ${row.length} values`, { field: `inputs[${r}]`, features });
      }
      out.set(row, r * width);
      return;
    }
    const missing = features.filter((f) => !(f in row));
    const unknown = Object.keys(row).filter((k) => !features.includes(k));
    if (missing.length || unknown.length) {
      const parts = [missing.length ? `missing ${missing.join(', ')}` : '', unknown.length ? `unknown ${unknown.join(', ')}` : ''];
      throw Errors.INVALID_INPUT(`inputs[${r}]: expected ${expected}; ${parts.filter(Boolean).join('; ')}`, {
        field: `inputs[${r}]`,
        features,
      });
    }
    features.forEach((f, c) => (out[r * width + c] = row[f]));
  });
  return out;
}

const modelRoutes: FastifyPluginAsyncZod<{ cacheSize: number }> = async (app, opts) => {
  app.addHook('onRequest', app.authenticate);
  const cache = new ModelCache(opts.cacheSize);
  const load = (tenantId: string, id: string) => cache.get(tenantId, id, () => app.repos.models.get(tenantId, id));

  app.get(
    '/v1/models/:id',
    {
      schema: {
        tags: ['models'],
        summary: 'A trained model: spec, preprocessing, final metrics and source job',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        response: { 200: modelSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const loaded = await load(request.tenantId, request.params.id);
      if (!loaded) throw Errors.NOT_FOUND(`model ${request.params.id} not found`);
      const { weights: _weights, createdAt, ...model } = loaded.model;
      return { ...model, createdAt: createdAt.toISOString() };
    },
  );

  app.post(
    '/v1/models/:id/predict',
    {
      schema: {
        tags: ['models'],
        summary: 'Predict with a trained model; the stored preprocessing is applied first',
        security: [{ bearer: [] }],
        params: idParamsSchema,
        body: predictBodySchema,
        response: { 200: predictResponseSchema, ...commonErrorResponses },
      },
    },
    async (request) => {
      const loaded = await load(request.tenantId, request.params.id);
      if (!loaded) throw Errors.NOT_FOUND(`model ${request.params.id} not found`);
      const { model, network } = loaded;
      const inputs = request.body.inputs;
      const x = applyPreprocessing(model.preprocessing, toMatrix(inputs, model.features), model.features.length);
      const y = network.predict(x, inputs.length);
      const width = network.outputSize;
      const outputs = inputs.map((_, r) => Array.from(y.subarray(r * width, (r + 1) * width)));
      if (!model.classes) return { outputs };
      const classes = model.classes;
      const labels = outputs.map((row) => classes[row.indexOf(Math.max(...row))]);
      return { outputs, labels };
    },
  );
};
export default modelRoutes;
