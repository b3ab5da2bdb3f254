import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { auth, syntheticRegression } from './fixtures.js';
import { waitFor } from './processes.js';

type Target = FastifyInstance | string;
const agent = (target: Target) => (typeof target === 'string' ? request(target) : request(target.server));

/** A regression dataset and network sized so one epoch takes roughly 0.1-0.2 s on this machine. */
export async function uploadSlowDataset(target: Target, key: string): Promise<string> {
  const { columns, rows } = syntheticRegression(2000, 20);
  const res = await agent(target).post('/v1/datasets').set(auth(key)).send({ name: 'slow', columns, rows, target: 'y' });
  if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${res.text}`);
  return res.body.id;
}

export const slowModel = {
  layers: [
    { type: 'dense', units: 128, activation: 'relu' },
    { type: 'dense', units: 128, activation: 'relu' },
    { type: 'dense', units: 1, activation: 'linear' },
  ],
  loss: 'meanSquaredError',
} as const;

export async function submitJob(target: Target, key: string, datasetId: string, epochs: number, extra: object = {}): Promise<string> {
  const res = await agent(target)
    .post('/v1/jobs')
    .set(auth(key))
    .send({ datasetId, model: slowModel, training: { optimizer: { type: 'sgd', learningRate: 0.01 }, epochs, batchSize: 32, validationSplit: 0, seed: 3, ...extra } });
  if (res.status !== 202) throw new Error(`job answered ${res.status}: ${res.text}`);
  return res.body.id;
}

export async function getJob(target: Target, key: string, id: string) {
  const res = await agent(target).get(`/v1/jobs/${id}`).set(auth(key));
  if (res.status !== 200) throw new Error(`job ${id} answered ${res.status}: ${res.text}`);
  return res.body as { status: string; epoch: number; epochs: number; modelId: string | null; startedAt: string | null; error: unknown };
}

export const waitForJob = (target: Target, key: string, id: string, ok: (job: Awaited<ReturnType<typeof getJob>>) => boolean, what: string, timeoutMs = 60_000) =>
  waitFor(what, async () => {
    const job = await getJob(target, key, id);
    return ok(job) ? job : undefined;
  }, timeoutMs, 100);
