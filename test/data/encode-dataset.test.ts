import { describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/data/dataset-error.js';
import { encodeDataset } from '../../src/data/encode-dataset.js';
import { readCsv } from '../../src/data/parse-csv.js';
import { applyPreprocessing, preprocessingFor } from '../../src/data/standardize.js';

/** A CSV as its header and data rows of strings. */
function parseCsv(text: string): { columns: string[]; rows: string[][] } {
  const records: string[][] = [];
  readCsv(text, (cells) => records.push(cells));
  const [columns, ...rows] = records;
  return { columns, rows };
}

const fail = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DatasetError);
    return err as DatasetError;
  }
  throw new Error('expected a DatasetError');
};

describe('encodeDataset', () => {
  it('one-hot encodes a string target in sorted class order and packs features row-major', () => {
    const table = parseCsv('a,b,label\n1,2,cat\n3,4,dog\n5,6,cat\n');
    const d = encodeDataset(table.columns, table.rows, ['label']);
    expect(d.classes).toEqual(['cat', 'dog']);
    expect(Array.from(d.inputs)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(d.outputs)).toEqual([1, 0, 0, 1, 1, 0]);
    expect(d.stats.label).toEqual({ kind: 'categorical', counts: { cat: 2, dog: 1 } });
    expect(d.stats.a).toMatchObject({ min: 1, max: 5, mean: 3 });
    expect((d.stats.a as { std: number }).std).toBeCloseTo(Math.sqrt(8 / 3), 12);
  });

  it('keeps a target column in the middle out of the features', () => {
    const d = encodeDataset(['a', 'y', 'b'], [[1, 10, 2], [3, 20, 4]], ['y']);
    expect(d.features).toEqual(['a', 'b']);
    expect(Array.from(d.inputs)).toEqual([1, 2, 3, 4]);
    expect(Array.from(d.outputs)).toEqual([10, 20]);
  });

  it('names the row and column of bad cells', () => {
    expect(fail(() => encodeDataset(['a', 'y'], [[1, 2], ['-inf', 3]], ['y'])).details).toEqual({ field: 'rows[1][0]', row: 2, column: 'a' });
    expect(fail(() => encodeDataset(['a', 'y'], [[1, 2], [3]], ['y'])).message).toContain('row 2 has 1 cells, expected 2');
    expect(fail(() => encodeDataset(['a', 'a'], [[1, 2]], ['a'])).message).toContain('appears twice');
    expect(fail(() => encodeDataset(['a', 'b', 'c'], [[1, 'x', 'y']], ['b', 'c'])).message).toContain('single column');
    expect(fail(() => encodeDataset(['a', 'y'], [[1, ' ']], ['y'])).details).toMatchObject({ row: 1, column: 'y' });
  });

  it('standardizes with the stored statistics and leaves constant columns finite', () => {
    const p = preprocessingFor(true, [2, 5], [2, 0]);
    expect(p.std).toEqual([2, 1]);
    expect(Array.from(applyPreprocessing(p, new Float32Array([4, 5, 0, 5]), 2))).toEqual([1, 0, -1, 0]);
  });
});
