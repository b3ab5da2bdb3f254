// The model registry on real components: Iris trained by a worker process, two API processes (this one and a spawned
// one) on one Postgres and Redis. Jobs with modelName become versions 1, 2, ... in the transaction that stores their
// model (even when many register at once), an alias moved through one API holds on the other from the next request,
// predictions by name answer like predict by id plus modelId and version, and another tenant sees none of it.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliasesPointingTo, registerVersion } from '../../src/db/registry.js';
import { createNetwork, serializeModel } from '../../src/engine/index.js';
import { createTenant, useTestService } from '../helpers/app.js';
import { IRIS_COLUMNS, auth, irisNetwork, irisSplit } from '../helpers/fixtures.js';
import { postJob, uploadIris, waitForJob } from '../helpers/jobs.js';
import { spawnApi, type Spawned } from '../helpers/processes.js';
import { runCli } from '../cli/run-cli.js';

describe('model registry: names, versions, aliases', () => {
  const service = useTestService({ worker: true });
  let other: Spawned & { url: string };
  let tenant: { id: string; apiKey: string };
  let models: string[];
  const holdout = irisSplit().holdout;
  const inputs = holdout.map((r) => Object.fromEntries(IRIS_COLUMNS.slice(0, 4).map((c, i) => [c, r[i] as number])));
  const species = holdout.map((r) => r[4] as string);

  const A = () => request(service.app.server);
  const B = () => request(other.url);
  const predictByName = (api: () => request.Agent | ReturnType<typeof request>, query: Record<string, string | number> = {}, name = 'iris') =>
    api().post(`/v1/registry/${name}/predict`).query(query).set(auth(tenant.apiKey)).send({ inputs });
  const setAlias = (api: () => ReturnType<typeof request>, alias: string, version: number) =>
    api().put(`/v1/registry/iris/aliases/${alias}`).set(auth(tenant.apiKey)).send({ version });

  beforeAll(async () => {
    other = await spawnApi(service.ctx.env);
    tenant = await createTenant(service.app, 'registry');
    const datasetId = await uploadIris(service.app, tenant.apiKey);
    // Two jobs for one name, submitted together: they train side by side and finish close together.
    const body = (seed: number, epochs: number) => ({
      datasetId,
      model: irisNetwork,
      training: { optimizer: { type: 'adam', learningRate: 0.02 }, epochs, batchSize: 16, validationSplit: 0.2, seed },
      modelName: 'iris',
    });
    const jobs = await Promise.all([postJob(service.app, tenant.apiKey, body(1, 60)), postJob(other.url, tenant.apiKey, body(2, 80))]);
    const done = await Promise.all(jobs.map((id) => waitForJob(service.app, tenant.apiKey, id, (j) => j.status === 'succeeded', `job ${id} to succeed`, 120_000)));
    models = done.map((j) => j.modelId!);
  }, 180_000);
  afterAll(async () => {
    await other?.stop();
  });

  it('registers each succeeded job as the next version, with its evaluation', async () => {
    const res = await B().get('/v1/registry/iris').set(auth(tenant.apiKey));
    expect(res.status, res.text).toBe(200);
    expect(res.body.name).toBe('iris');
    expect(res.body.latestVersion).toBe(2);
    expect(res.body.aliases).toEqual({});
    expect(res.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect(res.body.versions.map((v: { modelId: string }) => v.modelId).sort()).toEqual([...models].sort());
    for (const v of res.body.versions) {
      expect(v.evaluation.kind).toBe('classification');
      expect(v.evaluation.on).toBe('validation');
      expect(v.evaluation.accuracy).toBeGreaterThan(0.7);
      expect(Date.parse(v.createdAt)).not.toBeNaN();
    }
    const list = await A().get('/v1/registry').set(auth(tenant.apiKey));
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([{ name: 'iris', latestVersion: 2, versions: 2, aliases: {}, createdAt: res.body.createdAt }]);
  });

  it('predicts by name like predict by id, with the latest version by default, on held-out Iris rows', async () => {
    const registry = (await A().get('/v1/registry/iris').set(auth(tenant.apiKey))).body;
    const latest = registry.versions[1];
    const res = await predictByName(B);
    expect(res.status, res.text).toBe(200);
    expect(res.body.version).toBe(2);
    expect(res.body.modelId).toBe(latest.modelId);
    const byId = await B().post(`/v1/models/${latest.modelId}/predict`).set(auth(tenant.apiKey)).send({ inputs });
    expect(byId.status).toBe(200);
    expect(res.body.outputs).toEqual(byId.body.outputs);
    expect(res.body.labels).toEqual(byId.body.labels);
    const correct = res.body.labels.filter((label: string, i: number) => label === species[i]).length;
    expect(correct / species.length).toBeGreaterThan(0.8);

    const v1 = await predictByName(A, { version: 1 });
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject({ version: 1, modelId: registry.versions[0].modelId });
  });

  it('an alias moved through one API process holds on the other from the next request', async () => {
    const { versions } = (await A().get('/v1/registry/iris').set(auth(tenant.apiKey))).body;
    const modelOf = (version: number) => versions[version - 1].modelId;
    // Alternate the API that moves the alias and the one that predicts, with no pause in between.
    for (const [step, [mover, predictor, version]] of ([[A, B, 1], [B, A, 2], [A, B, 1], [B, A, 1], [A, B, 2]] as const).entries()) {
      const moved = await setAlias(mover, 'production', version);
      // Created the first time (with its address), moved after.
      expect(moved.status, moved.text).toBe(step === 0 ? 201 : 200);
      expect(moved.headers.location).toBe(step === 0 ? '/v1/registry/iris/aliases/production' : undefined);
      expect(moved.body).toEqual({ name: 'iris', alias: 'production', version, modelId: modelOf(version) });
      const res = await predictByName(predictor);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ version, modelId: modelOf(version) });
      expect((await predictByName(predictor, { alias: 'production' })).body.version).toBe(version);
    }
    expect((await setAlias(B, 'staging', 1)).status).toBe(201);
    expect((await predictByName(A, { alias: 'staging' })).body.version).toBe(1);
    const shown = await B().get('/v1/registry/iris').set(auth(tenant.apiKey));
    expect(shown.body.aliases).toEqual({ production: 2, staging: 1 });
    // DELETE /v1/models/:id answers 409 with these while they point to the model.
    expect(await service.app.repos.registry.aliasesPointingTo(tenant.id, modelOf(1))).toEqual(['iris@staging']);
    expect(await service.app.repos.registry.aliasesPointingTo(tenant.id, modelOf(2))).toEqual(['iris@production']);

    // Without production the default is the latest version again; a deleted alias is gone on both processes.
    expect((await setAlias(A, 'production', 1)).status).toBe(200);
    expect((await predictByName(B)).body.version).toBe(1);
    const removed = await A().delete('/v1/registry/iris/aliases/production').set(auth(tenant.apiKey));
    expect(removed.status).toBe(204);
    expect((await B().delete('/v1/registry/iris/aliases/production').set(auth(tenant.apiKey))).status).toBe(404);
    expect((await predictByName(B)).body.version).toBe(2);
    const gone = await predictByName(B, { alias: 'production' });
    expect(gone.status).toBe(404);
    expect(gone.body.error).toMatchObject({ code: 'ERR_NOT_FOUND', details: { field: 'querystring.alias' } });
  });

  it('answers 4xx naming the field for unknown names, versions and aliases and bad requests', async () => {
    const unknownName = await predictByName(A, {}, 'no-such-model');
    expect(unknownName.status).toBe(404);
    expect(unknownName.body.error.details).toEqual({ field: 'name', issues: [{ field: 'name', message: unknownName.body.error.message }] });
    expect((await A().get('/v1/registry/no-such-model').set(auth(tenant.apiKey))).status).toBe(404);

    const noVersion = await setAlias(A, 'production', 9);
    expect(noVersion.status).toBe(404);
    expect(noVersion.body.error).toMatchObject({ code: 'ERR_NOT_FOUND', details: { field: 'version' } });
    expect((await predictByName(B, { version: 9 })).body.error.details).toMatchObject({ field: 'querystring.version' });

    const both = await predictByName(A, { version: 1, alias: 'staging' });
    expect(both.status).toBe(400);
    expect(both.body.error.code).toBe('ERR_VALIDATION');

    const badAlias = await setAlias(A, '1st', 1);
    expect(badAlias.status).toBe(400);
    expect(badAlias.body.error.message).toMatch(/alias/);
    const badVersion = await setAlias(A, 'production', 0);
    expect(badVersion.status).toBe(400);
    expect(badVersion.body.error.message).toMatch(/version/);
    const badName = await A().post('/v1/jobs').set(auth(tenant.apiKey)).send({ datasetId: randomUUID(), model: irisNetwork, modelName: 'has space' });
    expect(badName.status).toBe(400);
    expect(badName.body.error.message).toMatch(/modelName/);
  });

  it('an import with modelName becomes the next version at once', async () => {
    const exported = await A().get(`/v1/models/${models[0]}/export`).set(auth(tenant.apiKey));
    expect(exported.status).toBe(200);
    const imported = await B().post('/v1/models').set(auth(tenant.apiKey)).send({ ...exported.body, modelName: 'iris' });
    expect(imported.status, imported.text).toBe(201);
    const registry = (await A().get('/v1/registry/iris').set(auth(tenant.apiKey))).body;
    expect(registry.versions.at(-1)).toMatchObject({ version: 3, modelId: imported.body.id, evaluation: null });
    const res = await predictByName(A, { version: 3 });
    const original = await predictByName(A, { version: registry.versions.find((v: { modelId: string }) => v.modelId === models[0]).version });
    expect(res.body.labels).toEqual(original.body.labels);
  });

  it('hands out consecutive versions to models registered at the same time', async () => {
    const spec = { inputSize: 4, ...irisNetwork, layers: irisNetwork.layers.map((l) => ({ ...l })) };
    const weights = JSON.parse(JSON.stringify(serializeModel(createNetwork(spec, 1))));
    const ids = Array.from({ length: 12 }, () => randomUUID());
    const db = service.app.db;
    // Each in its own transaction, as recordFinal and import do: stored and registered together.
    const versions = await Promise.all(
      ids.map((id) =>
        db.$transaction(async (tx) => {
          await tx.model.create({
            data: {
              id,
              tenantId: tenant.id,
              spec,
              preprocessing: { standardize: false },
              features: IRIS_COLUMNS.slice(0, 4),
              targets: ['species'],
              classes: ['setosa', 'versicolor', 'virginica'],
              metrics: { epochs: 0, loss: null, valLoss: null, accuracy: null, valAccuracy: null },
              weights,
            },
          });
          return registerVersion(tx, tenant.id, 'race', id);
        }),
      ),
    );
    expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const registry = (await B().get('/v1/registry/race').set(auth(tenant.apiKey))).body;
    expect(registry.versions.map((v: { version: number }) => v.version)).toEqual(versions.slice().sort((a, b) => a - b));
    expect(Object.fromEntries(registry.versions.map((v: { version: number; modelId: string }) => [v.version, v.modelId]))).toEqual(
      Object.fromEntries(ids.map((id, i) => [versions[i], id])),
    );
  });

  it('an alias set while its model is being deleted waits for the delete, then finds no version', async () => {
    const { versions } = (await A().get('/v1/registry/race').set(auth(tenant.apiKey))).body;
    const { version, modelId } = versions.at(-1);
    let settled = false;
    const aliasSet = await service.app.db.$transaction(async (tx) => {
      expect(await aliasesPointingTo(tx, tenant.id, modelId)).toEqual([]);
      // Another connection tries to point an alias at the version while the delete holds it.
      const pending = service.app.repos.registry.setAlias(tenant.id, 'race', 'production', version).finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 500));
      expect(settled).toBe(false);
      await tx.model.delete({ where: { id: modelId } });
      return { pending };
    });
    expect(await aliasSet.pending).toEqual({ found: false, missing: 'version' });
    const after = (await B().get('/v1/registry/race').set(auth(tenant.apiKey))).body;
    expect(after.aliases).toEqual({});
    expect(after.versions.map((v: { version: number }) => v.version)).not.toContain(version);
  });

  it("another tenant sees no names and gets 404 for this tenant's", async () => {
    const stranger = await createTenant(service.app, 'stranger');
    expect((await B().get('/v1/registry').set(auth(stranger.apiKey))).body).toEqual({ items: [] });
    expect((await B().get('/v1/registry/iris').set(auth(stranger.apiKey))).status).toBe(404);
    expect((await B().post('/v1/registry/iris/predict').set(auth(stranger.apiKey)).send({ inputs })).status).toBe(404);
    expect((await A().put('/v1/registry/iris/aliases/production').set(auth(stranger.apiKey)).send({ version: 1 })).status).toBe(404);
    expect((await A().delete('/v1/registry/iris/aliases/staging').set(auth(stranger.apiKey))).status).toBe(404);
    // Its own name of the same spelling is its own.
    expect((await A().get('/v1/registry/iris').set(auth(tenant.apiKey))).body.aliases).toEqual({ staging: 1 });
  });

  it('backprop alias moves an alias, and predictions by name on the other API follow', async () => {
    const env = { BACKPROP_URL: other.url, BACKPROP_API_KEY: tenant.apiKey };
    for (const version of [2, 1]) {
      const run = await runCli(['alias', 'iris', 'production', String(version)], env);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^iris@production -> version ${version} \\(model [0-9a-f-]{36}\\)\n$`));
      expect((await predictByName(A)).body.version).toBe(version);
    }
    const missing = await runCli(['alias', 'iris', 'production', '9'], env);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('ERR_NOT_FOUND: version: iris has no version 9');
    const notANumber = await runCli(['alias', 'iris', 'production', 'latest'], env);
    expect(notANumber.code).not.toBe(0);
    expect(notANumber.stderr).toMatch(/<version> must be a version number/);
  });
});
