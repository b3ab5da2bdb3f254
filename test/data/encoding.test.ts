// The fitted encoding: learnt from the training rows only, applied the same way to stored datasets and predict rows.
import { describe, expect, it } from 'vitest';
import { DEFAULT_PREPROCESSING } from '../../src/contracts/preprocessing.js';
import { encodeDataset } from '../../src/data/encode-dataset.js';
import { encodeStored, RowEncoder } from '../../src/data/encode-inputs.js';
import { fitEncoding, storedEncoding } from '../../src/data/encoding.js';
import { splitRows } from '../../src/engine/index.js';
import { penguins } from '../helpers/tables.js';

function penguinTable() {
  const rows = penguins();
  const columns = Object.keys(rows[0]);
  const dataset = encodeDataset(columns, rows.map((r) => columns.map((c) => r[c])), ['Species']);
  const features = dataset.columns!.filter((c) => c.role === 'feature');
  return { rows, dataset, raw: { columns: features, values: dataset.inputs, steps: 1 } };
}

describe('encoding', () => {
  it('fits statistics and categories on the training rows only', () => {
    const { rows, dataset, raw } = penguinTable();
    const { train } = splitRows(dataset.rows, 0.2, 11);
    const encoding = fitEncoding(DEFAULT_PREPROCESSING, raw, train);
    const trainRows = [...train].map((r) => rows[r]);
    const beak = trainRows.map((r) => r['Beak Length (mm)']).filter((v): v is number => v !== null).map(Math.fround);
    const mean = beak.reduce((a, b) => a + b, 0) / beak.length;
    const std = Math.sqrt(beak.reduce((a, b) => a + (b - mean) ** 2, 0) / beak.length);
    const column = encoding.columns.find((c) => c.name === 'Beak Length (mm)')!;
    expect(column).toMatchObject({ type: 'numeric', indicator: true });
    if (column.type === 'categorical') throw new Error('unreachable');
    expect(column.center).toBeCloseTo(mean, 9);
    expect(column.scale).toBeCloseTo(std, 9);
    expect(column.fill).toBeCloseTo(mean, 9);
    // Sex: most frequent first among the training rows; "." appears once in the whole table.
    const sex = encoding.columns.find((c) => c.name === 'Sex')!;
    if (sex.type !== 'categorical') throw new Error('Sex is categorical');
    const counts = (label: string) => trainRows.filter((r) => r.Sex === label).length;
    expect(sex.categories.slice(0, 2)).toEqual(counts('MALE') >= counts('FEMALE') ? ['MALE', 'FEMALE'] : ['FEMALE', 'MALE']);
    expect(sex.categories.includes('.')).toBe(trainRows.some((r) => r.Sex === '.'));
    expect(encoding.inputs.length).toBe(encoding.columns.reduce((n, c) => n + (c.type === 'categorical' ? c.categories.length + 2 : c.indicator ? 2 : 1), 0));
  });

  it('caps categories at maxCategories, the rest sharing "other", and imputes the median when asked', () => {
    const { dataset, raw } = penguinTable();
    const all = Uint32Array.from({ length: dataset.rows }, (_, i) => i);
    const encoding = fitEncoding({ ...DEFAULT_PREPROCESSING, maxCategories: 1, impute: 'median', standardize: false }, raw, all);
    const island = encoding.columns.find((c) => c.name === 'Island')!;
    expect(island).toEqual({ name: 'Island', type: 'categorical', categories: ['Biscoe'] });
    const mass = encoding.columns.find((c) => c.name === 'Body Mass (g)')!;
    const values = penguins().map((p) => p['Body Mass (g)']).filter((v): v is number => v !== null).sort((a, b) => a - b);
    expect(mass).toMatchObject({ fill: (values[values.length / 2 - 1] + values[values.length / 2]) / 2, center: 0, scale: 1 });
    const { inputs } = encodeStored(encoding, raw);
    const width = encoding.inputs.length;
    const dreamRow = penguins().findIndex((p) => p.Island === 'Dream');
    expect(Array.from(inputs.subarray(dreamRow * width, dreamRow * width + 3))).toEqual([0, 1, 0]); // Biscoe, other, missing
  });

  it('encodes a stored dataset and keyed predict rows identically, and reports unseen categories', () => {
    const { rows, dataset, raw } = penguinTable();
    const { train } = splitRows(dataset.rows, 0.25, 3);
    const encoding = fitEncoding(DEFAULT_PREPROCESSING, raw, train);
    const { inputs } = encodeStored(encoding, raw);
    const encoder = new RowEncoder(encoding, ['Species']);
    const out = new Float32Array(rows.length * encoder.width);
    rows.forEach((row, r) => expect(encoder.encodeObject(row, out, r * encoder.width, `inputs[${r}]`)).toEqual(expect.any(Array)));
    expect(out).toEqual(inputs);
    const unseen = encoder.encodeObject({ ...rows[0], Island: 'Atlantis' }, new Float32Array(encoder.width), 0, 'inputs[0]');
    expect(unseen).toEqual([{ column: 'Island', value: 'Atlantis' }]);
    expect(() => encoder.encodeObject({ ...rows[0], 'Body Mass (g)': 'heavy' }, new Float32Array(encoder.width), 0, 'inputs[0]')).toThrow(
      /inputs\[0\]\.Body Mass \(g\): expected a finite number/,
    );
  });

  it('reads the preprocessing of models from before the encoding as standardized numeric columns', () => {
    const encoding = storedEncoding({ standardize: true, mean: [2, 5], std: [2, 1] }, ['a', 'b'])!;
    const encoder = new RowEncoder(encoding, null);
    const out = new Float32Array(2);
    encoder.encodeArray([4, 5], out, 0, () => 'inputs[0]');
    expect(Array.from(out)).toEqual([1, 0]);
    expect(() => encoder.encodeObject({ a: 1 }, out, 0, 'inputs[0]')).toThrow(/missing b/);
    expect(storedEncoding({ ...DEFAULT_PREPROCESSING }, ['a'])).toBeNull(); // options a job has not fitted yet
  });
});
