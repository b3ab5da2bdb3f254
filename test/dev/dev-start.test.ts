// `npm run dev` (dist/dev.js) on a machine with Postgres and Redis on their usual ports: it creates its database,
// prints a random admin key once, the API migrates, and the worker waits for the schema instead of failing on it.
// Where nothing answers, one line says what to start.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteRedisPrefix } from '../helpers/env.js';
import { freePort, spawnNode, waitFor, type Spawned } from '../helpers/processes.js';

const SERVER_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = 'redis://127.0.0.1:6379';

describe('npm run dev', () => {
  const name = `test_dev_${randomBytes(4).toString('hex')}`;
  const prefix = `test-dev-${randomBytes(4).toString('hex')}`;
  const databaseUrl = Object.assign(new URL(SERVER_URL), { pathname: `/${name}` }).toString();
  let dev: Spawned | undefined;

  afterAll(async () => {
    await dev?.stop();
    const admin = new pg.Client({ connectionString: SERVER_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    await deleteRedisPrefix(REDIS_URL, prefix);
  });

  it('creates the missing database, prints an admin key once, and the worker starts once the API has migrated', async () => {
    const port = await freePort();
    // No ADMIN_API_KEY: dev makes one. (DATABASE_URL names a database of our own instead of the default `backprop`.)
    dev = spawnNode('dist/dev.js', { DATABASE_URL: databaseUrl, QUEUE_PREFIX: prefix, PORT: String(port), HOST: '127.0.0.1', WORKER_HEALTH_PORT: '0', LOG_LEVEL: 'info' });
    await waitFor('the worker to start', () => dev!.output().includes('"worker started"'), 60_000);
    const output = dev.output();
    expect(output).toContain(`npm run dev: created database ${name}`);
    const keys = [...output.matchAll(/admin key for this run \(ADMIN_API_KEY was unset; set it to keep one\): (\S+)/g)].map((m) => m[1]);
    expect(keys).toHaveLength(1);
    // Nothing queried a table before it existed.
    expect(output).not.toMatch(/does not exist/);
    expect(output).not.toMatch(/"level":(50|60)/);

    const tenant = await request(`http://127.0.0.1:${port}`).post('/v1/tenants').set('authorization', `Bearer ${keys[0]}`).send({ name: 'dev' });
    expect(tenant.status).toBe(201);
    expect((await request(`http://127.0.0.1:${port}`).get('/ready')).status).toBe(200);
  });

  it('says in one line what to start when no Postgres answers, and when no Redis does', async () => {
    const closed = await freePort();
    const noPostgres = spawnNode('dist/dev.js', { DATABASE_URL: `postgresql://postgres@127.0.0.1:${closed}/backprop` });
    await new Promise((r) => noPostgres.child.once('exit', r));
    expect(noPostgres.child.exitCode).toBe(1);
    expect(noPostgres.output().trim().split('\n')).toEqual([
      `npm run dev: no Postgres answers at 127.0.0.1:${closed} (DATABASE_URL): start one (\`docker run -d -p 5432:5432 -e POSTGRES_PASSWORD=postgres postgres:16\`, or your system's postgresql service), or set DATABASE_URL`,
    ]);

    const noRedis = spawnNode('dist/dev.js', { DATABASE_URL: databaseUrl, REDIS_URL: `redis://127.0.0.1:${closed}` });
    await new Promise((r) => noRedis.child.once('exit', r));
    expect(noRedis.child.exitCode).toBe(1);
    expect(noRedis.output().trim().split('\n')).toEqual([
      `npm run dev: no Redis answers at 127.0.0.1:${closed} (REDIS_URL): start one (\`docker run -d -p 6379:6379 redis:7\`, or your system's redis service), or set REDIS_URL`,
    ]);
  });

  it('is development only: npm start still requires ADMIN_API_KEY, and says so in one line', async () => {
    const api = spawnNode('dist/server.js', { DATABASE_URL: databaseUrl, QUEUE_PREFIX: prefix, PORT: String(await freePort()) });
    await new Promise((r) => api.child.once('exit', r));
    expect(api.child.exitCode).toBe(1);
    expect(api.output().trim().split('\n').at(-1)).toBe('ADMIN_API_KEY is required to run the API (`npm run dev` makes a random one for development)');
    expect(api.output()).not.toMatch(/^\s+at /m);
  });
});
