import { describe, expect, it } from 'vitest';
import { createNetwork, deserializeModel, Rng, serializeModel, type LayerSpec, type ModelSpec } from '../../src/engine/index.js';

const dense: ModelSpec = {
  inputSize: 4,
  layers: [
    { type: 'dense', units: 400, activation: 'relu' },
    { type: 'dense', units: 2, activation: 'linear' },
  ],
  loss: 'meanSquaredError',
};
const withDropout = (rate: number): ModelSpec => ({ ...dense, layers: [dense.layers[0], { type: 'dropout', rate }, dense.layers[1]] });

describe('dropout', () => {
  const x = new Float32Array(3 * 4).map((_, i) => Math.sin(i + 1));

  it('predicts exactly what the same weights predict without it (the identity outside training)', () => {
    const net = createNetwork(withDropout(0.5), 3);
    const plain = createNetwork(dense, 3);
    net.layers[0].kernel.set(plain.layers[0].kernel);
    net.layers[0].bias.set(plain.layers[0].bias);
    net.layers[2].kernel.set(plain.layers[1].kernel);
    net.layers[2].bias.set(plain.layers[1].bias);
    expect(Array.from(net.predict(x, 3))).toEqual(Array.from(plain.predict(x, 3)));
    expect(net.evaluate(x, new Float32Array(6), 3)).toBe(plain.evaluate(x, new Float32Array(6), 3));
  });

  it('while training zeroes about `rate` of the values and scales the rest by 1 / (1 - rate), the same for the same Rng state', () => {
    const net = createNetwork(withDropout(0.25), 3);
    const [hidden, dropout] = net.layers;
    const before = Float32Array.from(hidden.forward(x, 3));
    const after = Float32Array.from(dropout.forward(before, 3, new Rng(8)));
    let zeroed = 0;
    let active = 0;
    for (let i = 0; i < after.length; i++) {
      if (before[i] === 0) continue;
      active++;
      if (after[i] === 0) zeroed++;
      else expect(after[i]).toBe(Math.fround(before[i] * Math.fround(1 / 0.75))); // the mask is float32 like the values
    }
    // 1,200 values, about half of them active after relu: a binomial with sd ~ 15 around a quarter.
    expect(zeroed / active).toBeGreaterThan(0.18);
    expect(zeroed / active).toBeLessThan(0.32);
    expect(Array.from(dropout.forward(before, 3, new Rng(8)))).toEqual(Array.from(after));
    expect(Array.from(dropout.forward(before, 3, new Rng(9)))).not.toEqual(Array.from(after));
  });

  it('serializes with an empty weights entry and round-trips', () => {
    const net = createNetwork(withDropout(0.3), 5);
    const model = serializeModel(net);
    expect(model.weights[1]).toEqual({});
    expect(Array.from(deserializeModel(JSON.parse(JSON.stringify(model))).predict(x, 3))).toEqual(Array.from(net.predict(x, 3)));
  });

  const misplaced: [string, LayerSpec[], number | undefined, string][] = [
    ['first', [{ type: 'dropout', rate: 0.5 }, { type: 'dense', units: 2, activation: 'linear' }], undefined, 'layers[0].type'],
    ['twice in a row', [{ type: 'dense', units: 3, activation: 'relu' }, { type: 'dropout', rate: 0.5 }, { type: 'dropout', rate: 0.5 }, { type: 'dense', units: 2, activation: 'linear' }], undefined, 'layers[2].type'],
    ['last', [{ type: 'dense', units: 3, activation: 'relu' }, { type: 'dropout', rate: 0.5 }], undefined, 'layers[1].type'],
    ['rate 1', [{ type: 'dense', units: 3, activation: 'relu' }, { type: 'dropout', rate: 1 }, { type: 'dense', units: 2, activation: 'linear' }], undefined, 'layers[1].rate'],
    ['before a recurrent layer', [{ type: 'gru', units: 3, returnSequences: true }, { type: 'dropout', rate: 0.5 }, { type: 'lstm', units: 3 }, { type: 'dense', units: 2, activation: 'linear' }], 4, 'layers[2].type'],
  ];
  it.each(misplaced)('refuses a dropout layer %s, naming %s', (_, layers, sequenceLength, field) => {
    expect(() => createNetwork({ inputSize: 2, sequenceLength, layers, loss: 'meanSquaredError' })).toThrow(expect.objectContaining({ field: field }));
  });
});
