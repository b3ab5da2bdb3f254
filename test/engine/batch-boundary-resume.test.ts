// A run stopped between two batches (cancel, shutdown, wall time) and resumed from the checkpoint taken there ends
// byte-identical to the run that was never stopped: same order of rows, same dropout masks, same updates.
import { describe, expect, it } from 'vitest';
import { createNetwork, Trainer, type EpochReport, type ModelSpec, type TrainingCheckpoint, type TrainingOptions } from '../../src/engine/index.js';
import { threeClassData, weightsOf } from '../helpers/determinism.js';

const spec: ModelSpec = {
  inputSize: 5,
  layers: [
    { type: 'dense', units: 12, activation: 'tanh' },
    { type: 'dropout', rate: 0.2 },
    { type: 'dense', units: 3, activation: 'softmax' },
  ],
  loss: 'categoricalCrossEntropy',
};
const data = threeClassData(200, 5, 5, (x, o) => x[o] + x[o + 1] * x[o + 2]);
const options: TrainingOptions = {
  optimizer: { type: 'adam', learningRate: 0.01 },
  epochs: 6,
  batchSize: 16, // 160 training rows: 10 batches an epoch
  validationSplit: 0.2,
  seed: 77,
  schedule: { type: 'plateau', patience: 1, factor: 0.5 },
};

/** An epoch report without its duration, the one figure a resumed epoch cannot repeat. */
const figures = ({ ms: _ms, ...rest }: EpochReport) => rest;
/** Stops the trainer's epoch once `batches` more batches have run; returns the report if the epoch ended first. */
const runBatches = (trainer: Trainer, batches: number) => {
  let ran = 0;
  return trainer.runEpochUntil(() => ran++ >= batches);
};
const throughJson = (trainer: Trainer) => Trainer.fromCheckpoint(JSON.parse(JSON.stringify(trainer.checkpoint())) as TrainingCheckpoint, data);

describe('stopping between batches', () => {
  const full = new Trainer(createNetwork(spec, 1), data, options);
  const fullReports = full.fit().map(figures);

  it('a checkpoint taken mid-epoch resumes to byte-identical weights and the same epoch reports', () => {
    const first = new Trainer(createNetwork(spec, 1), data, options);
    first.runEpoch();
    first.runEpoch();
    expect(runBatches(first, 4)).toBeNull();
    const steps = first.steps;
    const checkpoint = first.checkpoint();
    expect(checkpoint).toMatchObject({ epoch: 2, inEpoch: { next: 64 } });

    const resumed = throughJson(first);
    expect(resumed.epoch).toBe(2);
    expect(resumed.steps).toBe(steps);
    const rest = resumed.fit().map(figures);
    expect(rest).toEqual(fullReports.slice(2));
    expect(weightsOf(resumed.network)).toBe(weightsOf(full.network));
    expect(resumed.checkpoint().inEpoch).toBeUndefined();
  });

  it('stopping before an epoch\'s first batch, and several times in one epoch, changes nothing either', () => {
    let trainer = new Trainer(createNetwork(spec, 1), data, options);
    expect(runBatches(trainer, 0)).toBeNull();
    trainer = throughJson(trainer);
    const reports: EpochReport[] = [];
    while (!trainer.done) {
      // 3 batches, then a resume from JSON, until the epoch ends: 10 batches take four runs of the epoch.
      const report = runBatches(trainer, 3);
      if (report) reports.push(report);
      else trainer = throughJson(trainer);
    }
    expect(reports.map(figures)).toEqual(fullReports);
    expect(weightsOf(trainer.network)).toBe(weightsOf(full.network));
  });

  it('the same trainer goes on from where it stopped', () => {
    const trainer = new Trainer(createNetwork(spec, 1), data, options);
    expect(runBatches(trainer, 7)).toBeNull();
    expect(trainer.epoch).toBe(0);
    expect(trainer.fit().map(figures)).toEqual(fullReports);
    expect(weightsOf(trainer.network)).toBe(weightsOf(full.network));
  });
});
