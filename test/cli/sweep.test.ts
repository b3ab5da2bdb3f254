// backprop sweep (the compiled CLI) against the API and a real worker: progress on stderr, the trials sorted by the
// objective, the best model's id on stdout; a bad space is the API's 422, naming the path.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth, irisNetwork } from '../helpers/fixtures.js';
import { uploadIris } from '../helpers/jobs.js';
import { runCli } from './run-cli.js';

describe('backprop sweep', () => {
  const service = useTestService({ worker: true });
  let env: Record<string, string>;
  let key: string;
  let datasetId: string;
  let dir: string;

  beforeAll(async () => {
    key = (await createTenant(service.app)).apiKey;
    datasetId = await uploadIris(service.app, key);
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    env = { BACKPROP_URL: `http://127.0.0.1:${(service.app.server.address() as { port: number }).port}`, BACKPROP_API_KEY: key };
    dir = await mkdtemp(join(tmpdir(), 'backprop-sweep-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const sweepFile = async (name: string, space: object) => {
    const path = join(dir, name);
    await writeFile(path, JSON.stringify({
      base: { model: irisNetwork, training: { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 9, validationSplit: 0.2, seed: 2 } },
      space,
      strategy: 'halving',
      trials: 6,
      halving: { eta: 2 },
      parallelism: 2,
    }));
    return path;
  };

  it('follows a halving sweep and prints the best model id', async () => {
    const run = await runCli(['sweep', await sweepFile('ok.json', { 'training.optimizer.learningRate': { logUniform: [0.001, 0.1] } }), '--dataset', datasetId], env);
    expect(run.code, run.stderr).toBe(0);
    const sweepId = run.stderr.match(/sweep ([0-9a-f-]{36}): 6 halving trials, valLoss \(lower is better\)/)?.[1];
    expect(sweepId, run.stderr).toBeDefined();
    expect(run.stderr).toMatch(/succeeded {2}6\/6 trials done \(0 training, \d+ stopped early\) {2}rung \d\/\d {2}best valLoss/);
    const view = (await request(service.app.server).get(`/v1/sweeps/${sweepId}`).set(auth(key))).body;
    expect(run.stdout.trim()).toBe(view.best.modelId);
    // The table: a header, then the trials best first.
    const rows = run.stderr.split('\n').filter((l) => /^\s+\d+\s+\d/.test(l)).map((l) => Number(l.trim().split(/\s+/)[1]));
    expect(rows).toHaveLength(6);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
  });

  it('a bad space: the API\'s 422 naming the path, exit code 1', async () => {
    const run = await runCli(['sweep', await sweepFile('bad.json', { 'model.layers[3].units': { choice: [4] } }), '--dataset', datasetId], env);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('ERR_UNPROCESSABLE: body.space.model.layers[3].units: not in base');
  });
});
