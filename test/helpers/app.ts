import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { buildApp } from '../../src/api/app.js';
import type { Config } from '../../src/config/index.js';
import { ADMIN_KEY } from './env.js';

export async function buildTestApp(config: Config): Promise<FastifyInstance> {
  return buildApp(config);
}

/** Creates a tenant through the API with the admin key and returns its id, API key and the key's id. */
export async function createTenant(target: FastifyInstance | string, name = 'tenant'): Promise<{ id: string; apiKey: string; keyId: string }> {
  const agent = typeof target === 'string' ? request(target) : request(target.server);
  const res = await agent.post('/v1/tenants').set('authorization', `Bearer ${ADMIN_KEY}`).send({ name });
  if (res.status !== 201) throw new Error(`creating a tenant answered ${res.status}: ${res.text}`);
  return res.body;
}
