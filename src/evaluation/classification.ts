// Classification metrics with scikit-learn's semantics (accuracy_score, log_loss, confusion_matrix,
// precision_recall_fscore_support with zero_division=0, roc_auc_score), so figures match what users check them with.
import type { ClassificationEvaluation, EvaluatedRows } from '../contracts/evaluation.js';

type Values = Float32Array | Float64Array;

/** log_loss's clip: a confident wrong answer costs -ln(1e-15) ≈ 34.5 instead of Infinity, which JSON cannot carry. */
const LOG_LOSS_EPSILON = 1e-15;

/**
 * Judges a softmax classifier. `probabilities` and `targets` are row-major, rows x labels.length: the model's outputs
 * and the one-hot actual classes (an actual class is its row's largest target). Throws a RangeError on mismatched
 * sizes, no rows, or a value that is negative or not finite.
 */
export function evaluateClassification(
  probabilities: Values,
  targets: Values,
  labels: readonly string[],
  on: EvaluatedRows,
): ClassificationEvaluation {
  const k = labels.length;
  if (k === 0) throw new RangeError('labels: expected at least one class');
  if (targets.length === 0 || targets.length % k !== 0 || probabilities.length !== targets.length) {
    throw new RangeError(
      `expected probabilities and targets of rows x ${k} values, at least one row; got ${probabilities.length} and ${targets.length}`,
    );
  }
  requireProbabilities(probabilities, 'probabilities');
  requireProbabilities(targets, 'targets');
  const rows = targets.length / k;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const positive = new Uint8Array(rows);
  let logLossSum = 0;
  for (let r = 0; r < rows; r++) {
    const offset = r * k;
    const actual = argmax(targets, offset, k);
    confusion[actual][argmax(probabilities, offset, k)]++;
    positive[r] = actual === 1 ? 1 : 0;
    let sum = 0;
    for (let j = 0; j < k; j++) sum += probabilities[offset + j];
    logLossSum -= Math.log(clip(probabilities[offset + actual] / sum));
  }

  let correct = 0;
  for (let i = 0; i < k; i++) correct += confusion[i][i];
  const perClass = labels.map((label, i) => {
    const truePositives = confusion[i][i];
    const support = confusion[i].reduce((s, n) => s + n, 0);
    let predicted = 0;
    for (let a = 0; a < k; a++) predicted += confusion[a][i];
    return {
      label,
      precision: predicted === 0 ? 0 : truePositives / predicted,
      recall: support === 0 ? 0 : truePositives / support,
      // 2PR / (P + R) written with counts, 2TP / (2TP + FP + FN), which is 0 rather than 0/0 when TP is 0.
      f1: support + predicted === 0 ? 0 : (2 * truePositives) / (support + predicted),
      support,
    };
  });

  return {
    kind: 'classification',
    rows,
    on,
    accuracy: correct / rows,
    logLoss: logLossSum / rows,
    labels: [...labels],
    confusionMatrix: confusion,
    perClass,
    macroF1: perClass.reduce((s, c) => s + c.f1, 0) / k,
    weightedF1: perClass.reduce((s, c) => s + c.f1 * c.support, 0) / rows,
    // Like roc_auc_score on probabilities[:, 1]: the raw column, not renormalised, since only its order matters.
    rocAuc: k === 2 ? rocAuc(column(probabilities, 1, 2), positive) : null,
  };
}

/**
 * Judges a binary classifier with one sigmoid output: `probabilities[r]` is P(labels[1]) and `targets[r]` is 1 for
 * labels[1], 0 for labels[0]. Expanded to the two-column form [1 - p, p] so both heads share one implementation;
 * in float64, where 1 - p is exact for a float32 p. A row at exactly 0.5 is predicted labels[0] (first on ties).
 */
export function evaluateBinaryClassification(
  probabilities: Values,
  targets: Values,
  labels: readonly [string, string],
  on: EvaluatedRows,
): ClassificationEvaluation {
  if (labels.length !== 2) throw new RangeError(`labels: expected two classes, got ${labels.length}`);
  if (probabilities.length !== targets.length) {
    throw new RangeError(`expected one probability and one target per row; got ${probabilities.length} and ${targets.length}`);
  }
  const twoColumns = (values: Values) => {
    const out = new Float64Array(values.length * 2);
    for (let r = 0; r < values.length; r++) {
      out[2 * r] = 1 - values[r];
      out[2 * r + 1] = values[r];
    }
    return out;
  };
  return evaluateClassification(twoColumns(probabilities), twoColumns(targets), labels, on);
}

/** The first largest value's index: numpy's argmax, so ties go to the earlier label as in scikit-learn. */
function argmax(values: Values, offset: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (values[offset + j] > values[offset + best]) best = j;
  return best;
}

/** An all-zero row renormalises to 0/0 = NaN; it gave the actual class nothing, so it costs the clip's floor. */
function clip(p: number): number {
  return p > LOG_LOSS_EPSILON ? Math.min(p, 1 - LOG_LOSS_EPSILON) : LOG_LOSS_EPSILON;
}

function requireProbabilities(values: Values, field: string): void {
  for (let i = 0; i < values.length; i++) {
    // The negated test also catches NaN.
    if (!(values[i] >= 0 && values[i] < Infinity)) {
      throw new RangeError(`${field}[${i}]: expected a finite probability >= 0, got ${values[i]}`);
    }
  }
}

function column(values: Values, j: number, k: number): Float64Array {
  const out = new Float64Array(values.length / k);
  for (let r = 0; r < out.length; r++) out[r] = values[r * k + j];
  return out;
}

/**
 * The Mann-Whitney form of the ROC AUC: the chance that a random positive outscores a random negative, ties counting
 * a half. With scores ranked 1..n and tied scores sharing their average rank, it is
 * (sum of the positives' ranks - nPos (nPos + 1) / 2) / (nPos nNeg), O(n log n) instead of comparing every pair.
 * Null when a class is absent: there is no pair to compare.
 */
function rocAuc(scores: Float64Array, positive: Uint8Array): number | null {
  const n = scores.length;
  const positives = positive.reduce((s, p) => s + p, 0);
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  const order = new Uint32Array(n).map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positiveRankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && scores[order[end]] === scores[order[start]]) end++;
    // Positions start..end-1 hold ranks start+1..end; their average is shared by the tie.
    const averageRank = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) positiveRankSum += positive[order[i]] * averageRank;
    start = end;
  }
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
