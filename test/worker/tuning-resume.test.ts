// A gru job with dropout and a reduce-on-plateau schedule whose worker is SIGKILLed resumes from its checkpoint and
// ends byte-identical to an uninterrupted run: the dropout masks (the RNG state) and the plateau's rate, best loss and
// wait travel in the checkpoint, so every epoch after the crash trains at the rate the uninterrupted run used.
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { auth } from '../helpers/fixtures.js';
import { postJob } from '../helpers/jobs.js';
import { expectResumesAfterKill } from '../helpers/resume.js';
import { uploadSlowSequenceDataset } from '../helpers/sequences.js';

describe('a tuned recurrent job in the worker', () => {
  // Short lock and stalled check, so a killed worker's job is handed on within seconds.
  const service = useTestService({ env: { JOB_LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000' }, audit: true });
  let key: string;
  let datasetId: string;

  beforeAll(async () => {
    key = (await createTenant(service.app)).apiKey;
    datasetId = await uploadSlowSequenceDataset(service.app, key);
  });

  it("a SIGKILLed worker's gru + dropout job with a plateau schedule resumes with the same rates and weights", async () => {
    const epochs = 30;
    const submit = () =>
      postJob(service.app, key, {
        datasetId,
        model: {
          layers: [{ type: 'gru', units: 16 }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 1, activation: 'linear' }],
          loss: 'meanSquaredError',
        },
        training: {
          optimizer: { type: 'adam', learningRate: 0.01 },
          epochs,
          batchSize: 32,
          validationSplit: 0.2,
          seed: 3,
          checkpointEvery: 5,
          // A minDelta this large is rarely met: the rate is cut every few epochs, on both sides of the crash.
          schedule: { type: 'plateau', patience: 2, factor: 0.5, minDelta: 0.02 },
        },
      });
    const jobs: string[] = [];
    const { checkpointAtCrash } = await expectResumesAfterKill({
      target: service.app,
      key,
      audit: service.audit,
      submit: async () => {
        jobs.push(await submit());
        return jobs.at(-1)!;
      },
      epochs,
      checkpointEvery: 5,
      worker: await service.startWorker(),
      startWorker: service.startWorker,
    });
    const ratesOf = async (id: string) => {
      const res = await request(service.app.server).get(`/v1/jobs/${id}/metrics`).set(auth(key));
      return (res.body.items as { learningRate: number }[]).map((m) => m.learningRate);
    };
    const [reference, resumed] = await Promise.all(jobs.map(ratesOf));
    expect(resumed).toEqual(reference);
    // The plateau cut the rate after the checkpoint the job resumed from: its state came back from the checkpoint.
    expect(new Set(reference.slice(checkpointAtCrash)).size).toBeGreaterThan(1);
    expect(Math.min(...reference)).toBeLessThan(0.01);
  });
});
