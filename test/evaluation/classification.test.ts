import { describe, expect, it } from 'vitest';
import { evaluationSchema } from '../../src/contracts/evaluation.js';
import { evaluateBinaryClassification, evaluateClassification } from '../../src/evaluation/classification.js';
import { irisRows } from '../helpers/iris.js';
import { engineClassifier, nearestCentroid, oneHotSpecies, SPECIES } from './iris-classifiers.js';

type Figures = ReturnType<typeof evaluateClassification>;

/**
 * The figures recomputed another way: class lists from indexOf(max), the confusion matrix by filtering, each class's
 * TP/FP/FN by a plain loop, F1 as 2PR / (P + R), log loss with its clip written out.
 */
function reference(probabilities: ArrayLike<number>, targets: ArrayLike<number>, labels: string[]) {
  const k = labels.length;
  const rows = targets.length / k;
  const rowOf = (values: ArrayLike<number>, r: number) => Array.from({ length: k }, (_, j) => values[r * k + j]);
  const classOf = (values: ArrayLike<number>, r: number) => rowOf(values, r).indexOf(Math.max(...rowOf(values, r)));
  const actual = Array.from({ length: rows }, (_, r) => classOf(targets, r));
  const predicted = Array.from({ length: rows }, (_, r) => classOf(probabilities, r));
  const confusionMatrix = labels.map((_, i) => labels.map((_, j) => actual.filter((a, r) => a === i && predicted[r] === j).length));
  const perClass = labels.map((label, i) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let r = 0; r < rows; r++) {
      if (predicted[r] === i && actual[r] === i) tp++;
      else if (predicted[r] === i) fp++;
      else if (actual[r] === i) fn++;
    }
    const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
    const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support: tp + fn };
  });
  const logLoss =
    actual
      .map((a, r) => {
        const row = rowOf(probabilities, r);
        const p = row[a] / row.reduce((s, v) => s + v, 0);
        return -Math.log(Math.max(1e-15, Math.min(1 - 1e-15, p)));
      })
      .reduce((s, v) => s + v, 0) / rows;
  return {
    accuracy: confusionMatrix.reduce((trace, row, i) => trace + row[i], 0) / rows,
    logLoss,
    confusionMatrix,
    perClass,
    macroF1: perClass.reduce((s, c) => s + c.f1, 0) / k,
    weightedF1: perClass.reduce((s, c) => s + c.f1 * c.support, 0) / rows,
  };
}

