// Jobs whose epochs are long and whose batches are short (one row each, 8,000 a epoch): what a stop between batches
// is measured against. On a quiet machine with the wasm kernels a batch of the wide model takes a few milliseconds,
// so its epoch takes tens of seconds at best; the narrow model's epoch takes seconds and its checkpoint is 1 MB.
import { syntheticRegression } from './fixtures.js';
import { postJob, uploadDataset, type Target } from './jobs.js';

export const LONG_EPOCH_ROWS = 8000;

export async function uploadLongEpochDataset(target: Target, key: string): Promise<string> {
  const { columns, rows } = syntheticRegression(LONG_EPOCH_ROWS, 20);
  return uploadDataset(target, key, { name: 'long-epochs', columns, rows, target: 'y' });
}

/** Two hidden layers of `units`, trained one row per batch; `extra` goes into the training options. */
export const submitLongEpochJob = (target: Target, key: string, datasetId: string, units: number, extra: object = {}): Promise<string> =>
  postJob(target, key, {
    datasetId,
    model: {
      layers: [
        { type: 'dense', units, activation: 'relu' },
        { type: 'dense', units, activation: 'relu' },
        { type: 'dense', units: 1, activation: 'linear' },
      ],
      loss: 'meanSquaredError',
    },
    training: { optimizer: { type: 'sgd', learningRate: 1e-5 }, epochs: 1, batchSize: 1, validationSplit: 0, seed: 11, ...extra },
  });
