// The client side of the job event stream, against a stand-in API: the event format the CLI (and the dashboard)
// expect, reconnection with Last-Event-ID, and the fallback to polling when the API has no stream.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/cli/api-client.js';
import { followJob, type JobProgress } from '../../src/cli/follow-job.js';
import { renderProgress } from '../../src/cli/progress-line.js';
import { readServerEvents } from '../../public/event-stream.js';

const JOB = '6f1c2b8e-1111-4a4a-8888-000000000001';
const MODEL = '6f1c2b8e-2222-4a4a-8888-000000000002';
const KEY = 'bp_test';

const job = (fields: Record<string, unknown>) => ({
  id: JOB, datasetId: JOB, status: 'running', epoch: 0, epochs: 3, loss: null, valLoss: null, accuracy: null, valAccuracy: null,
  error: null, modelId: null, createdAt: new Date().toISOString(), startedAt: null, finishedAt: null, ...fields,
});

const sse = (event: string, data: unknown, id?: number) => `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function fakeApi(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<ApiClient> {
  server = createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return new ApiClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: KEY });
}

function follow(client: ApiClient) {
  const updates: JobProgress[] = [];
  const transports: string[] = [];
  const outcome = followJob(client, JOB, { onProgress: (p) => updates.push(p), onTransport: (t) => transports.push(t), pollIntervalMs: 20 });
  return { outcome, updates, transports };
}

describe('following a job', () => {
  it('reads status, epoch and end events from GET /v1/jobs/:id/events with the key in the Authorization header', async () => {
    const seen: Record<string, string | undefined>[] = [];
    const client = await fakeApi((req, res) => {
      seen.push({ url: req.url, authorization: req.headers.authorization, accept: req.headers.accept });
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      res.write(': connected\n\n');
      res.write(sse('status', { status: 'running', epoch: 0, epochs: 3 }, 0));
      for (let e = 1; e <= 3; e++) res.write(sse('epoch', { epoch: e, loss: 1 / e, valLoss: 1.1 / e, accuracy: 0.5 + e / 10, valAccuracy: 0.4 + e / 10, etaSeconds: 3 - e }, e));
      res.end(sse('end', { status: 'succeeded', modelId: MODEL, error: null }, 4));
    });
    const { outcome, updates, transports } = follow(client);
    expect(await outcome).toEqual({ status: 'succeeded', modelId: MODEL, error: null });
    expect(seen).toEqual([{ url: `/v1/jobs/${JOB}/events`, authorization: `Bearer ${KEY}`, accept: 'text/event-stream' }]);
    expect(transports).toEqual(['events']);
    expect(updates.map((u) => [u.status, u.epoch, u.epochs, u.loss, u.etaSeconds])).toEqual([
      ['running', 0, 3, null, null],
      ['running', 1, 3, 1, 2],
      ['running', 2, 3, 0.5, 1],
      ['running', 3, 3, 1 / 3, 0],
    ]);
    expect(renderProgress(updates[1])).toBe('running [########----------------] 1/3  loss 1.0000  val 1.1000  acc 60.0%  val acc 50.0%  eta 2s');
  });

  it('reconnects a dropped stream with Last-Event-ID', async () => {
    const lastIds: (string | undefined)[] = [];
    const client = await fakeApi((req, res) => {
      if (!req.url!.endsWith('/events')) return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(job({ epoch: 1 })));
      lastIds.push(req.headers['last-event-id'] as string | undefined);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (lastIds.length === 1) res.end(sse('status', { status: 'running', epoch: 0, epochs: 3 }, 0) + sse('epoch', { epoch: 1, loss: 0.9 }, 1));
      else res.end(sse('epoch', { epoch: 2, loss: 0.5 }, 2) + sse('end', { status: 'succeeded', modelId: MODEL }, 3));
    });
    const { outcome, updates } = follow(client);
    expect((await outcome).modelId).toBe(MODEL);
    expect(lastIds).toEqual([undefined, '1']);
    expect(updates.at(-1)).toMatchObject({ epoch: 2, loss: 0.5 });
  });

  it('polls GET /v1/jobs/:id when the API has no event stream, and reports a failed job\'s error', async () => {
    let polls = 0;
    const client = await fakeApi((req, res) => {
      if (req.url!.endsWith('/events')) return res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"ERR_NOT_FOUND","message":"no route"}}');
      polls++;
      const body = polls < 3 ? job({ epoch: polls, loss: 1 / polls }) : job({ status: 'failed', epoch: 2, error: { code: 'TRAINING_DIVERGED', message: 'loss became NaN at epoch 3' } });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    const { outcome, updates, transports } = follow(client);
    expect(await outcome).toEqual({ status: 'failed', modelId: null, error: { code: 'TRAINING_DIVERGED', message: 'loss became NaN at epoch 3' } });
    expect(transports).toEqual(['polling']);
    expect(updates.map((u) => [u.status, u.epoch])).toEqual([['running', 1], ['running', 2], ['failed', 2]]);
  });
});

describe('event stream parsing', () => {
  it('handles CRLF split across chunks, multi-line data, comments and events without a name', async () => {
    const chunks = ['id: 7\r', '\nevent: epoch\r\ndata: {"a":', '1}\r\n\r\n: ping\n\ndata: line one\ndata: line two\n\nevent: cut'];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
        controller.close();
      },
    });
    const events = [];
    for await (const e of readServerEvents(body)) events.push(e);
    expect(events).toEqual([
      { event: 'epoch', data: '{"a":1}', id: '7' },
      { event: 'message', data: 'line one\nline two', id: '7' },
    ]);
  });
});
