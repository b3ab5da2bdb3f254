import { describe, expect, it } from 'vitest';
import { createNetwork, Rng, Trainer } from '../../src/engine/index.js';
import { irisRows } from '../helpers/iris.js';

describe('learning', () => {
  it('a 2-4-1 sigmoid network learns XOR with full-batch gradient descent', () => {
    const network = createNetwork(
      {
        inputSize: 2,
        layers: [
          { type: 'dense', units: 4, activation: 'sigmoid' },
          { type: 'dense', units: 1, activation: 'sigmoid' },
        ],
        loss: 'meanSquaredError',
      },
      3,
    );
    const inputs = Float32Array.of(0, 0, 0, 1, 1, 0, 1, 1);
    const targets = Float32Array.of(0, 1, 1, 0);
    const trainer = new Trainer(network, { inputs, targets, rows: 4 }, {
      optimizer: { type: 'sgd', learningRate: 2, momentum: 0.9 },
      epochs: 2000,
      batchSize: 4, // the whole set: one accumulated update per epoch
      seed: 3,
    });
    const reports = trainer.fit();
    const out = network.predict(inputs, 4);
    expect(Array.from(out, (v) => v > 0.5)).toEqual([false, true, true, false]);
    expect(reports.at(-1)!.loss).toBeLessThan(reports[0].loss / 10);
  });

  it('learns Iris to >= 95% accuracy on 30 held-out rows', () => {
    const { features, species } = irisRows();
    const classes = [...new Set(species)];
    const order = new Uint32Array(150).map((_, i) => i);
    new Rng(2024).shuffle(order);
    // Standardize with statistics of the training rows only, as the service does.
    const trainRows = Array.from(order.subarray(0, 120));
    const mean = [0, 1, 2, 3].map((j) => trainRows.reduce((s, r) => s + features[r][j], 0) / 120);
    const std = [0, 1, 2, 3].map((j) => Math.sqrt(trainRows.reduce((s, r) => s + (features[r][j] - mean[j]) ** 2, 0) / 120));
    const toArrays = (rows: Uint32Array) => {
      const x = new Float32Array(rows.length * 4);
      const y = new Float32Array(rows.length * 3);
      rows.forEach((r, i) => {
        x.set(features[r].map((v, j) => (v - mean[j]) / std[j]), i * 4);
        y[i * 3 + classes.indexOf(species[r])] = 1;
      });
      return { inputs: x, targets: y, rows: rows.length };
    };
    const train = toArrays(order.subarray(0, 120));
    const test = toArrays(order.subarray(120));
    const network = createNetwork(
      {
        inputSize: 4,
        layers: [
          { type: 'dense', units: 16, activation: 'relu' },
          { type: 'dense', units: 3, activation: 'softmax' },
        ],
        loss: 'categoricalCrossEntropy',
      },
      42,
    );
    new Trainer(network, train, { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 200, batchSize: 16, seed: 42 }).fit();
    const out = network.predict(test.inputs, 30);
    let correct = 0;
    for (let r = 0; r < 30; r++) {
      const row = Array.from(out.subarray(r * 3, r * 3 + 3));
      const truth = Array.from(test.targets.subarray(r * 3, r * 3 + 3));
      if (row.indexOf(Math.max(...row)) === truth.indexOf(1)) correct++;
    }
    expect(correct / 30).toBeGreaterThanOrEqual(0.95);
  });
});
