// Generated bad input: a seeded generator (fuzz-cases.ts) sends well over a thousand malformed requests across every
// documented route and method over a real socket: wrong types, missing and unknown fields, huge, negative and
// non-finite numbers, broken and deeply nested JSON, invalid UTF-8, bodies over the limit, broken CSVs (ragged
// rows, BOMs, empty files, non-numeric cells, millions of columns), absurd model sizes, broken HTTP framing.
// Every answer must be a 4xx with a coded JSON error and no internals; nothing may crash the process or make
// memory grow without bound. FUZZ_SEED=<n> replays another sequence, FUZZ_CASES=<n> runs more, FUZZ_REPORT=<file>
// writes every case and its answer as JSON lines.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerVersion } from '../../src/db/registry.js';
import { createNetwork, serializeModel } from '../../src/engine/index.js';
import { useTestService } from '../helpers/app.js';
import { ADMIN_KEY } from '../helpers/env.js';
import { httpRequest, rawRequest, type HttpResponse } from '../helpers/http.js';
import { CaseBuilder, Rng, type FuzzCase, type FuzzContext } from './fuzz-cases.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_240_607);
const CASES = Number(process.env.FUZZ_CASES ?? 2000);
const MiB = 1024 * 1024;
const LIMITS = { bodyBytes: 4 * MiB, maxRows: 5000, maxColumns: 1000, maxCells: 200_000, maxEpochs: 1000 };

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

