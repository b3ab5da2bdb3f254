// Generated clients name their methods after operationId: every operation in the OpenAPI document has one, unique,
// from the table in src/api/plugins/swagger.ts (or derived from method and URL for a route the table misses).
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { derivedOperationId, OPERATION_IDS } from '../../src/api/plugins/swagger.js';
import { useTestService } from '../helpers/app.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

describe('OpenAPI operationIds', () => {
  const service = useTestService();

  const operations = async () => {
    const doc = (await request(service.app.server).get('/docs/json')).body as { paths: Record<string, Record<string, { operationId?: string }>> };
    return Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([method]) => METHODS.includes(method))
        .map(([method, op]) => ({ route: `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`, operationId: op.operationId })),
    );
  };

  it('every operation has an operationId, unique, in camelCase', async () => {
    const ops = await operations();
    expect(ops.length).toBeGreaterThanOrEqual(27);
    for (const op of ops) expect(op.operationId, op.route).toMatch(/^[a-z][a-zA-Z0-9]*$/);
    const ids = ops.map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('the table names only routes the document has, and they carry its names', async () => {
    const ops = await operations();
    const routes = new Set(ops.map((op) => op.route));
    for (const route of Object.keys(OPERATION_IDS)) expect(routes.has(route), route).toBe(true);
    for (const { route, operationId } of ops) if (OPERATION_IDS[route]) expect(operationId).toBe(OPERATION_IDS[route]);
  });

  it('a route missing from the table gets a name from its method and URL', () => {
    expect(derivedOperationId('POST', '/v1/models/:id/evaluate')).toBe('postModelsByIdEvaluate');
    expect(derivedOperationId('GET', '/v1/jobs')).toBe('getJobs');
    expect(derivedOperationId('GET', '/v1/jobs/:id')).toBe('getJobsById');
    expect(derivedOperationId('DELETE', '/v1/tenants/:id/keys/:keyId')).toBe('deleteTenantsByIdKeysByKeyId');
    expect(derivedOperationId('GET', '/v1/models/:id/tfjs/model.json')).toBe('getModelsByIdTfjsModelJson');
  });
});
