// Scale-out: two API processes and three worker processes on one Postgres and one Redis. Thirty jobs from three
// tenants; in the middle one worker is SIGKILLed and one API restarted. Every job succeeds exactly once (one model,
// one metric row per epoch), the event streams, followed through either API and resumed on the other with
// Last-Event-ID when theirs goes away, carry every epoch once and in order, and a tenant's budget holds across both APIs.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../helpers/app.js';
import { ADMIN_KEY, createTestContext, type TestContext } from '../helpers/env.js';
import { auth } from '../helpers/fixtures.js';
import { epochsUpTo, inspectDatabase, type Inspector } from '../helpers/inspect.js';
import { submitJob, uploadSlowDataset } from '../helpers/jobs.js';
import { spawnApi, spawnWorker, waitFor, workerHealth, type Spawned, type WorkerProcess } from '../helpers/processes.js';
import { openEventStream } from '../helpers/sse.js';

const JOBS_PER_TENANT = 10;
/** At least 17 ms an epoch (helpers/jobs.ts): a job trains for most of a second or more, so the SIGKILL lands mid-run. */
const EPOCHS = 40;

type Api = Spawned & { url: string };

describe('two APIs, three workers, one Postgres and one Redis', () => {
  let ctx: TestContext;
  let audit: Inspector;
  const apis: Api[] = [];
  const workers: WorkerProcess[] = [];
  const everything: Spawned[] = [];

  beforeAll(async () => {
    // A dead worker's jobs go back to the queue within about 3 s; one training thread per worker on a 2-core host.
    ctx = await createTestContext({ JOB_LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000', WORKER_CONCURRENCY: '1', AUTH_CACHE_TTL_MS: '200' });
    audit = await inspectDatabase(ctx.db.url);
    for (let i = 0; i < 2; i++) apis.push(await spawnApi(ctx.env));
    for (let i = 0; i < 3; i++) workers.push(await spawnWorker(ctx.env));
    everything.push(...apis, ...workers);
  });
  afterAll(async () => {
    for (const p of everything) await p.kill();
    await audit?.close();
    await ctx?.cleanup();
  });

  /** An API that is up: the stopped one leaves `apis` and its replacement joins, so index i always names a live process. */
  const api = (i: number) => apis[i % apis.length].url;

  /**
   * Follows a job's events until its end, starting on API `first` and moving to the other API (with Last-Event-ID)
   * whenever a stream ends without the end event or cannot be opened. Returns the epochs received, in order.
   */
  async function follow(jobId: string, key: string, first: number): Promise<{ epochs: number[]; end: { status: string }; streams: number }> {
    const epochs: number[] = [];
    let lastId: string | undefined;
    for (let attempt = 0, which = first; attempt < 20; attempt++, which++) {
      try {
        const stream = await openEventStream(`${api(which)}/v1/jobs/${jobId}/events`, { ...auth(key), ...(lastId ? { 'last-event-id': lastId } : {}) });
        if (stream.response.status !== 200) throw new Error(`events answered ${stream.response.status}`);
        for (;;) {
          const block = await stream.next(60_000);
          if (!block) break; // the API went away: go on elsewhere
          if (block.id !== undefined) lastId = block.id;
          if (block.event === 'epoch') epochs.push(JSON.parse(block.data!).epoch);
          if (block.event === 'end') {
            stream.close();
            return { epochs, end: JSON.parse(block.data!), streams: attempt + 1 };
          }
        }
      } catch {
        await new Promise((r) => setTimeout(r, 200)); // refused while restarting, or cut: try the other API
      }
    }
    throw new Error(`job ${jobId}: no end event after 20 streams`);
  }

  it('30 jobs from 3 tenants succeed exactly once through a worker SIGKILL and an API restart; streams carry every epoch', async () => {
    const tenants = [];
    for (let t = 0; t < 3; t++) {
      const tenant = await createTenant(api(t), `tenant-${t}`);
      tenants.push({ ...tenant, datasetId: await uploadSlowDataset(api(t + 1), tenant.apiKey) });
    }
    const jobs: { id: string; key: string }[] = [];
    for (let j = 0; j < JOBS_PER_TENANT; j++) {
      for (const [t, tenant] of tenants.entries()) {
        jobs.push({ id: await submitJob(api(j + t), tenant.apiKey, tenant.datasetId, EPOCHS, { checkpointEvery: 5 }), key: tenant.apiKey });
      }
    }
    const followed = jobs.map((job, i) => follow(job.id, job.key, i));

    // In the middle: a worker that is training is killed and one API is stopped (its streams move to the other);
    // then the API comes back. The kill comes first: on a quiet machine the batch takes seconds, and stopping an API
    // with thirty streams open could outlast the jobs still running.
    const succeeded = async () => Number((await audit.query<{ n: string }>(`SELECT count(*) AS n FROM "Job" WHERE status = 'succeeded'`))[0].n);
    await waitFor('some jobs to succeed', async () => (await succeeded()) >= 3, 120_000);
    const busy = await waitFor('a worker with a job', async () => {
      for (const worker of workers) if ((await workerHealth(worker)).activeJobs > 0) return worker;
      return undefined;
    });
    await busy.kill();
    expect(await succeeded()).toBeLessThan(jobs.length);
    await apis[1].stop();
    apis.splice(1, 1);
    apis.push(await spawnApi(ctx.env));
    everything.push(apis[1]);

    const results = await Promise.all(followed);
    for (const [i, result] of results.entries()) {
      expect(result.end.status, jobs[i].id).toBe('succeeded');
      expect(result.epochs, jobs[i].id).toEqual(epochsUpTo(EPOCHS));
    }
    for (const job of jobs) {
      expect((await audit.job(job.id))?.status).toBe('succeeded');
      expect(await audit.modelCount(job.id)).toBe(1);
      expect(await audit.metricEpochs(job.id)).toEqual(epochsUpTo(EPOCHS));
    }
    // Streams of the stopped API were resumed on the other one...
    expect(results.filter((r) => r.streams > 1).length).toBeGreaterThan(0);
    // ...and the killed worker's job was run again by another worker (a second run started on it), and still
    // succeeded once; no job failed.
    const statuses = await audit.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM "Job" GROUP BY status');
    expect(statuses).toEqual([{ status: 'succeeded', n: String(jobs.length) }]);
    const rerun = await audit.query<{ id: string }>('SELECT id FROM "Job" WHERE "unfinishedRuns" >= 2');
    expect(rerun.length).toBeGreaterThanOrEqual(1);
  }, 300_000);

  it("a tenant's budgets hold across both APIs", async () => {
    const tenant = await createTenant(api(0), 'limited');
    const budget = 10;
    const set = await request(api(1)).patch(`/v1/tenants/${tenant.id}/rate-limits`).set(auth(ADMIN_KEY)).send({ requests: budget });
    expect(set.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300)); // AUTH_CACHE_TTL_MS on the API that did not answer
    const statuses = await Promise.all(Array.from({ length: 2 * budget }, (_, i) => request(api(i)).get('/v1/datasets').set(auth(tenant.apiKey)).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(budget);
    expect(statuses.filter((s) => s === 429)).toHaveLength(budget);
  });
});
