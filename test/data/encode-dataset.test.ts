import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fail, rejection } from '../helpers/dataset-errors.js';
import { encodeCsv, encodeDataset } from '../../src/data/encode-dataset.js';
import { encodeSequenceCsv } from '../../src/data/encode-sequences.js';
import { readCsv } from '../../src/data/parse-csv.js';

/** A CSV as its header and data rows of strings. */
function parseCsv(text: string): { columns: string[]; rows: string[][] } {
  const records: string[][] = [];
  readCsv(text, (cells) => records.push(cells));
  const [columns, ...rows] = records;
  return { columns, rows };
}


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
    expect(fail(() => encodeDataset(['a', 'y'], [[1, 2], ['-inf', 3], [4, 5]], ['y'])).details).toEqual({ field: 'rows[1][0]', row: 2, column: 'a' });
    expect(fail(() => encodeDataset(['a', 'y'], [[1e39, 2]], ['y'])).details).toEqual({ field: 'rows[0][0]', row: 1, column: 'a' });
    expect(fail(() => encodeDataset(['a', 'y'], [[1, 2], [3]], ['y'])).message).toContain('row 2 has 1 cells, expected 2');
    expect(fail(() => encodeDataset(['a', 'a'], [[1, 2]], ['a'])).message).toContain('appears twice');
    expect(fail(() => encodeDataset(['a', 'b', 'c'], [[1, 'x', 'y']], ['b', 'c'])).message).toContain('single column');
    expect(fail(() => encodeDataset(['a', 'y'], [[1, ' ']], ['y'])).message).toContain('every one of the 1 rows has a missing target');
  });
});

/** The bytes of `text` one at a time: every character, quote and line break is cut somewhere. */
const byteByByte = (text: string) => Readable.from(Array.from(Buffer.from(text), (b) => Buffer.from([b])));


describe('encodeCsv (streamed)', () => {
  it('encodes a CSV arriving byte by byte exactly as the same table given whole', async () => {
    const text = '\ufeffa, b ,label\r\n1.5,"2",caf\u00e9\r\n\n-3e2,4,"a ""quoted""\nlabel"\r\n5,6.25,caf\u00e9\r\n';
    const streamed = await encodeCsv(byteByByte(text), ['label']);
    const table = parseCsv(text);
    expect(table.columns).toEqual(['a', 'b', 'label']);
    expect(streamed).toEqual(encodeDataset(table.columns, table.rows, ['label']));
    expect(streamed.classes).toEqual(['a "quoted"\nlabel', 'caf\u00e9']);
  });

  it('keeps numbers as they are for a numeric target, with statistics of the stored float32 values', async () => {
    const d = await encodeCsv(byteByByte('x,y\n0.1,1\n0.2,2.5\n0.3,-4\n'), ['y']);
    expect(d.classes).toBeUndefined();
    expect(Array.from(d.outputs)).toEqual([1, 2.5, -4]);
    const x = [0.1, 0.2, 0.3].map(Math.fround);
    expect(d.stats.x).toMatchObject({ min: x[0], max: x[2] });
    expect((d.stats.x as { mean: number }).mean).toBeCloseTo((x[0] + x[1] + x[2]) / 3, 15);
  });

  it('skips and counts rows whose target is missing, and still reports a ragged row after them', async () => {
    const err = await rejection(encodeCsv(byteByByte('a,label\n1,\n2,x\n3\n'), ['label']));
    expect(err.message).toContain('row 3 has 1 cells');
    const skipped = await encodeCsv(byteByByte('a,label\n1,\n2,x\n4,NA\n5,y\n'), ['label']);
    expect(skipped).toMatchObject({ rows: 2, skippedRows: 2, classes: ['x', 'y'] });
    expect(Array.from(skipped.inputs)).toEqual([2, 5]);
  });

  it('accepts a numeric target with more distinct values than a model has outputs; a label among its numbers is refused', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `${i},${i * 0.5}`);
    const numeric = await encodeCsv(Readable.from([`a,y\n${rows.join('\n')}\n`]), ['y']);
    expect(numeric.outputs).toHaveLength(5000);
    const err = await rejection(encodeCsv(Readable.from([`a,y\n${rows.join('\n')}\n9,label\n`]), ['y']));
    expect(err.message).toContain('expected a number like the column\'s other 5000 values');
    expect(err.details).toMatchObject({ row: 5001, column: 'y' });
    const classes = Array.from({ length: 5000 }, (_, i) => `${i},c${i}`);
    const tooMany = await rejection(encodeCsv(Readable.from([`a,y\n${classes.join('\n')}\n`]), ['y']));
    expect(tooMany.message).toContain('more than 4096 distinct class labels');
  });

  it('encodes a sequence CSV streamed byte by byte', async () => {
    const d = await encodeSequenceCsv(byteByByte('id,x,y\ns1,1,a\ns1,2,b\ns2,3,c\ns2,4,d\n'), { target: ['y'], sequence: 'id', perStepTargets: false });
    expect(d).toMatchObject({ rows: 2, sequenceLength: 2, classes: ['b', 'd'] });
    expect(Array.from(d.inputs)).toEqual([1, 2, 3, 4]);
    expect(Array.from(d.outputs)).toEqual([1, 0, 0, 1]);
    expect(d.stats.x).toMatchObject({ min: 1, max: 4, mean: 2.5 });
  });
});
