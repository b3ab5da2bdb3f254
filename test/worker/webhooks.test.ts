// Webhooks with a real worker process and a real receiver on 127.0.0.1: a job's end (succeeded, failed, cancelled)
// is POSTed once per event, signed with the tenant's secret, retried with exponential backoff after a 500, given
// up after WEBHOOK_MAX_ATTEMPTS, and every delivery is visible at GET /v1/jobs/:id/webhooks.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../../src/worker/webhook-signature.js';
import { createTenant, useTestService } from '../helpers/app.js';
import { ADMIN_KEY } from '../helpers/env.js';
import { auth, irisNetwork, syntheticRegression } from '../helpers/fixtures.js';
import { submitJob, uploadIris, uploadSlowDataset, waitForJob } from '../helpers/jobs.js';
import { waitFor } from '../helpers/processes.js';

const BACKOFF_MS = 150;
const MAX_ATTEMPTS = 3;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** Answers 500 to the first POST on each /flaky/<n> path and 200 after; /down always answers 500. */
async function startReceiver(): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const seen = received.filter((r) => r.path === path).length;
      const fail = path.startsWith('/down') || (path.startsWith('/flaky') && seen === 1);
      res.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain' }).end(fail ? 'not now' : 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, received, server };
}

describe('webhooks', () => {
  // The receiver listens on loopback, which webhooks may reach only when private addresses are allowed
  // (test/security/webhook-targets.test.ts covers the default).
  const service = useTestService({
    env: {
      WEBHOOK_BACKOFF_MS: String(BACKOFF_MS),
      WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      RECONCILE_INTERVAL_MS: '1000',
      WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
    },
    worker: true,
  });
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let tenant: { id: string; apiKey: string };
  let secret: string;
  let irisId: string;

  const deliveries = async (jobId: string) => {
    const res = await request(service.app.server).get(`/v1/jobs/${jobId}/webhooks`).set(auth(tenant.apiKey));
    expect(res.status).toBe(200);
    return res.body.items as { id: string; event: string; status: string; attempts: number; lastError: string | null; responseStatus: number | null; deliveredAt: string | null; url: string }[];
  };
  const settled = (jobId: string) =>
    waitFor('the webhook delivery to settle', async () => {
      const items = await deliveries(jobId);
      return items.length === 1 && items[0].status !== 'pending' ? items[0] : undefined;
    }, 30_000, 100);

  beforeAll(async () => {
    receiver = await startReceiver();
    tenant = await createTenant(service.app);
    const res = await request(service.app.server).post(`/v1/tenants/${tenant.id}/webhook-secret`).set(auth(ADMIN_KEY));
    expect(res.status).toBe(200);
    secret = res.body.secret;
    irisId = await uploadIris(service.app, tenant.apiKey);
  });
  afterAll(async () => {
    await new Promise((r) => receiver?.server.close(r));
  });

  it('keeps one secret per tenant, readable and replaceable with the admin key only', async () => {
    const { app } = service;
    const again = await request(app.server).get(`/v1/tenants/${tenant.id}/webhook-secret`).set(auth(ADMIN_KEY));
    expect(again.body).toEqual({ tenantId: tenant.id, secret });
    expect(secret).toMatch(/^whsec_[\w-]{43}$/);
    expect((await request(app.server).get(`/v1/tenants/${tenant.id}/webhook-secret`).set(auth(tenant.apiKey))).status).toBe(403);
    const other = await createTenant(app, 'other');
    const rotated = await request(app.server).post(`/v1/tenants/${other.id}/webhook-secret`).set(auth(ADMIN_KEY));
    const first = await request(app.server).get(`/v1/tenants/${other.id}/webhook-secret`).set(auth(ADMIN_KEY));
    expect(first.body.secret).toBe(rotated.body.secret);
    const second = await request(app.server).post(`/v1/tenants/${other.id}/webhook-secret`).set(auth(ADMIN_KEY));
    expect(second.body.secret).not.toBe(first.body.secret);
    expect(first.body.secret).not.toBe(secret);
  });

  it('POSTs the summary of a succeeded job, signed, and retries after a 500 with the same event id', async () => {
    const { app } = service;
    const job = await request(app.server)
      .post('/v1/jobs')
      .set(auth(tenant.apiKey))
      .send({ datasetId: irisId, model: irisNetwork, training: { epochs: 5, seed: 1 }, webhookUrl: `${receiver.url}/flaky/1` });
    expect(job.status).toBe(202);
    const delivery = await settled(job.body.id);
    expect(delivery).toMatchObject({ event: 'job.succeeded', status: 'delivered', attempts: 2, responseStatus: 200, lastError: 'answered HTTP 500', url: `${receiver.url}/flaky/1` });
    expect(delivery.deliveredAt).toEqual(expect.any(String));

    const calls = receiver.received.filter((r) => r.path === '/flaky/1');
    expect(calls).toHaveLength(2);
    expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(BACKOFF_MS - 10);
    for (const call of calls) {
      expect(call.headers['content-type']).toBe('application/json');
      expect(call.headers['x-event-id']).toBe(delivery.id);
      expect(call.headers['x-event-type']).toBe('job.succeeded');
      expect(call.headers['x-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(verifyWebhookSignature(secret, call.body, call.headers['x-signature'] as string)).toBe(true);
      expect(verifyWebhookSignature(secret, `${call.body} `, call.headers['x-signature'] as string)).toBe(false);
    }
    expect(calls[1].body).toBe(calls[0].body);
    const body = JSON.parse(calls[0].body);
    const view = (await request(app.server).get(`/v1/jobs/${job.body.id}`).set(auth(tenant.apiKey))).body;
    expect(body).toEqual({ id: delivery.id, type: 'job.succeeded', createdAt: expect.any(String), data: { job: view } });
    expect(view).toMatchObject({ status: 'succeeded', epoch: 5, modelId: expect.any(String) });
  });

  it('POSTs failures and cancellations too, and gives up after WEBHOOK_MAX_ATTEMPTS', async () => {
    const { app } = service;
    const { columns, rows } = syntheticRegression(200, 4);
    const diverging = await request(app.server).post('/v1/datasets').set(auth(tenant.apiKey)).send({ name: 'diverges', columns, rows, target: 'y' });
    const failing = await request(app.server)
      .post('/v1/jobs')
      .set(auth(tenant.apiKey))
      .send({
        datasetId: diverging.body.id,
        model: { layers: [{ type: 'dense', units: 8, activation: 'tanh' }, { type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' },
        training: { optimizer: { type: 'sgd', learningRate: 5, momentum: 0.9 }, epochs: 200, batchSize: 200, validationSplit: 0, seed: 1 },
        webhookUrl: `${receiver.url}/down`,
      });
    const slowId = await uploadSlowDataset(app, tenant.apiKey);
    // A job without webhookUrl: cancelled like the next one, it gets no delivery at all.
    const withoutHook = await submitJob(app, tenant.apiKey, slowId, 500);
    const withHook = await request(app.server)
      .post('/v1/jobs')
      .set(auth(tenant.apiKey))
      .send({ datasetId: slowId, model: { layers: [{ type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 1, activation: 'linear' }], loss: 'meanSquaredError' }, training: { epochs: 500, batchSize: 32 }, webhookUrl: `${receiver.url}/flaky/2` });
    await waitForJob(app, tenant.apiKey, withHook.body.id, (j) => j.status === 'running' && j.epoch >= 1, 'the job to train');
    expect((await request(app.server).post(`/v1/jobs/${withHook.body.id}/cancel`).set(auth(tenant.apiKey))).status).toBe(200);
    expect((await request(app.server).post(`/v1/jobs/${withoutHook}/cancel`).set(auth(tenant.apiKey))).status).toBe(200);

    const gaveUp = await settled(failing.body.id);
    expect(gaveUp).toMatchObject({ event: 'job.failed', status: 'failed', attempts: MAX_ATTEMPTS, responseStatus: 500, deliveredAt: null });
    const failedCalls = receiver.received.filter((r) => r.path === '/down');
    expect(failedCalls).toHaveLength(MAX_ATTEMPTS);
    // Exponential: the second gap is about twice the first.
    const [a, b, c] = failedCalls.map((r) => r.at);
    expect(b - a).toBeGreaterThanOrEqual(BACKOFF_MS - 10);
    expect(c - b).toBeGreaterThanOrEqual(2 * BACKOFF_MS - 10);
    expect(JSON.parse(failedCalls[0].body).data.job).toMatchObject({ status: 'failed', error: { code: 'ERR_TRAINING_DIVERGED' } });

    const cancellation = await settled(withHook.body.id);
    expect(cancellation).toMatchObject({ event: 'job.cancelled', status: 'delivered', attempts: 2 });
    const call = receiver.received.find((r) => r.path === '/flaky/2')!;
    expect(verifyWebhookSignature(secret, call.body, call.headers['x-signature'] as string)).toBe(true);
    expect(JSON.parse(call.body)).toMatchObject({ type: 'job.cancelled', data: { job: { id: withHook.body.id, status: 'cancelled' } } });

    expect(await deliveries(withoutHook)).toEqual([]);
    // Exactly one event per job, however many processes noticed the end.
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.received.filter((r) => r.path === '/flaky/2')).toHaveLength(2);
  });

  it('refuses a webhookUrl that is not http(s), and hides deliveries from other tenants', async () => {
    const { app } = service;
    const bad = await request(app.server).post('/v1/jobs').set(auth(tenant.apiKey)).send({ datasetId: irisId, model: irisNetwork, webhookUrl: 'ftp://example.com/x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^body\.webhookUrl: /);
    const job = await request(app.server).post('/v1/jobs').set(auth(tenant.apiKey)).send({ datasetId: irisId, model: irisNetwork, training: { epochs: 1 } });
    const other = await createTenant(app, 'snoop');
    const res = await request(app.server).get(`/v1/jobs/${job.body.id}/webhooks`).set(auth(other.apiKey));
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('ERR_NOT_FOUND');
  });

  it('says a connection was refused without naming the address it tried', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as { port: number };
    await new Promise((r) => closed.close(r));
    const job = await request(service.app.server)
      .post('/v1/jobs')
      .set(auth(tenant.apiKey))
      .send({ datasetId: irisId, model: irisNetwork, training: { epochs: 1 }, webhookUrl: `http://127.0.0.1:${port}/hook` });
    expect(job.status).toBe(202);
    const delivery = await settled(job.body.id);
    expect(delivery).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS, responseStatus: null, lastError: 'request failed: connection refused' });
  });
});
