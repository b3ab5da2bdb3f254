// GET /v1/jobs/:id/events against real Postgres, Redis and a worker process: the snapshot, one event per epoch, the
// end; resuming with Last-Event-ID on a second API instance, which can only have heard of the job through Redis;
// pings; a cancellation; tenant isolation.
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createTenant, useTestService } from '../helpers/app.js';
import { auth } from '../helpers/fixtures.js';
import { getJob, submitJob, uploadSlowDataset, waitForJob } from '../helpers/jobs.js';
import { openEventStream, type StreamBlock } from '../helpers/sse.js';

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

const data = (block: StreamBlock) => JSON.parse(block.data!);
const epochsOf = (blocks: StreamBlock[]) => blocks.filter((b) => b.event === 'epoch').map((b) => data(b).epoch as number);

describe('job events (Server-Sent Events)', () => {
  const service = useTestService({ env: { EVENTS_PING_INTERVAL_MS: '300' }, worker: true });
  let second: FastifyInstance;
  let firstUrl: string;
  let secondUrl: string;
  let key: string;
  let datasetId: string;

  beforeAll(async () => {
    // The second process re-reads Postgres only once a minute: what it relays live can only come through Redis.
    second = await buildTestApp({ ...service.ctx.config, EVENTS_PING_INTERVAL_MS: 60_000 });
    firstUrl = await listen(service.app);
    secondUrl = await listen(second);
    key = (await createTenant(service.app)).apiKey;
    datasetId = await uploadSlowDataset(service.app, key);
  });
  afterAll(async () => {
    await second?.close();
  });

  it('streams a status snapshot, each epoch with its id and ETA, then the end; resumes on another API process from Last-Event-ID', async () => {
    // Enough epochs that the job is still running when the second stream connects after epoch 4, even at about
    // 17 ms an epoch (a quiet machine).
    const epochs = 60;
    const jobId = await submitJob(service.app, key, datasetId, epochs);

    const live = await openEventStream(`${firstUrl}/v1/jobs/${jobId}/events`, auth(key));
    expect(live.response.status).toBe(200);
    expect(live.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(live.response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(live.response.headers.get('x-accel-buffering')).toBe('no');
    expect(live.response.headers.get('content-encoding')).toBeNull();

    const opening = await live.next();
    expect(opening).toMatchObject({ id: '0', event: 'status' });
    expect(data(opening!)).toMatchObject({ epoch: 0, epochs });
    expect(['queued', 'running']).toContain(data(opening!).status);

    const before = await live.readUntil((b) => b.event === 'epoch' && data(b).epoch === 4);
    live.close();
    expect(epochsOf(before)).toEqual([1, 2, 3, 4]);
    for (const block of before.filter((b) => b.event === 'epoch')) {
      const event = data(block);
      expect(block.id).toBe(String(event.epoch));
      expect(event).toMatchObject({ epochs, loss: expect.any(Number), valLoss: null, ms: expect.any(Number) });
      expect(event.etaSeconds).toBeGreaterThan(0);
    }

    // The second API process never saw this job: everything it sends comes from Postgres and Redis.
    const resumed = await openEventStream(`${secondUrl}/v1/jobs/${jobId}/events`, { ...auth(key), 'last-event-id': '4' });
    const after = await resumed.readUntil((b) => b.event === 'end', 20_000);
    expect(await resumed.next()).toBeNull(); // the server closes the stream after the end
    expect(after[0]).toMatchObject({ id: '4', event: 'status' });
    // Still running when it connected, so its end (and the epochs before it) came live, through Redis.
    expect(data(after[0]).status).toBe('running');
    expect(epochsOf(after)).toEqual(Array.from({ length: epochs - 4 }, (_, i) => i + 5));
    const last = after.filter((b) => b.event === 'epoch').at(-1)!;
    expect(data(last).etaSeconds).toBe(0);
    const end = after.at(-1)!;
    const job = await getJob(service.app, key, jobId);
    expect(end).toMatchObject({ id: String(epochs), event: 'end' });
    expect(job.modelId).toEqual(expect.any(String));
    // The end carries the model's figures, as GET /v1/models/:id shows them (a regression without a validation split).
    const model = await request(service.app.server).get(`/v1/models/${job.modelId}`).set(auth(key));
    expect(data(end)).toEqual({ status: 'succeeded', modelId: job.modelId, error: null, evaluation: model.body.evaluation });
    expect(model.body.evaluation).toMatchObject({ kind: 'regression', on: 'training' });

    // The events carry what Postgres has.
    const metrics = await request(service.app.server).get(`/v1/jobs/${jobId}/metrics`).set(auth(key));
    const losses = [...before, ...after].filter((b) => b.event === 'epoch').map((b) => data(b).loss);
    expect(losses).toEqual(metrics.body.items.map((m: { loss: number }) => m.loss));
  });

  it('replays a finished job from the start and ends at once', async () => {
    const jobId = await submitJob(service.app, key, datasetId, 3);
    await waitForJob(service.app, key, jobId, (j) => j.status === 'succeeded', 'the job to succeed');
    const stream = await openEventStream(`${secondUrl}/v1/jobs/${jobId}/events`, auth(key));
    const blocks = await stream.readUntil(() => false);
    expect(blocks.map((b) => [b.event, b.id])).toEqual([['status', '0'], ['epoch', '1'], ['epoch', '2'], ['epoch', '3'], ['end', '3']]);
    expect(data(blocks[0])).toEqual({ status: 'succeeded', epoch: 3, epochs: 3 });
  });

  it('pings an idle stream and ends it when the job is cancelled', async () => {
    const jobId = await submitJob(service.app, key, datasetId, 500);
    const stream = await openEventStream(`${firstUrl}/v1/jobs/${jobId}/events`, auth(key));
    await stream.readUntil((b) => b.event === 'epoch');
    await stream.readUntil((b) => b.comment === 'ping');
    expect((await request(service.app.server).post(`/v1/jobs/${jobId}/cancel`).set(auth(key))).status).toBe(200);
    const rest = await stream.readUntil((b) => b.event === 'end');
    expect(data(rest.at(-1)!)).toEqual({ status: 'cancelled', modelId: null, error: null, evaluation: null });
    expect(await stream.next()).toBeNull();
  });

  it("answers another tenant's job with 404, a missing key with 401 and a malformed Last-Event-ID with 400, as JSON", async () => {
    const jobId = await submitJob(service.app, key, datasetId, 1);
    const other = await createTenant(service.app, 'other');
    const cases: [Record<string, string>, number, string][] = [
      [auth(other.apiKey), 404, 'ERR_NOT_FOUND'],
      [{}, 401, 'ERR_UNAUTHORIZED'],
      [{ ...auth(key), 'last-event-id': 'abc' }, 400, 'ERR_VALIDATION'],
    ];
    for (const [headers, status, code] of cases) {
      const res = await fetch(`${secondUrl}/v1/jobs/${jobId}/events`, { headers });
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    }
  });
});
