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
});
