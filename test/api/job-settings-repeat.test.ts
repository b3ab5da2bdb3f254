// A job shows the settings it trained with, defaults and the seed the server chose included; POSTed back with its
// dataset they repeat the run: the same losses epoch for epoch and the same weights. Real worker, real engine.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth, irisNetwork } from '../helpers/fixtures.js';
import { postJob, uploadIris, waitForJob } from '../helpers/jobs.js';

describe('repeating a job from its settings', () => {
  const service = useTestService({ worker: true });
  const http = () => request(service.app.server);

  it('trains the same weights when the shown settings are POSTed back', async () => {
    const { apiKey } = await createTenant(service.app);
    const datasetId = await uploadIris(service.app, apiKey);
    // No seed: the server chooses one, and the job must show it.
    const first = await postJob(service.app, apiKey, { datasetId, model: irisNetwork, training: { epochs: 4, batchSize: 16 } });
    await waitForJob(service.app, apiKey, first, (j) => j.status === 'succeeded', 'the first job to succeed');
    const shown = (await http().get(`/v1/jobs/${first}`).set(auth(apiKey))).body;
    expect(shown.settings.training).toMatchObject({ epochs: 4, batchSize: 16, seed: expect.any(Number), optimizer: { type: 'adam', learningRate: 0.001 } });

    const second = await postJob(service.app, apiKey, { datasetId, ...shown.settings });
    await waitForJob(service.app, apiKey, second, (j) => j.status === 'succeeded', 'the repeated job to succeed');
    expect((await http().get(`/v1/jobs/${second}`).set(auth(apiKey))).body.settings).toEqual(shown.settings);

    const losses = async (id: string) => (await http().get(`/v1/jobs/${id}/metrics`).set(auth(apiKey))).body.items.map((m: { loss: number; valLoss: number }) => [m.loss, m.valLoss]);
    const firstLosses = await losses(first);
    expect(firstLosses).toHaveLength(4);
    expect(await losses(second)).toEqual(firstLosses);

    // Both models are listed, newest first; each job's own is found by jobId.
    const listed = await http().get('/v1/models').query({ datasetId }).set(auth(apiKey));
    const [repeated, original] = listed.body.items as { id: string; jobId: string }[];
    expect([repeated.jobId, original.jobId]).toEqual([second, first]);
    const byJob = await http().get('/v1/models').query({ jobId: first }).set(auth(apiKey));
    expect(byJob.body.items.map((m: { id: string }) => m.id)).toEqual([original.id]);
    const weights = async (id: string) => (await http().get(`/v1/models/${id}/export`).set(auth(apiKey))).body.weights;
    const originalWeights = await weights(original.id);
    expect(originalWeights).toHaveLength(irisNetwork.layers.length);
    expect(await weights(repeated.id)).toEqual(originalWeights);
  });
});
