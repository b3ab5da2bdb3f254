// Redis Cluster: an API process and a worker process given REDIS_CLUSTER_NODES of a real three-master cluster.
// Everything that uses Redis works on it: the queue (BullMQ with the hash-tagged prefix {<QUEUE_PREFIX>}, so each
// queue's keys share a slot), live events (pub/sub), cancel, rate limits (the leased Lua counter) and idempotency.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createTenant } from '../helpers/app.js';
import { createTestDatabase, randomPrefix, type TestDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, testEnv } from '../helpers/env.js';
import { auth, irisNetwork } from '../helpers/fixtures.js';
import { epochsUpTo } from '../helpers/inspect.js';
import { getJob, submitJob, uploadIris, uploadSlowDataset, waitForJob } from '../helpers/jobs.js';
import { spawnApi, spawnWorker, type Spawned } from '../helpers/processes.js';
import { startRedisCluster, type PrivateCluster } from '../helpers/redis-cluster.js';
import { openEventStream } from '../helpers/sse.js';

describe('on a Redis Cluster', () => {
  let cluster: PrivateCluster;
  let db: TestDatabase;
  let env: Record<string, string>;
  let prefix: string;
  let api: Spawned & { url: string };
  const processes: Spawned[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    db = await createTestDatabase();
    prefix = randomPrefix();
    env = testEnv(db, prefix, { REDIS_CLUSTER_NODES: cluster.nodes.join(','), REDIS_URL: 'redis://127.0.0.1:1' });
    api = await spawnApi(env);
    processes.push(api, await spawnWorker(env));
  });
  afterAll(async () => {
    for (const p of processes) await p.kill();
    await db?.drop();
    await cluster?.stop();
  });

  it('reads the cluster from REDIS_CLUSTER_NODES and hash-tags the prefix', () => {
    const config = loadConfig(env);
    expect(config.QUEUE_PREFIX).toBe(`{${prefix}}`);
    expect(config.REDIS_URL).toBe(cluster.nodes.map((n) => `redis://${n}`).join(','));
    expect(loadConfig({ ...env, QUEUE_PREFIX: 'app{tag}' }).QUEUE_PREFIX).toBe('app{tag}');
    expect(loadConfig({ ...env, REDIS_CLUSTER_NODES: cluster.nodes[0] }).REDIS_URL).toBe(`redis://${cluster.nodes[0]},`);
  });

  it('trains with live events, predicts, cancels, rate-limits and replays idempotent requests', async () => {
    const tenant = await createTenant(api.url, 'clustered');
    const key = tenant.apiKey;
    const datasetId = await uploadIris(api.url, key);

    // Idempotency: the same key twice is one job.
    const body = { datasetId, model: irisNetwork, training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 30, batchSize: 16, validationSplit: 0, seed: 7 } };
    const first = await request(api.url).post('/v1/jobs').set(auth(key)).set('idempotency-key', 'once').send(body);
    const again = await request(api.url).post('/v1/jobs').set(auth(key)).set('idempotency-key', 'once').send(body);
    expect(first.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers['idempotent-replayed']).toBe('true');

    // The queue and the live events: every epoch arrives through the cluster's pub/sub (or the Postgres replay).
    const stream = await openEventStream(`${api.url}/v1/jobs/${first.body.id}/events`, auth(key));
    const blocks = await stream.readUntil((b) => b.event === 'end', 60_000);
    stream.close();
    expect(blocks.filter((b) => b.event === 'epoch').map((b) => JSON.parse(b.data!).epoch)).toEqual(epochsUpTo(30));
    expect(JSON.parse(blocks.at(-1)!.data!).status).toBe('succeeded');
    const { modelId } = await getJob(api.url, key, first.body.id);
    const predicted = await request(api.url)
      .post(`/v1/models/${modelId}/predict`)
      .set(auth(key))
      .send({ inputs: [[5.1, 3.5, 1.4, 0.2]] });
    expect(predicted.status).toBe(200);
    expect(predicted.body.labels).toEqual(['setosa']);

    // Cancel: the broadcast reaches the worker, which stops the run.
    const slow = await uploadSlowDataset(api.url, key);
    const long = await submitJob(api.url, key, slow, 5000);
    await waitForJob(api.url, key, long, (job) => job.status === 'running' && job.epoch >= 1, 'the long job to train');
    expect((await request(api.url).post(`/v1/jobs/${long}/cancel`).set(auth(key))).body.status).toBe('cancelled');
    const stopped = await waitForJob(api.url, key, long, (job) => job.status === 'cancelled', 'the job to be cancelled');
    expect(stopped.epoch).toBeLessThan(5000);

    // Rate limits: the counter's Lua script runs on the cluster, and a budget holds.
    await request(api.url).patch(`/v1/tenants/${tenant.id}/rate-limits`).set(auth(ADMIN_KEY)).send({ requests: 3 }).expect(200);
    await new Promise((r) => setTimeout(r, 300));
    // Already past 3 in this window: refused, naming the budget.
    const refused = await request(api.url).get('/v1/datasets').set(auth(key));
    expect(refused.status).toBe(429);
    expect(refused.body.error.details.budget).toBe('requests');

    // The run's keys share one slot, so they all live on one master.
    const perNode = await cluster.keysPerNode(`{${prefix}}*`);
    expect(perNode.filter((keys) => keys.length > 0)).toHaveLength(1);
    expect(perNode.flat().some((k) => k.includes(':rate-limit:'))).toBe(true);
    expect(perNode.flat().some((k) => k.includes(':training:'))).toBe(true);
  });
});
