import { describe, expect, it } from 'vitest';
import { trainingSchema } from '../../src/contracts/training.js';
import { rowWeights, unknownClassWeightLabels } from '../../src/data/class-weights.js';
import { createNetwork, splitRows } from '../../src/engine/index.js';
import { irisRows } from '../helpers/iris.js';

const CLASSES = ['setosa', 'versicolor', 'virginica'];

/** Iris made imbalanced by dropping rows: the first 50, 20 and 5 rows of each species (75 rows), one-hot in CLASSES order. */
function imbalancedIris(): { features: number[][]; species: string[]; outputs: Float32Array } {
  const iris = irisRows();
  const keep = { setosa: 50, versicolor: 20, virginica: 5 } as Record<string, number>;
  const seen: Record<string, number> = {};
  const rows = iris.species.flatMap((s, r) => ((seen[s] = (seen[s] ?? 0) + 1) <= keep[s] ? [r] : []));
  const species = rows.map((r) => iris.species[r]);
  const outputs = new Float32Array(rows.length * 3);
  species.forEach((s, i) => (outputs[i * 3 + CLASSES.indexOf(s)] = 1));
  return { features: rows.map((r) => iris.features[r]), species, outputs };
}

const allRows = (n: number) => Uint32Array.from({ length: n }, (_, i) => i);

describe('rowWeights', () => {
  const { species, outputs } = imbalancedIris();

  it('"balanced" over every row: n / (classes x n_class), so each class weighs the same in total', () => {
    const weights = rowWeights('balanced', outputs, CLASSES, allRows(75));
    const expected = { setosa: 75 / (3 * 50), versicolor: 75 / (3 * 20), virginica: 75 / (3 * 5) } as Record<string, number>;
    expect(Array.from(weights)).toEqual(species.map((s) => Math.fround(expected[s])));
    expect(expected).toEqual({ setosa: 0.5, versicolor: 1.25, virginica: 5 });
    const totals = CLASSES.map((c) => species.reduce((sum, s, r) => sum + (s === c ? weights[r] : 0), 0));
    expect(totals).toEqual([25, 25, 25]);
  });

  it('"balanced" counts the training rows only; validation rows get their class weight', () => {
    const { train, validation } = splitRows(75, 0.2, 42);
    const count = (c: string) => Array.from(train).filter((r) => species[r] === c).length;
    const counts = CLASSES.map(count);
    const weights = rowWeights('balanced', outputs, CLASSES, train);
    // The training rows' class proportions differ from the whole set's (50:20:5), or this test would show nothing.
    expect(weights).not.toEqual(rowWeights('balanced', outputs, CLASSES, allRows(75)));
    for (const r of [...train, ...validation]) {
      const c = CLASSES.indexOf(species[r]);
      expect(weights[r]).toBe(Math.fround(train.length / (3 * counts[c])));
    }
    const trainSum = Array.from(train).reduce((sum, r) => sum + weights[r], 0);
    expect(trainSum).toBeCloseTo(train.length, 4);
  });

  it('a class absent from the training rows weighs 1; the others are balanced over the classes present', () => {
    const train = Uint32Array.from(allRows(75).filter((r) => species[r] !== 'virginica'));
    const weights = rowWeights('balanced', outputs, CLASSES, train);
    const of = (c: string) => new Set(species.flatMap((s, r) => (s === c ? [weights[r]] : [])));
    expect(of('virginica')).toEqual(new Set([1]));
    expect(of('setosa')).toEqual(new Set([Math.fround(70 / (2 * 50))]));
    expect(of('versicolor')).toEqual(new Set([Math.fround(70 / (2 * 20))]));
  });

  it('a map gives its labels their weight and every other class 1', () => {
    const weights = rowWeights({ virginica: 10, versicolor: 0.5 }, outputs, CLASSES, allRows(75));
    expect(Array.from(weights)).toEqual(species.map((s) => ({ setosa: 1, versicolor: 0.5, virginica: 10 })[s]));
    // The training rows do not matter to a map.
    expect(rowWeights({ virginica: 10, versicolor: 0.5 }, outputs, CLASSES, new Uint32Array(0))).toEqual(weights);
  });

  it('a class named like an Object.prototype member is not weighted by it', () => {
    const outputs2 = Float32Array.of(1, 0, 0, 1);
    expect(Array.from(rowWeights({ b: 3 }, outputs2, ['constructor', 'b'], allRows(2)))).toEqual([1, 3]);
  });

  it('refuses outputs that are not rows of the classes', () => {
    expect(() => rowWeights('balanced', new Float32Array(7), CLASSES, allRows(2))).toThrow(RangeError);
  });

  it('balanced weights make the weighted loss the mean over classes of each class mean loss (the engine, float64)', () => {
    const { features } = imbalancedIris();
    const network = createNetwork(
      { inputSize: 4, layers: [{ type: 'dense', units: 3, activation: 'softmax' }], loss: 'categoricalCrossEntropy' },
      3,
      'float64',
    );
    const x = Float64Array.from(features.flat());
    const y = Float64Array.from(outputs);
    const weights = Float64Array.from(rowWeights('balanced', outputs, CLASSES, allRows(75)));
    const classMeans = CLASSES.map((c) => {
      const rows = Array.from(allRows(75)).filter((r) => species[r] === c);
      const pick = (a: Float64Array, width: number) => Float64Array.from(rows.flatMap((r) => Array.from(a.subarray(r * width, (r + 1) * width))));
      return network.evaluate(pick(x, 4), pick(y, 3), rows.length);
    });
    expect(network.evaluate(x, y, 75, weights)).toBeCloseTo((classMeans[0] + classMeans[1] + classMeans[2]) / 3, 12);
  });
});

describe('unknownClassWeightLabels', () => {
  it('names the labels of a map that are not classes, in the map order', () => {
    expect(unknownClassWeightLabels({ virginica: 2, Virginica: 3, constructor: 1 }, CLASSES)).toEqual(['Virginica', 'constructor']);
    expect(unknownClassWeightLabels({ setosa: 2 }, CLASSES)).toEqual([]);
    expect(unknownClassWeightLabels({}, CLASSES)).toEqual([]);
    expect(unknownClassWeightLabels('balanced', CLASSES)).toEqual([]);
  });
});

describe('classWeights in the training contract', () => {
  const parse = (classWeights: unknown) => trainingSchema.safeParse({ classWeights });

  it('accepts "balanced" or a map of positive weights up to 1e6, and is optional', () => {
    expect(parse('balanced').data?.classWeights).toBe('balanced');
    expect(parse({ setosa: 0.5, virginica: 1e6 }).data?.classWeights).toEqual({ setosa: 0.5, virginica: 1e6 });
    expect(trainingSchema.parse({}).classWeights).toBeUndefined();
  });

  it.each([['Balanced'], [{ setosa: 0 }], [{ setosa: -1 }], [{ setosa: 1e6 + 1 }], [{ setosa: 'high' }], [[1, 2]]])('refuses %j', (value) => {
    expect(parse(value).success).toBe(false);
  });
});