/** Every positive/negative pair compared, O(n²): a win counts 1, a tie a half. */
function aucByPairs(scores: number[], positive: boolean[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((s, i) => {
    if (!positive[i]) return;
    scores.forEach((t, j) => {
      if (positive[j]) return;
      pairs++;
      wins += s > t ? 1 : s === t ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

/** Deep comparison with numbers to 12 digits: the two computations add in different orders. */
function expectClose(actual: unknown, expected: unknown, path = 'figures'): void {
  if (typeof expected === 'number') {
    expect(actual, path).toBeTypeOf('number');
    expect(actual as number, path).toBeCloseTo(expected, 12);
  } else if (expected !== null && typeof expected === 'object') {
    for (const [key, value] of Object.entries(expected)) expectClose((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
  } else {
    expect(actual, path).toEqual(expected);
  }
}

/** A result is what the contract promises: it parses, and survives JSON unchanged. */
function expectValid(result: Figures): void {
  expect(evaluationSchema.parse(JSON.parse(JSON.stringify(result)))).toEqual(result);
}

/** Versicolor (negative) against virginica (positive), scored by a sigmoid of the petal width: widths tie often. */
function petalWidthSigmoid() {
  const { features, species } = irisRows();
  const rows = species.map((s, r) => r).filter((r) => species[r] !== 'setosa');
  return {
    probabilities: Float64Array.from(rows, (r) => 1 / (1 + Math.exp(-4 * (features[r][3] - 1.65)))),
    targets: Float64Array.from(rows, (r) => (species[r] === 'virginica' ? 1 : 0)),
  };
}

describe('evaluateClassification', () => {
  it('a nearest-centroid classifier of Iris: the figures scikit-learn 1.2.1 gives, and the reference computation', () => {
    const { probabilities, targets } = nearestCentroid();
    const result = evaluateClassification(probabilities, targets, SPECIES, 'dataset');
    expectClose(result, { kind: 'classification', rows: 150, on: 'dataset', labels: SPECIES, rocAuc: null, ...reference(probabilities, targets, SPECIES) });
    // Pinned from sklearn.metrics (accuracy_score, log_loss, confusion_matrix, precision_recall_fscore_support and
    // f1_score with zero_division=0), run once by hand on these probabilities.
    expectClose(result, {
      accuracy: 0.9266666666666666,
      logLoss: 0.1697200668825237,
      confusionMatrix: [
        [50, 0, 0],
        [0, 46, 4],
        [0, 7, 43],
      ],
      perClass: [
        { precision: 1, recall: 1, f1: 1, support: 50 },
        { precision: 0.8679245283018868, recall: 0.92, f1: 0.8932038834951457, support: 50 },
        { precision: 0.9148936170212766, recall: 0.86, f1: 0.8865979381443299, support: 50 },
      ],
      macroF1: 0.9266006072131585,
      weightedF1: 0.9266006072131586,
    });
    expectValid(result);
  });

  it('a network trained by the engine, judged on its float32 outputs for 50 held-out rows', () => {
    const { probabilities, targets, rows } = engineClassifier();
    expect(probabilities).toBeInstanceOf(Float32Array);
    const result = evaluateClassification(probabilities, targets, SPECIES, 'validation');
    expect(result.rows).toBe(rows);
    expectClose(result, reference(probabilities, targets, SPECIES));
    // Briefly trained, so it errs: the figures are not the trivial ones of a perfect model.
    expect(result.accuracy).toBeGreaterThan(0.6);
    expect(result.accuracy).toBeLessThan(1);
    expectValid(result);
  });

  it('a class never predicted has precision, recall and F1 0, and still counts in the macro mean', () => {
    const { features, species } = irisRows();
    // Setosa by petal length, everything else versicolor: virginica is never predicted.
    const probabilities = Float64Array.from(features.flatMap((x) => (x[2] < 2.5 ? [0.8, 0.15, 0.05] : [0.1, 0.8, 0.1])));
    const targets = oneHotSpecies(species);
    const result = evaluateClassification(probabilities, targets, SPECIES, 'dataset');
    expect(result.confusionMatrix.map((row) => row[2])).toEqual([0, 0, 0]);
    expect(result.perClass[2]).toEqual({ label: 'virginica', precision: 0, recall: 0, f1: 0, support: 50 });
    expect(result.perClass[1].precision).toBe(0.5);
    expect(result.macroF1).toBeCloseTo((1 + 2 / 3 + 0) / 3, 15);
    expectClose(result, reference(probabilities, targets, SPECIES));
    expectValid(result);
  });

  it('a class absent from the rows has support 0 and recall 0; a wrong prediction of it has precision 0', () => {
    const { probabilities, targets } = nearestCentroid();
    // Setosa and versicolor rows only, with one versicolor row predicted virginica.
    const rows = 100;
    const p = probabilities.slice(0, rows * 3);
    p.set([0.1, 0.2, 0.7], 60 * 3);
    const result = evaluateClassification(p, targets.slice(0, rows * 3), SPECIES, 'validation');
    expect(result.perClass[2]).toEqual({ label: 'virginica', precision: 0, recall: 0, f1: 0, support: 0 });
    expect(result.confusionMatrix[2]).toEqual([0, 0, 0]);
    expect(result.weightedF1).toBeCloseTo((50 * 1 + 50 * result.perClass[1].f1) / 100, 15);
    expectClose(result, reference(p, targets.slice(0, rows * 3), SPECIES));
  });

  it('a tie between the largest probabilities predicts the first of them, as numpy argmax does', () => {
    const probabilities = Float64Array.of(0.4, 0.4, 0.2, 0.2, 0.4, 0.4, 1 / 3, 1 / 3, 1 / 3);
    const targets = Float64Array.of(0, 1, 0, 0, 0, 1, 0, 0, 1);
    const result = evaluateClassification(probabilities, targets, ['a', 'b', 'c'], 'dataset');
    expect(result.confusionMatrix).toEqual([
      [0, 0, 0],
      [1, 0, 0],
      [1, 1, 0],
    ]);
    expect(result.accuracy).toBe(0);
  });

  it('log loss renormalises each row, clips at 1e-15 and treats an all-zero row as the clip', () => {
    const targets = Float64Array.of(1, 0, 0, 1, 0, 1, 0, 1);
    const certain = evaluateClassification(Float64Array.of(1, 0, 1, 0, 0, 1, 0, 0), targets, ['a', 'b'], 'dataset');
    // Two right with certainty, one wrong with certainty, one row of zeros.
    expect(certain.logLoss).toBeCloseTo((-2 * Math.log(1 - 1e-15) - 2 * Math.log(1e-15)) / 4, 14);
    expect(certain.logLoss).toBeCloseTo(17.269388197455342, 12);
    const { probabilities, targets: iris } = nearestCentroid();
    const scaled = evaluateClassification(probabilities.map((p) => p * 3), iris, SPECIES, 'dataset');
    expect(scaled.logLoss).toBeCloseTo(evaluateClassification(probabilities, iris, SPECIES, 'dataset').logLoss, 14);
  });

  it('refuses mismatched sizes, no rows, and probabilities that are negative or not finite', () => {
    const ok = Float64Array.of(0.5, 0.5);
    expect(() => evaluateClassification(ok, Float64Array.of(1, 0, 0), ['a', 'b'], 'dataset')).toThrow(RangeError);
    expect(() => evaluateClassification(Float64Array.of(1, 0, 0), Float64Array.of(1, 0, 0), ['a', 'b'], 'dataset')).toThrow(RangeError);
    expect(() => evaluateClassification(new Float64Array(0), new Float64Array(0), ['a', 'b'], 'dataset')).toThrow(RangeError);
    expect(() => evaluateClassification(ok, ok, [], 'dataset')).toThrow(RangeError);
    expect(() => evaluateClassification(Float64Array.of(NaN, 1), ok, ['a', 'b'], 'dataset')).toThrow(/probabilities\[0\]/);
    expect(() => evaluateClassification(Float64Array.of(1.5, -0.5), ok, ['a', 'b'], 'dataset')).toThrow(/probabilities\[1\]/);
    expect(() => evaluateClassification(ok, Float64Array.of(Infinity, 0), ['a', 'b'], 'dataset')).toThrow(/targets\[0\]/);
  });
});

describe('ROC AUC', () => {
  it('two softmax columns: the rank formula equals counting every pair, with many tied scores', () => {
    const { probabilities: p, targets: t } = petalWidthSigmoid();
    const two = (values: Float64Array) => Float64Array.from(Array.from(values).flatMap((v) => [1 - v, v]));
    const result = evaluateClassification(two(p), two(t), ['versicolor', 'virginica'], 'dataset');
    const scores = Array.from(p);
    expect(new Set(scores).size).toBeLessThan(scores.length / 5);
    // Ties across the classes too, so the average ranks matter.
    const positiveScores = new Set(scores.filter((_, r) => t[r] === 1));
    expect(scores.filter((s, r) => t[r] === 0 && positiveScores.has(s)).length).toBeGreaterThan(5);
    expect(result.rocAuc).toBeCloseTo(aucByPairs(scores, Array.from(t, (v) => v === 1)), 14);
    // Pinned from sklearn.metrics.roc_auc_score.
    expect(result.rocAuc).toBeCloseTo(0.9804, 14);
    expectValid(result);
  });

  it('scores are ranked, not thresholded: all equal gives 0.5, a reversed order 0, and one class absent null', () => {
    const auc = (p: number[], t: number[]) => evaluateBinaryClassification(Float64Array.from(p), Float64Array.from(t), ['n', 'p'], 'dataset').rocAuc;
    expect(auc([0.3, 0.3, 0.3, 0.3], [0, 1, 0, 1])).toBe(0.5);
    expect(auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(auc([0.1, 0.2, 0.2, 0.3], [0, 0, 1, 1])).toBe(0.875);
    expect(auc([0.1, 0.9], [1, 1])).toBeNull();
    expect(auc([0.1, 0.9], [0, 0])).toBeNull();
  });

  it('is null for more than two classes', () => {
    const { probabilities, targets } = nearestCentroid();
    expect(evaluateClassification(probabilities, targets, SPECIES, 'dataset').rocAuc).toBeNull();
  });
});

describe('evaluateBinaryClassification (one sigmoid output)', () => {
  it('judges P(labels[1]) exactly as the two-column softmax form [1 - p, p]', () => {
    const { probabilities: p, targets: t } = petalWidthSigmoid();
    const labels: [string, string] = ['versicolor', 'virginica'];
    const result = evaluateBinaryClassification(p, t, labels, 'validation');
    const two = (values: Float64Array) => Float64Array.from(Array.from(values).flatMap((v) => [1 - v, v]));
    expect(result).toEqual(evaluateClassification(two(p), two(t), labels, 'validation'));
    expectClose(result, reference(two(p), two(t), labels));
    expect(result.rows).toBe(100);
    // Pinned from sklearn.metrics: log_loss, accuracy_score and f1_score(average='macro') of p > 0.5.
    expect(result.logLoss).toBeCloseTo(0.2918104823404813, 14);
    expect(result.accuracy).toBeCloseTo(0.94, 15);
    expect(result.macroF1).toBeCloseTo(0.9399759903961584, 14);
  });

  it('a float32 probability of exactly 0.5 predicts labels[0]', () => {
    const result = evaluateBinaryClassification(Float32Array.of(0.5, 0.5, 0.75), Float32Array.of(0, 1, 1), ['no', 'yes'], 'dataset');
    expect(result.confusionMatrix).toEqual([
      [1, 0],
      [1, 1],
    ]);
    expect(result.logLoss).toBeCloseTo((2 * Math.log(2) - Math.log(0.75)) / 3, 15);
  });

  it('refuses a probability above 1, mismatched sizes and other than two labels', () => {
    const three = ['a', 'b', 'c'] as unknown as [string, string];
    expect(() => evaluateBinaryClassification(Float64Array.of(0.2, 0.3, 0.4), Float64Array.of(1, 0, 1), three, 'dataset')).toThrow(/two classes/);
    expect(() => evaluateBinaryClassification(Float64Array.of(1.2), Float64Array.of(1), ['n', 'p'], 'dataset')).toThrow(RangeError);
    expect(() => evaluateBinaryClassification(Float64Array.of(0.2, 0.3), Float64Array.of(1), ['n', 'p'], 'dataset')).toThrow(RangeError);
  });
});