// What must never reach a client: stack frames, file paths, SQL, driver and runtime error names.
const INTERNALS = [
  /\n\s+at\s/,
  /\bat\s+\S+\s+\(?[\w/.-]+:\d+:\d+/,
  /node_modules|file:\/\/|\/work\/|[\w-]+\.(ts|js):\d+/,
  /\b(SELECT|INSERT|UPDATE|DELETE)\b[\s\S]*\b(FROM|INTO|SET|WHERE)\b/,
  /prisma|postgres|\bpg_|ECONN|ioredis|bullmq|TypeError|RangeError|ReferenceError|SyntaxError|Maximum call stack/i,
];

interface Outcome {
  index: number;
  /** The case without its body: the run must not keep megabytes of bodies alive while memory is measured. */
  fuzzCase: Omit<FuzzCase, 'request' | 'raw'>;
  status?: number;
  body?: string;
  problem?: string;
}

function check(res: HttpResponse, viaFastify: boolean): string | undefined {
  if (res.status < 400 || res.status > 499) return `status ${res.status}`;
  let body: { error?: { code?: unknown; message?: unknown } };
  try {
    body = JSON.parse(res.body);
  } catch {
    return `body is not JSON: ${res.body.slice(0, 120)}`;
  }
  const { code, message } = body.error ?? {};
  if (typeof code !== 'string' || !/^ERR_[A-Z_]+$/.test(code)) return `no error code: ${res.body.slice(0, 120)}`;
  if (typeof message !== 'string' || message.trim() === '') return `no message: ${res.body.slice(0, 120)}`;
  if (res.body.length > 4096) return `error body of ${res.body.length} bytes`;
  const leak = INTERNALS.find((re) => re.test(res.body));
  if (leak) return `internals (${leak}) in ${res.body.slice(0, 200)}`;
  if (!String(res.headers['content-type']).startsWith('application/json')) return `content-type ${res.headers['content-type']}`;
  if (viaFastify && !res.headers['x-request-id']) return 'no x-request-id header';
  return undefined;
}

describe('fuzz: malformed requests on every route answer a coded 4xx', () => {
  const service = useTestService({
    env: {
      BODY_LIMIT_BYTES: String(LIMITS.bodyBytes),
      DATASET_MAX_ROWS: String(LIMITS.maxRows),
      DATASET_MAX_COLUMNS: String(LIMITS.maxColumns),
      DATASET_MAX_CELLS: String(LIMITS.maxCells),
      MODEL_MAX_PARAMETERS: '1000000',
      TRAINING_MAX_EPOCHS: String(LIMITS.maxEpochs),
      RATE_LIMIT_MAX: '1000000',
    },
  });
  let port: number;
  let fuzz: FuzzContext;
  let builder: CaseBuilder;

  const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };

  beforeAll(async () => {
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    port = (service.app.server.address() as { port: number }).port;

    const post = async (path: string, body: unknown, headers: Record<string, string>) => {
      const res = await httpRequest(port, { method: 'POST', path, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      if (res.status >= 300) throw new Error(`${path} answered ${res.status}: ${res.body}`);
      return JSON.parse(res.body);
    };
    const tenant = await post('/v1/tenants', { name: 'fuzz' }, admin);
    const other = await post('/v1/tenants', { name: 'other' }, admin);
    const spare = await post(`/v1/tenants/${tenant.id}/keys`, undefined, { authorization: admin.authorization });
    const revoked = await post(`/v1/tenants/${tenant.id}/keys`, undefined, { authorization: admin.authorization });
    const revoke = await httpRequest(port, { method: 'DELETE', path: `/v1/tenants/${tenant.id}/keys/${revoked.id}`, headers: { authorization: admin.authorization } });
    expect(revoke.status).toBe(200);

    const key = { authorization: `Bearer ${tenant.apiKey}` };
    const csv = ['a,b,c,d,species', ...Array.from({ length: 30 }, (_, i) => `${i % 7},${(i * 3) % 5},${i % 4},${(i * 7) % 3},${['x', 'y', 'z'][i % 3]}`)].join('\n');
    const dataset = await httpRequest(port, { method: 'POST', path: '/v1/datasets?name=base&target=species', headers: { ...key, 'content-type': 'text/csv' }, body: csv });
    expect(dataset.status, dataset.body).toBe(201);
    const datasetId = JSON.parse(dataset.body).id as string;
    const job = await post('/v1/jobs', { datasetId, model: { layers: [{ type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' }, training: { epochs: 1 } }, { ...key, 'content-type': 'application/json' });

    // A model for the predict route, stored directly (no worker runs here). Its standardization divides by 1e-30,
    // so inputs near the float32 limit overflow to Infinity inside the network: the API must answer 422.
    const spec = { inputSize: 4, layers: [{ type: 'dense' as const, units: 1, activation: 'linear' as const }], loss: 'meanSquaredError' as const };
    const modelId = randomUUID();
    await service.app.db.model.create({
      data: {
        id: modelId,
        tenantId: tenant.id,
        jobId: job.id,
        spec,
        preprocessing: { standardize: true, mean: [0, 0, 0, 0], std: [1e-30, 1e-30, 1e-30, 1e-30] },
        features: ['a', 'b', 'c', 'd'],
        targets: ['y'],
        metrics: { epochs: 1, loss: 1, valLoss: null, accuracy: null, valAccuracy: null },
        weights: JSON.parse(JSON.stringify(serializeModel(createNetwork(spec, 1)))),
      },
    });

    await service.app.db.$transaction((tx) => registerVersion(tx, tenant.id, 'fuzz-model', modelId));
    // The DELETE routes must refuse even their valid request: the dataset and the job are in use (the job is queued,
    // no worker runs), an alias other than the one the alias routes name keeps the model, and the tenant is gone.
    await service.app.db.modelAlias.create({ data: { tenantId: tenant.id, name: 'fuzz-model', alias: 'pinned', version: 1 } });
    const gone = await post('/v1/tenants', { name: 'gone' }, admin);
    const deleted = await httpRequest(port, { method: 'DELETE', path: `/v1/tenants/${gone.id}`, headers: { authorization: admin.authorization } });
    expect(deleted.status, deleted.body).toBe(204);

    const sweep = await post(
      '/v1/sweeps',
      { datasetId, base: { model: { layers: [{ type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' } }, space: { 'training.optimizer.learningRate': { choice: [0.01] } }, strategy: 'grid' },
      { ...key, 'content-type': 'application/json' },
    );

    fuzz = {
      adminKey: ADMIN_KEY,
      tenantKey: tenant.apiKey,
      revokedKey: revoked.apiKey,
      otherTenantKey: other.apiKey,
      tenantId: tenant.id,
      keyId: spare.id,
      datasetId,
      jobId: job.id,
      modelId,
      sweepId: sweep.id,
      modelName: 'fuzz-model',
      deletedTenantId: gone.id,
      limits: LIMITS,
    };

    const doc = JSON.parse((await httpRequest(port, { method: 'GET', path: '/docs/json' })).body) as { paths: Record<string, Record<string, unknown>> };
    const methodsByPath = new Map(Object.entries(doc.paths).map(([path, ops]) => [path, new Set(Object.keys(ops).map((m) => m.toUpperCase()))]));
    builder = new CaseBuilder(fuzz, new Rng(SEED), methodsByPath);
  });


  it(`knows every documented route`, async () => {
    const doc = JSON.parse((await httpRequest(port, { method: 'GET', path: '/docs/json' })).body) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).filter((m) => m !== 'head').map((m) => `${m.toUpperCase()} ${path}`));
    expect(builder.documented.sort()).toEqual(documented.sort());
  });

  it(`answers ${CASES} generated malformed requests (seed ${SEED}) with a coded 4xx, within bounded memory`, async () => {
    gc();
    const before = process.memoryUsage();
    let peakRss = before.rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

    const outcomes: Outcome[] = [];
    const started = Date.now();
    for (let index = 0; index < CASES; index++) {
      const { request, raw, ...fuzzCase } = builder.build(index);
      try {
        const response = raw ? await rawRequest(port, raw) : await httpRequest(port, request!);
        outcomes.push({ index, fuzzCase, status: response.status, body: response.body.slice(0, 300), problem: check(response, !raw) });
      } catch (err) {
        outcomes.push({ index, fuzzCase, problem: `no response: ${(err as Error).message}` });
      }
    }
    clearInterval(sampler);
    const elapsed = Date.now() - started;
    await new Promise((r) => setTimeout(r, 500)); // let closed sockets release their buffers
    gc();
    gc();
    const after = process.memoryUsage();

    const count = (key: (o: Outcome) => string) =>
      Object.fromEntries([...outcomes.reduce((m, o) => m.set(key(o), (m.get(key(o)) ?? 0) + 1), new Map<string, number>())].sort());
    const byStatus = count((o) => String(o.status ?? 'none'));
    const byRoute = count((o) => o.fuzzCase.route);
    console.log(
      JSON.stringify(
        {
          seed: SEED,
          cases: outcomes.length,
          seconds: elapsed / 1000,
          byStatus,
          byFamily: count((o) => o.fuzzCase.family),
          byRoute,
          heapMiB: { before: Math.round(before.heapUsed / MiB), after: Math.round(after.heapUsed / MiB) },
          externalMiB: { before: Math.round(before.external / MiB), after: Math.round(after.external / MiB) },
          rssMiB: { before: Math.round(before.rss / MiB), peak: Math.round(peakRss / MiB), after: Math.round(after.rss / MiB) },
        },
        null,
        2,
      ),
    );

    if (process.env.FUZZ_REPORT) {
      const lines = outcomes.map((o) => JSON.stringify({ index: o.index, route: o.fuzzCase.route, family: o.fuzzCase.family, description: o.fuzzCase.description, status: o.status, body: o.body, problem: o.problem }));
      writeFileSync(process.env.FUZZ_REPORT, `${lines.join('\n')}\n`);
    }
    const failures = outcomes.filter((o) => o.problem);
    const report = failures
      .slice(0, 25)
      .map((o) => `#${o.index} ${o.fuzzCase.route} [${o.fuzzCase.family}] ${o.fuzzCase.description}: ${o.problem} ${o.body?.slice(0, 160) ?? ''}`)
      .join('\n');
    expect(failures.length, `seed ${SEED}:\n${report}`).toBe(0);
    expect(outcomes.length).toBeGreaterThanOrEqual(1000);
    for (const route of builder.documented) expect(byRoute[route] ?? 0, route).toBeGreaterThanOrEqual(20);

    // Bounded memory: what the run leaves behind after a collection, and the peak while it ran.
    expect(after.heapUsed - before.heapUsed).toBeLessThan(32 * MiB);
    expect(after.external - before.external).toBeLessThan(32 * MiB);
    expect(peakRss - before.rss).toBeLessThan(1024 * MiB);

    // Same process, still serving: health, readiness and an ordinary request.
    expect((await httpRequest(port, { method: 'GET', path: '/health' })).status).toBe(200);
    expect((await httpRequest(port, { method: 'GET', path: '/ready' })).status).toBe(200);
    const list = await httpRequest(port, { method: 'GET', path: '/v1/datasets', headers: { authorization: `Bearer ${fuzz.tenantKey}` } });
    expect(list.status).toBe(200);
    expect(JSON.parse(list.body).items.map((d: { id: string }) => d.id)).toEqual([fuzz.datasetId]);
  });
});
