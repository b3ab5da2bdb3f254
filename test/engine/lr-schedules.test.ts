import { describe, expect, it } from 'vitest';
import { createNetwork, Trainer, type ModelSpec, type ScheduleSpec, type TrainingOptions } from '../../src/engine/index.js';
import { threeClassData } from '../helpers/determinism.js';

const spec: ModelSpec = {
  inputSize: 4,
  layers: [
    { type: 'dense', units: 8, activation: 'tanh' },
    { type: 'dense', units: 3, activation: 'softmax' },
  ],
  loss: 'categoricalCrossEntropy',
};
const data = threeClassData(60, 4, 3, (x, o) => x[o] + x[o + 1]);

/** The rate each epoch reports, for a run of `epochs` epochs from learning rate 0.1. */
function rates(schedule: ScheduleSpec | undefined, epochs: number, extra: Partial<TrainingOptions> = {}): number[] {
  const options: TrainingOptions = { optimizer: { type: 'sgd', learningRate: 0.1 }, epochs, batchSize: 16, seed: 1, schedule, ...extra };
  return new Trainer(createNetwork(spec, 1), data, options).fit().map((r) => r.learningRate);
}

describe('learning-rate schedules', () => {
  it('without a schedule every epoch reports the optimizer rate', () => {
    expect(rates(undefined, 3)).toEqual([0.1, 0.1, 0.1]);
  });

  it('step decay multiplies by factor every `every` epochs', () => {
    expect(rates({ type: 'step', every: 2, factor: 0.5 }, 6)).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
  });

  it('exponential decay multiplies by rate every epoch', () => {
    const r = rates({ type: 'exponential', rate: 0.9 }, 4);
    [0.1, 0.09, 0.081, 0.0729].forEach((want, i) => expect(r[i]).toBeCloseTo(want, 15));
  });

  it('cosine decay warms up linearly, falls along a half cosine to minFactor, then holds', () => {
    const r = rates({ type: 'cosine', decayEpochs: 4, warmupEpochs: 2, minFactor: 0.1 }, 8);
    const cosine = (k: number) => 0.1 * (0.1 + (0.9 * (1 + Math.cos((Math.PI * k) / 4))) / 2);
    const want = [0.05, 0.1, cosine(0), cosine(1), cosine(2), cosine(3), cosine(4), cosine(4)];
    want.forEach((w, i) => expect(r[i]).toBeCloseTo(w, 15));
    expect(r[2]).toBe(0.1);
    expect(r[6]).toBeCloseTo(0.01, 15);
  });

  it('the rate in force is the one the updates use: a decayed rate trains differently from a constant one', () => {
    const train = (schedule?: ScheduleSpec) => {
      const options: TrainingOptions = { optimizer: { type: 'adam', learningRate: 0.05 }, epochs: 4, batchSize: 16, seed: 1, schedule };
      return new Trainer(createNetwork(spec, 1), data, options).fit().map((r) => r.loss);
    };
    const constant = train();
    const decayed = train({ type: 'step', every: 1, factor: 0.1 });
    // Epoch 1 runs at the same rate; from epoch 2 on the rates differ, so do the losses.
    expect(decayed[0]).toBe(constant[0]);
    expect(decayed[1]).not.toBe(constant[1]);
  });

  it.each([
    [{ type: 'step', every: 0, factor: 0.5 }, 'schedule.every'],
    [{ type: 'step', every: 2, factor: 1.5 }, 'schedule.factor'],
    [{ type: 'exponential', rate: 0 }, 'schedule.rate'],
    [{ type: 'cosine', decayEpochs: 10, minFactor: 2 }, 'schedule.minFactor'],
    [{ type: 'cosine', decayEpochs: 10, warmupEpochs: -1 }, 'schedule.warmupEpochs'],
    [{ type: 'plateau', patience: 2, factor: 1 }, 'schedule.factor'],
    [{ type: 'plateau', patience: 2, factor: 0.5, minRate: -1 }, 'schedule.minRate'],
    [{ type: 'linear' }, 'schedule.type'],
  ])('refuses %j naming %s', (schedule, field) => {
    expect(() => rates(schedule as ScheduleSpec, 1)).toThrow(expect.objectContaining({ field }));
  });
});
