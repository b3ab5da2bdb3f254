// The event stream's rules without servers: Postgres (a fake source here) fills whatever Redis messages miss, epochs
// leave once and in order, and ids always mean "everything up to this epoch". A ping reads nothing; the API process's
// periodic check asks a stream whether it is behind and has it recheck.
import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../src/contracts/jobs.js';
import { JobEventStream, type JobSnapshot } from '../../src/api/job-event-stream.js';
import type { EpochReport } from '../../src/engine/index.js';

const row = (epoch: number): EpochReport => ({ epoch, loss: 1 / epoch, valLoss: null, accuracy: null, valAccuracy: null, learningRate: 0.01, ms: 100 });

function fakeJob(status: JobStatus, stored: number) {
  const job: JobSnapshot & { stored: number } = { status, epoch: stored, epochs: 10, modelId: null, error: null, stored };
  const source = {
    job: async () => ({ ...job, epoch: job.stored }),
    metricsSince: async (epoch: number) => Array.from({ length: Math.max(0, job.stored - epoch) }, (_, i) => row(epoch + i + 1)),
  };
  return { job, source };
}

async function read(stream: JobEventStream): Promise<{ id: string; event: string; data: Record<string, unknown> }[]> {
  let text = '';
  for await (const chunk of stream.output) text += chunk;
  return text
    .split('\n\n')
    .filter((b) => b && !b.startsWith(':'))
    .map((b) => {
      const [id, event, data] = b.split('\n').map((l) => l.slice(l.indexOf(':') + 2));
      return { id, event, data: JSON.parse(data) };
    });
}

const silent = { warn: () => undefined };
/** Lets the stream's queued steps run (each awaits the fake source a few times). */
const settle = () => new Promise((r) => setTimeout(r, 5));

describe('JobEventStream', () => {
  it('replays after Last-Event-ID, skips what was sent, fills a gap from Postgres and ends with the rest', async () => {
    const { job, source } = fakeJob('running', 3);
    const stream = new JobEventStream(source, 1, silent);
    const events = read(stream);
    stream.start(Promise.resolve());
    await settle();
    job.stored = 6; // epochs 4-6 are in Postgres; Redis delivers 4, loses 5, delivers 6 and a replay of 2
    stream.receive({ type: 'epoch', report: row(4) });
    stream.receive({ type: 'epoch', report: row(6) });
    stream.receive({ type: 'epoch', report: row(2) });
    await settle();
    job.stored = 10;
    job.status = 'succeeded';
    stream.receive({ type: 'end', status: 'succeeded', modelId: 'm', error: null });
    const sent = await events;
    expect(sent.map((e) => `${e.event}:${e.id}`)).toEqual([
      'status:1', ...[2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => `epoch:${n}`), 'end:10',
    ]);
    expect(sent[0].data).toEqual({ status: 'running', epoch: 3, epochs: 10 });
    // ETA: epochs left x the mean of recent epochs (100 ms each), seeded with the epochs before Last-Event-ID.
    expect(sent[1].data).toMatchObject({ epoch: 2, etaSeconds: 0.8 });
    expect(sent.at(-2)!.data).toMatchObject({ epoch: 10, etaSeconds: 0 });
    expect(sent.at(-1)!.data).toEqual({ status: 'succeeded', modelId: 'm', error: null, evaluation: null });
  });

  it('sends status changes once, and a recheck finds an end that no message announced', async () => {
    const { job, source } = fakeJob('queued', 0);
    const stream = new JobEventStream(source, 0, silent);
    const events = read(stream);
    stream.start(Promise.resolve());
    await settle();
    stream.receive({ type: 'status', status: 'running', epoch: 0 });
    stream.receive({ type: 'status', status: 'running', epoch: 0 });
    await settle();
    job.stored = 2;
    job.status = 'cancelled';
    expect(stream.isBehind({ status: 'cancelled', epoch: 2 })).toBe(true);
    stream.receive({ type: 'recheck' });
    const sent = await events;
    expect(sent.map((e) => `${e.event}:${e.id}`)).toEqual(['status:0', 'status:0', 'epoch:1', 'epoch:2', 'end:2']);
    expect(sent.map((e) => e.data.status).filter(Boolean)).toEqual(['queued', 'running', 'cancelled']);
  });

  it('a ping only writes its comment; ending early sends `closed` with the reason, after what was queued', async () => {
    let reads = 0;
    const { source } = fakeJob('running', 1);
    const counted = { job: () => (reads++, source.job()), metricsSince: source.metricsSince };
    const stream = new JobEventStream(counted, 0, silent);
    let text = '';
    const done = (async () => {
      for await (const chunk of stream.output) text += chunk;
    })();
    stream.start(Promise.resolve());
    await settle();
    expect(stream.isBehind({ status: 'running', epoch: 1 })).toBe(false);
    expect(stream.isBehind({ status: 'running', epoch: 2 })).toBe(true);
    const before = reads;
    for (let i = 0; i < 5; i++) stream.ping();
    await settle();
    expect(reads).toBe(before);
    stream.receive({ type: 'epoch', report: row(2) });
    stream.end({ code: 'ERR_UNAUTHORIZED', message: 'revoked' });
    await done;
    const blocks = text.split('\n\n').filter(Boolean);
    expect(blocks.filter((b) => b === ': ping')).toHaveLength(5);
    expect(blocks.at(-2)).toMatch(/^id: 2\nevent: epoch\n/);
    expect(blocks.at(-1)).toBe('id: 2\nevent: closed\ndata: {"code":"ERR_UNAUTHORIZED","message":"revoked"}');
  });

  it('closes when the source fails, so the client reconnects with Last-Event-ID', async () => {
    const stream = new JobEventStream({ job: async () => Promise.reject(new Error('postgres away')), metricsSince: async () => [] }, 0, silent);
    const events = read(stream);
    stream.start(Promise.resolve());
    expect(await events).toEqual([]);
  });
});
