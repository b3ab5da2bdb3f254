import { createNetwork, Rng, Trainer } from '../../src/engine/index.js';
import { irisRows } from '../helpers/iris.js';

// Deterministic classifiers of the real Iris rows, whose outputs the evaluation tests judge.

export const SPECIES = ['setosa', 'versicolor', 'virginica'];

export function oneHotSpecies(species: string[]): Float64Array {
  const targets = new Float64Array(species.length * 3);
  species.forEach((s, r) => (targets[r * 3 + SPECIES.indexOf(s)] = 1));
  return targets;
}

/**
 * Softmax of minus the squared distance to each species' centroid, in raw centimetres: it confuses versicolor and
 * virginica on a few rows and is never confident enough to reach the log-loss clip.
 */
export function nearestCentroid(): { probabilities: Float64Array; targets: Float64Array } {
  const { features, species } = irisRows();
  const centroids = SPECIES.map((name) => {
    const members = features.filter((_, r) => species[r] === name);
    return [0, 1, 2, 3].map((j) => members.reduce((s, m) => s + m[j], 0) / members.length);
  });
  const probabilities = new Float64Array(features.length * 3);
  features.forEach((x, r) => {
    const scores = centroids.map((c) => Math.exp(-c.reduce((s, cj, j) => s + (x[j] - cj) ** 2, 0)));
    const total = scores.reduce((s, v) => s + v, 0);
    scores.forEach((v, j) => (probabilities[r * 3 + j] = v / total));
  });
  return { probabilities, targets: oneHotSpecies(species) };
}

/** A softmax network trained briefly by the engine on 100 shuffled rows; its float32 outputs on the other 50. */
export function engineClassifier(): { probabilities: Float32Array; targets: Float64Array; rows: number } {
  const { features, species } = irisRows();
  const order = new Uint32Array(150).map((_, i) => i);
  new Rng(7).shuffle(order);
  const standardized = features.map((x) => x.map((v, j) => (v - [5.8, 3.1, 3.8, 1.2][j]) / [0.8, 0.4, 1.8, 0.8][j]));
  const pick = (rows: Uint32Array) => ({
    inputs: Float32Array.from(Array.from(rows).flatMap((r) => standardized[r])),
    targets: oneHotSpecies(Array.from(rows, (r) => species[r])),
    rows: rows.length,
  });
  const train = pick(order.subarray(0, 100));
  const held = pick(order.subarray(100));
  const network = createNetwork(
    {
      inputSize: 4,
      layers: [
        { type: 'dense', units: 8, activation: 'relu' },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      loss: 'categoricalCrossEntropy',
    },
    7,
  );
  const float32Train = { ...train, targets: Float32Array.from(train.targets) };
  new Trainer(network, float32Train, { optimizer: { type: 'adam', learningRate: 0.01 }, epochs: 15, batchSize: 16, seed: 7 }).fit();
  return { probabilities: network.predict(held.inputs, held.rows) as Float32Array, targets: held.targets, rows: held.rows };
}
