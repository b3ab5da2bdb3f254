// A 10,000-row prediction (the largest batch a request may hold) runs as one float32 forward pass, whose products
// are large enough for the engine's WebAssembly SIMD gemm, and answers what the same rows predicted one at a time
// answer (those products are too small for wasm and run in TypeScript).
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNetwork, serializeModel, type ModelSpec } from '../../src/engine/index.js';
import { toModelJson } from '../../src/export/model-json.js';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth, irisNetwork } from '../helpers/fixtures.js';
import { IRIS_COLUMNS, irisRows } from '../helpers/iris.js';

const ROWS = 10_000;
const CLASSES = ['setosa', 'versicolor', 'virginica'];

/** 10,000 rows: the 150 Iris rows over and over, each copy shifted a little so that no two rows are equal. */
function batchRows(): number[][] {
  const { features } = irisRows();
  return Array.from({ length: ROWS }, (_, i) => features[i % features.length].map((v, c) => +(v + ((i * 7 + c) % 13) * 0.01).toFixed(3)));
}

describe('batch predictions', () => {
  const service = useTestService();
  let key: string;
  let modelId: string;

  beforeAll(async () => {
    key = (await createTenant(service.app)).apiKey;
    const spec: ModelSpec = { inputSize: 4, layers: irisNetwork.layers.map((layer) => ({ ...layer })), loss: irisNetwork.loss };
    const network = createNetwork(spec, 7);
    const document = toModelJson(serializeModel(network), {
      features: [...IRIS_COLUMNS],
      targets: ['species'],
      classes: CLASSES,
      preprocessing: { standardize: true, mean: [5.8, 3.1, 3.8, 1.2], std: [0.8, 0.4, 1.8, 0.8] },
    });
    const imported = await request(service.app.server).post('/v1/models').set(auth(key)).send(document);
    expect(imported.status).toBe(201);
    modelId = imported.body.id;
  });

  it('predicts 10,000 rows in one request, in float32, agreeing with row-by-row predictions', async () => {
    const exported = await request(service.app.server).get(`/v1/models/${modelId}/export`).set(auth(key));
    expect(exported.body.dtype).toBe('float32');

    const rows = batchRows();
    const batch = await request(service.app.server).post(`/v1/models/${modelId}/predict`).set(auth(key)).send({ inputs: rows });
    expect(batch.status).toBe(200);
    const outputs = batch.body.outputs as number[][];
    const labels = batch.body.labels as string[];
    expect(outputs).toHaveLength(ROWS);
    expect(labels).toHaveLength(ROWS);
    for (const out of outputs) expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(new Set(labels).size).toBeGreaterThan(1);

    // Every 97th row one at a time (about a hundred requests): the same outputs, to float32 rounding of the sums.
    for (let r = 0; r < ROWS; r += 97) {
      const single = await request(service.app.server).post(`/v1/models/${modelId}/predict`).set(auth(key)).send({ inputs: [rows[r]] });
      expect(single.status).toBe(200);
      single.body.outputs[0].forEach((v: number, c: number) => expect(Math.abs(v - outputs[r][c]), `row ${r}, output ${c}`).toBeLessThan(1e-5));
      expect(single.body.labels[0]).toBe(labels[r]);
    }
  });

  it('refuses one row more than the limit, naming the field', async () => {
    const rows = batchRows();
    rows.push(rows[0]);
    const res = await request(service.app.server).post(`/v1/models/${modelId}/predict`).set(auth(key)).send({ inputs: rows });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/^body\.inputs: .*10000 rows/);
  });
});
