// Class weights (training option classWeights) turned into the engine's sample weights, one per dataset row. As
// scikit-learn's class_weight: 'balanced' gives class c the weight n / (classes x n_c), fitted on the training rows
// only (the validation rows are weighted with what the training rows gave, like any fitted preprocessing); a map
// gives a label its weight, and labels it does not name weigh 1.
import type { ClassWeights } from '../contracts/training.js';

/** Labels of a classWeights map that are not classes of the dataset (none for 'balanced'), in the map's order. */
export function unknownClassWeightLabels(classWeights: ClassWeights, classes: string[]): string[] {
  if (classWeights === 'balanced') return [];
  const known = new Set(classes);
  return Object.keys(classWeights).filter((label) => !known.has(label));
}

/**
 * One weight per row of `outputs` (rows x classes.length, one-hot in the order of `classes`), by the row's class.
 * 'balanced' counts classes over `trainRows` only; `classes` in its formula is the number of classes found there, so
 * the training rows' weights still average exactly 1 (scikit-learn's property) when a class is missing from them,
 * and a class absent from the training rows weighs 1. Map labels that are not classes are ignored (the API refuses
 * them first, see unknownClassWeightLabels).
 */
export function rowWeights(classWeights: ClassWeights, outputs: Float32Array, classes: string[], trainRows: Uint32Array): Float32Array {
  const k = classes.length;
  if (k === 0 || outputs.length % k !== 0) throw new RangeError(`outputs hold ${outputs.length} values, not rows of ${k} classes`);
  const classOfRow = oneHotClasses(outputs, k);
  const weightOfClass = classWeights === 'balanced' ? balancedWeights(classOfRow, k, trainRows) : mappedWeights(classWeights, classes);
  const weights = new Float32Array(classOfRow.length);
  for (let r = 0; r < weights.length; r++) weights[r] = weightOfClass[classOfRow[r]];
  return weights;
}

/** n / (present x n_c) for each class c present among the training rows (present of them), 1 for the others. */
function balancedWeights(classOfRow: Uint32Array, k: number, trainRows: Uint32Array): Float64Array {
  const counts = new Float64Array(k);
  for (const r of trainRows) counts[classOfRow[r]]++;
  const present = counts.reduce((n, count) => n + (count > 0 ? 1 : 0), 0);
  return counts.map((count) => (count > 0 ? trainRows.length / (present * count) : 1));
}

function mappedWeights(classWeights: Record<string, number>, classes: string[]): Float64Array {
  // Object.hasOwn: a class named "constructor" must not pick up Object.prototype's.
  return Float64Array.from(classes, (label) => (Object.hasOwn(classWeights, label) ? classWeights[label] : 1));
}

/** The class of each one-hot row: the index of its largest value (the first, on ties). */
function oneHotClasses(outputs: Float32Array, k: number): Uint32Array {
  const classOfRow = new Uint32Array(outputs.length / k);
  for (let r = 0; r < classOfRow.length; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (outputs[r * k + j] > outputs[r * k + best]) best = j;
    classOfRow[r] = best;
  }
  return classOfRow;
}
