import { describe, expect, it } from 'vitest';
import { createNetwork, deserializeModel, serializeModel, Trainer, type ModelSpec, type TrainingOptions } from '../../src/engine/index.js';
import { threeClassData, uninterruptedAndResumed, weightsOf } from '../helpers/determinism.js';

const spec: ModelSpec = {
  inputSize: 5,
  layers: [
    { type: 'dense', units: 12, activation: 'tanh' },
    { type: 'dense', units: 8, activation: 'leakyRelu' },
    { type: 'dense', units: 3, activation: 'softmax' },
  ],
  loss: 'categoricalCrossEntropy',
};

const syntheticData = (rows: number) => threeClassData(rows, 5, 5, (x, o) => x[o] + x[o + 1] * x[o + 2]);

const options: TrainingOptions = {
  optimizer: { type: 'adam', learningRate: 0.01 },
  epochs: 12,
  batchSize: 16,
  validationSplit: 0.2,
  seed: 77,
  weightDecay: 1e-4,
  clipNorm: 5,
  earlyStopping: { patience: 50, minDelta: 0, restoreBestWeights: true },
};

describe('determinism', () => {
  const data = syntheticData(200);

  it('two runs with the same seed give byte-identical weights', () => {
    const a = new Trainer(createNetwork(spec, 1), data, options);
    const b = new Trainer(createNetwork(spec, 1), data, options);
    a.fit();
    b.fit();
    expect(weightsOf(a.network)).toBe(weightsOf(b.network));
    const c = new Trainer(createNetwork(spec, 2), data, options);
    c.fit();
    expect(weightsOf(c.network)).not.toBe(weightsOf(a.network));
  });

  for (const optimizer of [options.optimizer, { type: 'sgd', learningRate: 0.05, momentum: 0.9, nesterov: true }] as const) {
    it(`checkpoint at epoch k + resume equals the uninterrupted run (${optimizer.type})`, () => {
      const { full, fullReports, resumed } = uninterruptedAndResumed(spec, data, { ...options, optimizer }, 5);
      expect(resumed.epoch).toBe(5);
      const rest = resumed.fit();
      expect(weightsOf(resumed.network)).toBe(weightsOf(full.network));
      expect(rest.map((r) => r.loss)).toEqual(fullReports.slice(5).map((r) => r.loss));
    });
  }

  it('serialization round-trips bit-exactly in float32 and float64', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const network = createNetwork(spec, 9, dtype);
      const json = JSON.parse(JSON.stringify(serializeModel(network)));
      const copy = deserializeModel(json);
      expect(copy.dtype).toBe(dtype);
      copy.parameters().forEach((p, i) => {
        const original = network.parameters()[i];
        expect(new Uint8Array(p.buffer, p.byteOffset, p.byteLength)).toEqual(
          new Uint8Array(original.buffer, original.byteOffset, original.byteLength),
        );
      });
      const x = syntheticData(7).inputs;
      expect(Array.from(copy.predict(x, 7))).toEqual(Array.from(network.predict(x, 7)));
    }
  });

  it('early stopping stops after patience epochs and restores the best weights', () => {
    // A learning rate this small cannot improve the validation loss by minDelta: stops after `patience`.
    const trainer = new Trainer(createNetwork(spec, 1), data, {
      ...options,
      optimizer: { type: 'sgd', learningRate: 1e-9 },
      epochs: 100,
      earlyStopping: { patience: 3, minDelta: 0.5, restoreBestWeights: true },
    });
    const before = weightsOf(trainer.network);
    const reports = trainer.fit();
    expect(reports).toHaveLength(4);
    // The best epoch was the first one; its weights differ from the start by one epoch of tiny updates.
    expect(trainer.done).toBe(true);
    expect(weightsOf(trainer.network)).not.toBe(before);
  });

  it('the onEpoch callback can stop training', () => {
    const trainer = new Trainer(createNetwork(spec, 1), data, options);
    const reports = trainer.fit((r) => (r.epoch === 3 ? 'stop' : undefined));
    expect(reports.map((r) => r.epoch)).toEqual([1, 2, 3]);
    expect(reports[0]).toEqual(
      expect.objectContaining({ loss: expect.any(Number), valLoss: expect.any(Number), accuracy: expect.any(Number), valAccuracy: expect.any(Number), ms: expect.any(Number) }),
    );
    expect(trainer.checkpoint().stopped).toBe(true);
  });

  describe('dropout, learning-rate schedules and the gru', () => {
    const withDropout: ModelSpec = {
      ...spec,
      layers: [spec.layers[0], { type: 'dropout', rate: 0.4 }, spec.layers[1], { type: 'dropout', rate: 0.2 }, spec.layers[2]],
    };
    const sequences = threeClassData(120, 4 * 2, 6, (x, o) => x[o] - x[o + 6] + x[o + 3] * x[o + 5]);
    const gru: ModelSpec = {
      inputSize: 2,
      sequenceLength: 4,
      layers: [{ type: 'gru', units: 6, returnSequences: false }, { type: 'dropout', rate: 0.3 }, { type: 'dense', units: 3, activation: 'softmax' }],
      loss: 'categoricalCrossEntropy',
    };
    const schedules = [
      ['dropout, step decay', withDropout, data, { type: 'step', every: 3, factor: 0.5 }],
      ['dropout, cosine decay with warm-up', withDropout, data, { type: 'cosine', decayEpochs: 8, warmupEpochs: 2, minFactor: 0.1 }],
      ['dropout, reduce on plateau', withDropout, data, { type: 'plateau', patience: 1, factor: 0.5, minDelta: 0.05 }],
      ['gru and dropout, exponential decay', gru, sequences, { type: 'exponential', rate: 0.8 }],
    ] as const;

    it.each(schedules)('%s: checkpoint at epoch k + resume equals the uninterrupted run', (_, model, rows, schedule) => {
      const scheduled: TrainingOptions = { ...options, schedule, earlyStopping: undefined };
      const { full, fullReports, resumed } = uninterruptedAndResumed(model, rows, scheduled, 5);
      const rest = resumed.fit();
      expect(weightsOf(resumed.network)).toBe(weightsOf(full.network));
      expect(rest.map((r) => [r.loss, r.learningRate])).toEqual(fullReports.slice(5).map((r) => [r.loss, r.learningRate]));
      // The same seed gives the same masks; the masks are really drawn (a rate of 0 trains differently).
      const again = new Trainer(createNetwork(model, 1), rows, scheduled);
      again.fit();
      expect(weightsOf(again.network)).toBe(weightsOf(full.network));
      const noDropout = { ...model, layers: model.layers.map((l) => (l.type === 'dropout' ? { ...l, rate: 0 } : l)) };
      const plain = new Trainer(createNetwork(noDropout, 1), rows, scheduled);
      plain.fit();
      expect(weightsOf(plain.network)).not.toBe(weightsOf(full.network));
    });

    it('reduce on plateau: the rate is cut after patience epochs without improvement, and the cut survives a resume', () => {
      // A rate this small never improves the validation loss by minDelta: the rate halves every second epoch.
      const plateau: TrainingOptions = {
        ...options,
        optimizer: { type: 'sgd', learningRate: 1e-6 },
        earlyStopping: undefined,
        schedule: { type: 'plateau', patience: 2, factor: 0.5, minDelta: 1, minRate: 1e-7 },
      };
      const { fullReports, resumed } = uninterruptedAndResumed(spec, data, plateau, 4);
      expect(fullReports.map((r) => r.learningRate)).toEqual([1e-6, 1e-6, 1e-6, 5e-7, 5e-7, 2.5e-7, 2.5e-7, 1.25e-7, 1.25e-7, 1e-7, 1e-7, 1e-7]);
      expect(resumed.fit().map((r) => r.learningRate)).toEqual(fullReports.slice(4).map((r) => r.learningRate));
    });
  });
});
