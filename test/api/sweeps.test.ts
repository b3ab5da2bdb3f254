// Sweeps end to end over real HTTP, Postgres, Redis and a real worker process: a grid of 4 on Iris, successive halving
// of 9 draws on the penguins table (categories, missing cells), refusals of bad spaces, and cancel.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth, irisNetwork } from '../helpers/fixtures.js';
import { postJob, uploadIris, waitForJob } from '../helpers/jobs.js';
import { waitFor } from '../helpers/processes.js';
import { holdOut, penguins, rowsToCsv } from '../helpers/tables.js';

interface Trial {
  trial: number;
  params: Record<string, unknown>;
  jobId: string | null;
  rung: number;
  epochs: number;
  status: string;
  objective: number | null;
  stoppedEarly: boolean;
}
interface Sweep {
  id: string;
  status: string;
  rungEpochs: number[];
  trials: Trial[];
  best: { trial: number; jobId: string; modelId: string | null; params: Record<string, unknown>; epochs: number; objective: number } | null;
}

const ended = (s: string) => s === 'succeeded' || s === 'failed' || s === 'cancelled';

describe('sweeps through the API and a real worker', () => {
  const service = useTestService({ worker: true, audit: true, env: { TENANT_MAX_CONCURRENT_JOBS: '3', RECONCILE_INTERVAL_MS: '1000' } });
  let key: string;
  let iris: string;
  const http = () => request(service.app.server);
  const getSweep = async (id: string) => {
    const res = await http().get(`/v1/sweeps/${id}`).set(auth(key));
    expect(res.status, res.text).toBe(200);
    return res.body as Sweep;
  };
  const waitForSweep = (id: string, timeoutMs = 120_000) =>
    waitFor(`sweep ${id} to end`, async () => {
      const sweep = await getSweep(id);
      return ended(sweep.status) ? sweep : undefined;
    }, timeoutMs, 200);
  const irisBase = (epochs: number) => ({
    model: irisNetwork,
    training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs, batchSize: 16, validationSplit: 0.2, seed: 5 },
  });

  beforeAll(async () => {
    key = (await createTenant(service.app)).apiKey;
    iris = await uploadIris(service.app, key);
  });

  it('a grid of 4 trials: each an ordinary job of the sweep, all succeed, the best is the lowest validation loss', async () => {
    const res = await http()
      .post('/v1/sweeps')
      .set(auth(key))
      .send({
        datasetId: iris,
        base: irisBase(6),
        space: { 'training.optimizer.learningRate': { choice: [0.003, 0.03] }, 'model.layers[0].units': { choice: [4, 16] } },
        strategy: 'grid',
        parallelism: 2,
        objective: 'valLoss',
      });
    expect(res.status, res.text).toBe(202);
    expect(res.headers.location).toBe(`/v1/sweeps/${res.body.id}`);
    expect(res.body.trials.map((t: Trial) => t.params)).toEqual([
      { 'training.optimizer.learningRate': 0.003, 'model.layers[0].units': 4 },
      { 'training.optimizer.learningRate': 0.003, 'model.layers[0].units': 16 },
      { 'training.optimizer.learningRate': 0.03, 'model.layers[0].units': 4 },
      { 'training.optimizer.learningRate': 0.03, 'model.layers[0].units': 16 },
    ]);
    // parallelism 2: the first two trials are made at once, the others wait for them.
    expect(res.body.trials.filter((t: Trial) => t.jobId !== null)).toHaveLength(2);

    const sweep = await waitForSweep(res.body.id);
    expect(sweep.status).toBe('succeeded');
    // Paths keep the order they were sent in (Postgres' JSONB would sort them by length).
    const paths = ['training.optimizer.learningRate', 'model.layers[0].units'];
    expect(Object.keys((sweep as unknown as { request: { space: object } }).request.space)).toEqual(paths);
    for (const trial of sweep.trials) expect(Object.keys(trial.params)).toEqual(paths);
    expect(sweep.trials.every((t) => t.status === 'succeeded' && t.objective !== null && !t.stoppedEarly)).toBe(true);
    const lowest = Math.min(...sweep.trials.map((t) => t.objective!));
    expect(sweep.best).toMatchObject({ objective: lowest, epochs: 6 });
    const bestTrial = sweep.trials.find((t) => t.jobId === sweep.best!.jobId)!;
    expect(sweep.best!.params).toEqual(bestTrial.params);

    // Each trial is a job like any other, with its sweep, its settings and its model.
    const job = await http().get(`/v1/jobs/${sweep.best!.jobId}`).set(auth(key));
    expect(job.body).toMatchObject({ status: 'succeeded', sweepId: sweep.id, modelId: sweep.best!.modelId, valLoss: lowest });
    expect(job.body.settings.model.layers[0].units).toBe(bestTrial.params['model.layers[0].units']);
    expect(job.body.settings.training.optimizer.learningRate).toBe(bestTrial.params['training.optimizer.learningRate']);
    // At most `parallelism` of its jobs ever trained at once.
    const spans = await service.audit.query<{ startedAt: Date; finishedAt: Date }>(
      'SELECT "startedAt", "finishedAt" FROM "Job" WHERE "sweepId" = $1', [sweep.id]);
    for (const a of spans) expect(spans.filter((b) => b.startedAt <= a.startedAt && b.finishedAt > a.startedAt).length).toBeLessThanOrEqual(2);

    const trialJobs = await http().get('/v1/jobs').query({ sweepId: sweep.id }).set(auth(key));
    expect(trialJobs.body.items.map((j: { id: string }) => j.id).sort()).toEqual(sweep.trials.map((t) => t.jobId).sort());
    const list = await http().get('/v1/sweeps').query({ limit: 1 }).set(auth(key));
    expect(list.status).toBe(200);
    expect(list.body.items.map((s: Sweep) => s.id)).toEqual([sweep.id]);
  });

  it('halving over 9 draws on the penguins table: most trials stop early, the best beats the base configuration', async () => {
    const { train } = holdOut(penguins());
    const upload = await http().post('/v1/datasets').query({ name: 'penguins', target: 'Species' }).set(auth(key)).set('content-type', 'text/csv').send(rowsToCsv(train));
    expect(upload.status, upload.text).toBe(201);
    const base = {
      model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' },
      training: { optimizer: { type: 'sgd', learningRate: 0.002 }, epochs: 9, batchSize: 16, validationSplit: 0.25, seed: 11 },
    };
    const res = await http()
      .post('/v1/sweeps')
      .set(auth(key))
      .send({
        datasetId: upload.body.id,
        base,
        space: { 'training.optimizer.learningRate': { logUniform: [0.002, 0.3] }, 'model.layers[0].units': { intRange: [4, 24] } },
        strategy: 'halving',
        trials: 9,
        parallelism: 3,
        objective: 'valLoss',
      });
    expect(res.status, res.text).toBe(202);
    expect(res.body.rungEpochs).toEqual([1, 3, 9]);
    // The base configuration as a job of its own, for the whole 9 epochs.
    const baseJob = await postJob(service.app, key, { datasetId: upload.body.id, ...base });

    const sweep = await waitForSweep(res.body.id);
    expect(sweep.status).toBe('succeeded');
    const stopped = sweep.trials.filter((t) => t.stoppedEarly);
    expect(stopped.length).toBeGreaterThanOrEqual(Math.ceil(9 / 2));
    expect(sweep.trials.filter((t) => t.rung === 2)).toHaveLength(1);
    expect(sweep.trials.filter((t) => t.rung >= 1)).toHaveLength(3);
    // Promoted trials were the best of their rung: every trial stopped at rung 0 did worse there than each promoted one.
    const rung0 = await service.audit.query<{ sweepTrial: number; valLoss: number }>(
      'SELECT "sweepTrial", "valLoss" FROM "Job" WHERE "sweepId" = $1 AND "sweepRung" = 0', [sweep.id]);
    const promotedTrials = new Set(sweep.trials.filter((t) => t.rung >= 1).map((t) => t.trial));
    const worstPromoted = Math.max(...rung0.filter((r) => promotedTrials.has(r.sweepTrial)).map((r) => r.valLoss));
    for (const r of rung0.filter((r) => !promotedTrials.has(r.sweepTrial))) expect(r.valLoss).toBeGreaterThanOrEqual(worstPromoted);

    const baseDone = await waitForJob(service.app, key, baseJob, (j) => ended(j.status), 'the base job to end');
    expect(baseDone.status).toBe('succeeded');
    const baseValLoss = (await http().get(`/v1/jobs/${baseJob}`).set(auth(key))).body.valLoss as number;
    console.log(
      `[figures] halving 9 on penguins (rungs ${sweep.rungEpochs.join('/')} epochs): best valLoss ${sweep.best!.objective.toFixed(4)} ` +
        `(trial ${sweep.best!.trial}, ${JSON.stringify(sweep.best!.params)}), base configuration ${baseValLoss.toFixed(4)}; ${stopped.length} of 9 stopped early`,
    );
    expect(sweep.best!.objective).toBeLessThanOrEqual(baseValLoss);
    // Every trial job ran once: one job per (trial, rung), each with one model.
    const counts = await service.audit.query<{ n: string; models: string }>(
      'SELECT count(*) AS n, count(m.id) AS models FROM "Job" j LEFT JOIN "Model" m ON m."jobId" = j.id WHERE j."sweepId" = $1', [sweep.id]);
    expect(Number(counts[0].n)).toBe(9 + 3 + 1);
    expect(Number(counts[0].models)).toBe(13);
  });

  it('an evaluation figure as the objective: macroF1 from each trial\'s model, higher is better', async () => {
    const res = await http()
      .post('/v1/sweeps')
      .set(auth(key))
      .send({ datasetId: iris, base: irisBase(4), space: { 'model.layers[0].units': { choice: [2, 12] } }, strategy: 'grid', objective: 'macroF1' });
    expect(res.status, res.text).toBe(202);
    expect(res.body.direction).toBe('max');
    const sweep = await waitForSweep(res.body.id);
    expect(sweep.status).toBe('succeeded');
    for (const trial of sweep.trials) {
      const modelId = (await http().get(`/v1/jobs/${trial.jobId}`).set(auth(key))).body.modelId;
      const model = await http().get(`/v1/models/${modelId}`).set(auth(key));
      expect(trial.objective).toBe(model.body.evaluation.macroF1);
    }
    expect(sweep.best!.objective).toBe(Math.max(...sweep.trials.map((t) => t.objective!)));
  });

  it('refuses bad spaces with a 422 naming the path', async () => {
    const send = (space: object, extra: object = {}) =>
      http().post('/v1/sweeps').set(auth(key)).send({ datasetId: iris, base: irisBase(3), space, strategy: 'random', trials: 3, ...extra });
    const cases: [object, string, object?][] = [
      [{ 'model.layers[5].units': { choice: [4] } }, 'body.space.model.layers[5].units'],
      [{ 'training.optimizer.momentum': { uniform: [0, 0.9] } }, 'body.space.training.optimizer.momentum'],
      [{ 'training.optimizer.learningRate': { choice: [] } }, 'body.space.training.optimizer.learningRate'],
      [{ 'training.optimizer.learningRate': { uniform: [0.1, 0.01] } }, 'body.space.training.optimizer.learningRate'],
      [{ 'model.layers[0].units': { intRange: [0, 8] } }, 'body.space.model.layers[0].units'],
      [{ 'model.layers[1].units': { choice: [4] } }, 'body.space.model.layers[1].units'],
      [{ 'training.optimizer.learningRate': { uniform: [0.01, 0.1] } }, 'body.space.training.optimizer.learningRate', { strategy: 'grid', trials: undefined }],
      [{ 'model.layers[0].units': { choice: [...Array(101).keys()].map((i) => i + 1) } }, 'body.space', { strategy: 'grid', trials: undefined }],
      [{ 'model.layers[0].units': { choice: [4] } }, 'body.trials', { trials: 101 }],
      [{ 'model.layers[0].units': { choice: [4] } }, 'body.objective', { objective: 'rmse' }],
    ];
    for (const [space, field, extra] of cases) {
      const res = await send(space, extra);
      expect(res.status, `${JSON.stringify(space)}: ${res.text}`).toBe(422);
      expect(res.body.error.details.field, res.text).toBe(field);
      expect(res.body.error.message.startsWith(field), res.text).toBe(true);
      expect(res.body.error.details.issues[0].field).toBe(field);
    }
    // Nothing was stored for them.
    const stored = await service.audit.query<{ n: string }>('SELECT count(*) AS n FROM "Sweep" WHERE "strategy" = $1', ['random']);
    expect(Number(stored[0].n)).toBe(0);
  });

  it('cancel: no further trial is made, the unfinished ones are cancelled; another tenant gets 404', async () => {
    const res = await http()
      .post('/v1/sweeps')
      .set(auth(key))
      .send({ datasetId: iris, base: irisBase(2000), space: { 'training.optimizer.learningRate': { logUniform: [0.001, 0.1] } }, strategy: 'random', trials: 6, parallelism: 1 });
    expect(res.status, res.text).toBe(202);
    const id = res.body.id as string;
    const other = (await createTenant(service.app, 'other')).apiKey;
    expect((await http().get(`/v1/sweeps/${id}`).set(auth(other))).status).toBe(404);
    expect((await http().post(`/v1/sweeps/${id}/cancel`).set(auth(other))).status).toBe(404);

    await waitFor('the first trial to train', async () => (await getSweep(id)).trials[0].status === 'running');
    const cancelled = await http().post(`/v1/sweeps/${id}/cancel`).set(auth(key));
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.trials.map((t: Trial) => t.status)).toEqual(Array(6).fill('cancelled'));
    // Like a job's, a second cancel answers the cancelled sweep again.
    expect((await http().post(`/v1/sweeps/${id}/cancel`).set(auth(key))).body.status).toBe('cancelled');
    const jobs = await service.audit.query<{ status: string }>('SELECT status FROM "Job" WHERE "sweepId" = $1', [id]);
    expect(jobs.map((j) => j.status)).toEqual(['cancelled']);
    // A reconcile pass later, still nothing new.
    await waitFor('the cancelled run to end', async () => (await service.audit.query<{ n: number }>('SELECT "unfinishedRuns" AS n FROM "Job" WHERE "sweepId" = $1', [id]))[0].n === 0);
    expect(await service.audit.query('SELECT id FROM "Job" WHERE "sweepId" = $1', [id])).toHaveLength(1);
  });

  it('random sweeps draw the same trials from the same seed (base.training.seed), and a new seed without one', async () => {
    const body = (seed?: number) => ({
      datasetId: iris,
      base: { model: irisNetwork, training: { epochs: 2000, validationSplit: 0.2, ...(seed === undefined ? {} : { seed }) } },
      space: { 'training.optimizer.learningRate': { logUniform: [0.001, 0.1] }, 'model.layers[0].units': { intRange: [2, 32] } },
      strategy: 'random',
      trials: 5,
      parallelism: 1,
    });
    const sweeps: Sweep[] = [];
    for (const seed of [9, 9, undefined]) {
      const res = await http().post('/v1/sweeps').set(auth(key)).send(body(seed));
      expect(res.status, res.text).toBe(202);
      sweeps.push(res.body);
      expect((await http().post(`/v1/sweeps/${res.body.id}/cancel`).set(auth(key))).body.status).toBe('cancelled');
    }
    const params = sweeps.map((s) => s.trials.map((t) => t.params));
    expect(params[1]).toEqual(params[0]);
    expect(params[2]).not.toEqual(params[0]);
  });
});
