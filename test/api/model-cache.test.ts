// The API's model cache is bounded in bytes (MODEL_CACHE_MB), not in models: what each cached model holds is
// estimated from its spec (weights, gradient buffers, its layers' buffers for the largest chunk it runs, the stored
// weights' text), checked here against the memory a real model takes, with models stored in and read from Postgres.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { cachedModelBytes, ModelCache } from '../../src/api/model-cache.js';
import { predictRows } from '../../src/api/predict.js';
import { createNetwork, serializeModel, type ModelSpec } from '../../src/engine/index.js';
import { EVALUATION_CHUNK } from '../../src/evaluation/judge.js';
import { toModelJson } from '../../src/export/model-json.js';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth } from '../helpers/fixtures.js';
import { IRIS_COLUMNS, irisRows } from '../helpers/iris.js';
import { collectGarbage } from '../helpers/memory.js';

const MiB = 1024 * 1024;
const CLASSES = ['setosa', 'versicolor', 'virginica'];

const irisSpec = (hidden: number[]): ModelSpec => ({
  inputSize: 4,
  layers: [...hidden.map((units) => ({ type: 'dense' as const, units, activation: 'relu' as const })), { type: 'dense', units: 3, activation: 'softmax' }],
  loss: 'categoricalCrossEntropy',
});

describe('model cache', () => {
  const service = useTestService();
  let tenantId: string;
  let small: string[] = [];
  let big: string;

  const importModel = async (key: string, spec: ModelSpec, seed: number) => {
    const document = toModelJson(serializeModel(createNetwork(spec, seed)), {
      features: [...IRIS_COLUMNS],
      targets: ['species'],
      classes: CLASSES,
      preprocessing: { standardize: false },
    });
    const res = await request(service.app.server).post('/v1/models').set(auth(key)).send(document);
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  };
  const load = (id: string) => () => service.app.repos.models.get(tenantId, id);

  beforeAll(async () => {
    const tenant = await createTenant(service.app);
    tenantId = tenant.id;
    small = [];
    for (let i = 0; i < 40; i++) small.push(await importModel(tenant.apiKey, irisSpec([16]), i));
    big = await importModel(tenant.apiKey, irisSpec([1024, 1024]), 99);
  });

  it('counts at least the memory a cached model really holds once it predicted and was evaluated', async () => {
    const stored = await service.app.repos.models.get(tenantId, big);
    const { features } = irisRows();
    const rows = Array.from({ length: EVALUATION_CHUNK }, (_, i) => features[i % features.length]);
    await collectGarbage();
    const before = process.memoryUsage().arrayBuffers;
    const cache = new ModelCache(Number.MAX_SAFE_INTEGER);
    const loaded = (await cache.get(tenantId, big, async () => stored))!;
    predictRows(loaded, rows.slice(0, 300)); // a 256-row chunk and the rest
    loaded.network.predict(Float32Array.from(rows.flat()), EVALUATION_CHUNK); // what an evaluation's chunk grows
    await collectGarbage();
    const held = process.memoryUsage().arrayBuffers - before;
    const estimate = cachedModelBytes(loaded.network);
    console.log(`estimate ${(estimate / MiB).toFixed(1)} MiB; array buffers held ${(held / MiB).toFixed(1)} MiB`);
    expect(estimate).toBeGreaterThanOrEqual(held);
    expect(estimate).toBeLessThan(2 * held);
  });

  it('keeps as many models as fit its bytes, evicting the least recently used for a large one', async () => {
    const probe = new ModelCache(Number.MAX_SAFE_INTEGER);
    const smallBytes = cachedModelBytes((await probe.get(tenantId, small[0], load(small[0])))!.network);
    const bigBytes = cachedModelBytes((await probe.get(tenantId, big, load(big)))!.network);
    expect(bigBytes).toBeGreaterThan(100 * smallBytes);

    // Room for the large model and 20 small ones: all 40 small ones fit (more than the 32 models the count allowed),
    // then the large one takes the place of the 20 used least recently.
    const capacity = bigBytes + 20 * smallBytes;
    const cache = new ModelCache(capacity);
    for (const id of small) await cache.get(tenantId, id, load(id));
    expect(cache.size).toBe(40);
    await cache.get(tenantId, big, load(big));
    expect(cache.size).toBe(21);
    expect(cache.bytes).toBe(bigBytes + 20 * smallBytes);
    expect(small.map((id) => cache.peek(tenantId, id) !== undefined)).toEqual([...Array(20).fill(false), ...Array(20).fill(true)]);
    expect(cache.peek(tenantId, big)).toBeDefined();

    // A model larger than the whole cache is answered, never kept, and evicts nothing.
    const tight = new ModelCache(bigBytes - 1);
    await tight.get(tenantId, small[0], load(small[0]));
    const answered = await tight.get(tenantId, big, load(big));
    expect(predictRows(answered!, [[5.1, 3.5, 1.4, 0.2]]).outputs).toHaveLength(1);
    expect(tight.peek(tenantId, big)).toBeUndefined();
    expect(tight.size).toBe(1);
    expect(tight.bytes).toBe(smallBytes);

    // MODEL_CACHE_MB=0 keeps nothing.
    const none = new ModelCache(0);
    await none.get(tenantId, small[0], load(small[0]));
    expect(none.size).toBe(0);
  });
});
