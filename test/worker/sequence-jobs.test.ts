// Recurrent jobs behave like dense ones in the worker: a running lstm job stops within an epoch when cancelled, and
// one whose worker is SIGKILLed resumes from its checkpoint and ends byte-identical to an uninterrupted run.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenant, useTestService } from '../helpers/app.js';
import { cancelAndExpectStopped, waitForJob } from '../helpers/jobs.js';
import type { WorkerProcess } from '../helpers/processes.js';
import { expectResumesAfterKill } from '../helpers/resume.js';
import { submitSequenceJob, uploadSlowSequenceDataset } from '../helpers/sequences.js';

describe('recurrent jobs in the worker', () => {
  // Short lock and stalled check, so a killed worker's job is handed on within seconds.
  const service = useTestService({ env: { JOB_LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000' }, audit: true });
  let key: string;
  let datasetId: string;
  /** Started by the first test; the second kills it. */
  let worker: WorkerProcess;

  beforeAll(async () => {
    key = (await createTenant(service.app)).apiKey;
    datasetId = await uploadSlowSequenceDataset(service.app, key);
  });

  it('a running lstm job stops within one epoch of its cancellation and stores no model', async () => {
    const { app } = service;
    worker = await service.startWorker();
    const id = await submitSequenceJob(app, key, datasetId, 500);
    const running = await waitForJob(app, key, id, (j) => j.status === 'running' && j.epoch >= 3, 'the job to run 3 epochs');
    await cancelAndExpectStopped(app, key, id, running, worker);
  });

  it('a SIGKILLed worker\'s lstm job resumes from its checkpoint and ends byte-identical to an uninterrupted run', async () => {
    const epochs = 40;
    const options = { checkpointEvery: 5, seed: 11 };
    const { checkpointAtCrash, weights } = await expectResumesAfterKill({
      target: service.app,
      key,
      audit: service.audit,
      submit: () => submitSequenceJob(service.app, key, datasetId, epochs, options),
      epochs,
      checkpointEvery: options.checkpointEvery,
      worker,
      startWorker: service.startWorker,
    });
    expect(checkpointAtCrash).toBeLessThan(epochs);
    expect(weights).toContain('recurrentKernel'); // the lstm's weights, not only the dense head's
  });
});
