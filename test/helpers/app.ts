import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { afterAll, beforeAll } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { Config } from '../../src/config/index.js';
import { ADMIN_KEY, createTestContext, type TestContext } from './env.js';
import { inspectDatabase, type Inspector } from './inspect.js';
import { spawnWorker, type WorkerProcess } from './processes.js';

export async function buildTestApp(config: Config): Promise<FastifyInstance> {
  return buildApp(config);
}

export interface TestService {
  ctx: TestContext;
  app: FastifyInstance;
  /** Only with { worker: true }. */
  worker: WorkerProcess;
  /** Only with { audit: true }: a direct Postgres connection to the file's database. */
  audit: Inspector;
  /**
   * Starts one more worker on the file's env: one a test starts late, kills or replaces. Those still running at the
   * end are SIGKILLed in afterAll (tear-down only: the database and Redis prefix go next, nothing needs handing back).
   */
  startWorker(): Promise<WorkerProcess>;
}

export interface TestServiceOptions {
  /** On top of the test variables; a function is called when the hook runs, for values known only then. */
  env?: Record<string, string> | (() => Record<string, string>);
  worker?: boolean;
  audit?: boolean;
}

/**
 * A file's service, set up in beforeAll and torn down in afterAll: a fresh database and Redis prefix (with `env`
 * on top of the test variables), the app built on them, with `worker` a worker process and with `audit` an
 * Inspector on the database. The fields are set once the hook ran: read them inside hooks and tests. Hooks the
 * file registers after this call run after its set-up and before its tear-down (vitest runs afterAll hooks in
 * reverse), so what a file starts by hand (a worker on another prefix, a client) is gone before the database is
 * dropped.
 */
export function useTestService(options: TestServiceOptions = {}): TestService {
  const started: WorkerProcess[] = [];
  const service = {
    async startWorker() {
      const worker = await spawnWorker(service.ctx.env);
      started.push(worker);
      return worker;
    },
  } as TestService;
  beforeAll(async () => {
    service.ctx = await createTestContext(typeof options.env === 'function' ? options.env() : options.env);
    service.app = await buildApp(service.ctx.config);
    if (options.worker) service.worker = await spawnWorker(service.ctx.env);
    if (options.audit) service.audit = await inspectDatabase(service.ctx.db.url);
  });
  afterAll(async () => {
    for (const worker of started) await worker.kill();
    await service.worker?.stop();
    await service.audit?.close();
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
