// A worker started before the API has applied the migrations (npm run dev, two terminals, docker-compose) waits for
// the schema instead of querying columns that are not there yet, then works as usual.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { buildTestApp, createTenant } from '../helpers/app.js';
import { createTestContext, type TestContext } from '../helpers/env.js';
import { irisNetwork } from '../helpers/fixtures.js';
import { postJob, uploadIris, waitForJob } from '../helpers/jobs.js';
import { loggedEntries, spawnNode, waitFor, type Spawned } from '../helpers/processes.js';

describe('worker before migrations', () => {
  let ctx: TestContext;
  let worker: Spawned;

  beforeAll(async () => {
    ctx = await createTestContext({}, { migrate: false });
  });
  afterAll(async () => {
    await worker?.stop();
    await ctx?.cleanup();
  });

  it('waits, saying so once, until the migrations are applied; then trains', async () => {
    worker = spawnNode('dist/worker/main.js', { ...ctx.env, LOG_LEVEL: 'info' });
    await waitFor('the worker to wait for the schema', () => worker.output().includes('waiting for the database schema'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(worker.child.exitCode).toBe(null);
    expect(worker.output()).not.toContain('worker started');
    const waiting = loggedEntries(worker.output(), 'waiting for the database schema');
    expect(waiting).toHaveLength(1); // once, not once per attempt
    expect((waiting[0].pending as string[]).length).toBeGreaterThan(0);

    await migrate(ctx.db.url); // what the API does at start
    await waitFor('the worker to start', () => worker.output().includes('"worker started"'));
    expect(worker.output()).toContain('database schema is current');
    expect(worker.output()).not.toMatch(/does not exist/);

    const app = await buildTestApp(ctx.config);
    try {
      const { apiKey } = await createTenant(app);
      const datasetId = await uploadIris(app, apiKey);
      const jobId = await postJob(app, apiKey, { datasetId, model: irisNetwork, training: { epochs: 3, batchSize: 16, validationSplit: 0 } });
      await waitForJob(app, apiKey, jobId, (job) => job.status === 'succeeded', 'the job to succeed');
    } finally {
      await app.close();
    }
  });
});
