import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { afterAll, beforeAll } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { Config } from '../../src/config/index.js';
import { ADMIN_KEY, createTestContext, type TestContext } from './env.js';
import { spawnWorker, type WorkerProcess } from './processes.js';

export async function buildTestApp(config: Config): Promise<FastifyInstance> {
  return buildApp(config);
}

export interface TestService {
  ctx: TestContext;
  app: FastifyInstance;
  /** Only with { worker: true }. */
  worker: WorkerProcess;
}

/**
 * A file's service, set up in beforeAll and torn down in afterAll: a fresh database and Redis prefix (with `env`
 * on top of the test variables), the app built on them and, with `worker`, a worker process. The fields are set
 * once the hook ran: read them inside hooks and tests.
 */
export function useTestService(options: { env?: Record<string, string>; worker?: boolean } = {}): TestService {
  const service = {} as TestService;
  beforeAll(async () => {
    service.ctx = await createTestContext(options.env);
    service.app = await buildApp(service.ctx.config);
    if (options.worker) service.worker = await spawnWorker(service.ctx.env);
  });
  afterAll(async () => {
    await service.worker?.stop();
    await service.app?.close();
    await service.ctx?.cleanup();
  });
  return service;
}

/** Creates a tenant through the API with the admin key and returns its id, API key and the key's id. */
export async function createTenant(target: FastifyInstance | string, name = 'tenant'): Promise<{ id: string; apiKey: string; keyId: string }> {
  const agent = typeof target === 'string' ? request(target) : request(target.server);
  const res = await agent.post('/v1/tenants').set('authorization', `Bearer ${ADMIN_KEY}`).send({ name });
  if (res.status !== 201) throw new Error(`creating a tenant answered ${res.status}: ${res.text}`);
  return res.body;
}
