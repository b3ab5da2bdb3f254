import { describe, expect, it } from 'vitest';
import { createNetwork, Rng, Trainer, type LossName } from '../../src/engine/index.js';

/**
 * Losses fused with the output activation read the logits, so training and evaluation skip the head's activation
 * and count correct predictions from the logits. Their figures must be the ones predict()'s outputs give.
 */
describe('fused output activation', () => {
  const cases: [LossName, 'softmax' | 'sigmoid', number][] = [
    ['categoricalCrossEntropy', 'softmax', 3],
    ['binaryCrossEntropy', 'sigmoid', 2],
  ];

  for (const [loss, activation, units] of cases) {
    for (const batchSize of [1, 16]) {
      it(`${loss}, batch ${batchSize}: evaluate() agrees with predict() and predict() returns ${activation} outputs`, () => {
        const rows = 60;
        const rng = new Rng(5);
        const inputs = new Float64Array(rows * 4).map(() => rng.next() * 2 - 1);
        const targets = new Float64Array(rows * units);
        for (let r = 0; r < rows; r++) {
          if (loss === 'categoricalCrossEntropy') targets[r * units + rng.below(units)] = 1;
          else for (let j = 0; j < units; j++) targets[r * units + j] = rng.below(2);
        }
        const network = createNetwork(
          { inputSize: 4, layers: [{ type: 'dense', units: 8, activation: 'tanh' }, { type: 'dense', units, activation }], loss },
          9,
          'float64',
        );
        const trainer = new Trainer(network, { inputs, targets, rows }, {
          optimizer: { type: 'sgd', learningRate: 0.1, momentum: 0.9 },
          epochs: 3,
          batchSize,
          seed: 9,
        });
        trainer.fit();

        const { loss: evaluated, accuracy } = trainer.evaluate({ x: inputs, y: targets, rows });
        const out = network.predict(inputs, rows);
        let lossSum = 0;
        let correct = 0;
        for (let r = 0; r < rows; r++) {
          const o = r * units;
          if (loss === 'categoricalCrossEntropy') {
            const row = Array.from(out.subarray(o, o + units));
            expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
            let best = 0;
            for (let j = 0; j < units; j++) {
              lossSum -= targets[o + j] * Math.log(out[o + j]);
              if (out[o + j] > out[o + best]) best = j;
            }
            if (targets[o + best] === 1) correct++;
          } else {
            for (let j = 0; j < units; j++) {
              const p = out[o + j];
              expect(p).toBeGreaterThan(0);
              expect(p).toBeLessThan(1);
              lossSum -= (targets[o + j] * Math.log(p) + (1 - targets[o + j]) * Math.log(1 - p)) / units;
              if (p >= 0.5 === targets[o + j] >= 0.5) correct++;
            }
          }
        }
        const perRow = loss === 'categoricalCrossEntropy' ? 1 : units;
        expect(evaluated).toBeCloseTo(lossSum / rows, 10);
        expect(accuracy).toBe(correct / (rows * perRow));
        // The figures are not trivially 0 or 1: some rows are right and some wrong.
        expect(accuracy).toBeGreaterThan(0);
        expect(accuracy).toBeLessThan(1);
      });
    }
  }
});
