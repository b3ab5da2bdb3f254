// Column types as a table streams in: inference, declared types, missing tokens, and the cells refused.
import { describe, expect, it } from 'vitest';
import { fail } from '../helpers/dataset-errors.js';
import { encodeDataset } from '../../src/data/encode-dataset.js';
import { cars, penguins } from '../helpers/tables.js';


/** The cars table as a JSON upload would send it. */
function carsTable() {
  const rows = cars();
  const columns = Object.keys(rows[0]);
  return { columns, rows: rows.map((r) => columns.map((c) => r[c])) };
}

describe('column types', () => {
  it('infers numeric, categorical and missing cells on a real table, and stores label codes and NaN', () => {
    const { columns, rows } = carsTable();
    const d = encodeDataset(columns, rows, ['Miles_per_Gallon'], undefined, { ignore: ['Name', 'Year'] });
    const byName = Object.fromEntries(d.columns!.map((c) => [c.name, c]));
    expect(byName.Origin).toMatchObject({ type: 'categorical', role: 'feature', distinct: 3, missing: 0 });
    expect(byName.Horsepower).toMatchObject({ type: 'numeric', missing: 6 - rows.filter((r) => r[1] === null && r[4] === null).length });
    expect(byName.Name).toMatchObject({ role: 'ignored', type: 'categorical' });
    expect(d.skippedRows).toBe(8);
    expect(d.rows).toBe(398);
    // Origin is the last feature: codes index its labels in order of first appearance.
    const origin = byName.Origin.labels!;
    const width = d.features.length;
    const kept = cars().filter((r) => r.Miles_per_Gallon !== null);
    kept.forEach((car, r) => expect(origin[d.inputs[r * width + width - 1]]).toBe(car.Origin));
    const hp = d.features.indexOf('Horsepower');
    expect(kept.filter((_, r) => Number.isNaN(d.inputs[r * width + hp])).length).toBe(byName.Horsepower.missing);
  });

  it('reads the missing tokens, in any case, and JSON null', () => {
    const tokens = ['', 'NA', 'n/a', 'NaN', 'null', '?', null, ' na '];
    const d = encodeDataset(['x', 'y'], [...tokens.map((t) => [t, 1]), [3, 2], [5, 3]], ['y']);
    expect(d.columns![0]).toMatchObject({ type: 'numeric', missing: tokens.length, stats: { min: 3, max: 5, mean: 4 } });
  });

  it('makes yes/no and true/false columns boolean (1/0), and keeps other labels categorical', () => {
    const d = encodeDataset(['vip', 'size', 'y'], [['Yes', 'S', 1], ['no', 'M', 2], [true, 'S', 3], ['FALSE', null, 4]], ['y']);
    expect(d.columns![0]).toMatchObject({ type: 'boolean', distinct: 2 });
    expect(Array.from(d.inputs.filter((_, i) => i % 2 === 0))).toEqual([1, 0, 1, 0]);
    expect(d.columns![1]).toMatchObject({ type: 'categorical', labels: ['S', 'M'], counts: [2, 1], missing: 1 });
  });

  it('refuses a mostly numeric column with a label, naming the row and column and the two fixes', () => {
    const { columns, rows } = carsTable();
    rows[41][columns.indexOf('Horsepower')] = 'unknown';
    const err = fail(() => encodeDataset(columns, rows, ['Miles_per_Gallon'], undefined, { ignore: ['Name', 'Year'] }));
    expect(err.details).toEqual({ field: `rows[41][${columns.indexOf('Horsepower')}]`, row: 42, column: 'Horsepower' });
    expect(err.message).toMatch(/mark the cell missing .* or declare the column's type \(columnTypes Horsepower:categorical\)/);
    const declared = encodeDataset(columns, rows, ['Miles_per_Gallon'], undefined, { ignore: ['Name', 'Year'], columnTypes: { Horsepower: 'categorical' } });
    expect(declared.columns!.find((c) => c.name === 'Horsepower')!.labels).toContain('unknown');
  });

  it('turns numbers into their shortest labels when a column is categorical, declared or mostly labels', () => {
    const declared = encodeDataset(['cyl', 'y'], [[4, 1], ['4.0', 2], [0.1, 3], [8, 4]], ['y'], undefined, { columnTypes: { cyl: 'categorical' } });
    expect(declared.columns![0].labels).toEqual(['4', '0.1', '8']);
    expect(Array.from(declared.inputs)).toEqual([0, 0, 1, 2]);
    const mostlyLabels = encodeDataset(['grade', 'y'], [['A', 1], ['B', 2], [3, 3], ['A', 4]], ['y']);
    expect(mostlyLabels.columns![0]).toMatchObject({ type: 'categorical', labels: ['A', 'B', '3'] });
    expect(Array.from(mostlyLabels.inputs)).toEqual([0, 1, 2, 0]);
  });

  it('refuses a declared type the cells break, a column with every cell missing, and unknown names', () => {
    expect(fail(() => encodeDataset(['x', 'y'], [[1, 1], ['two', 2]], ['y'], undefined, { columnTypes: { x: 'numeric' } })).details).toMatchObject({ row: 2, column: 'x' });
    expect(fail(() => encodeDataset(['x', 'y'], [['maybe', 1]], ['y'], undefined, { columnTypes: { x: 'boolean' } })).message).toContain('declared boolean');
    expect(fail(() => encodeDataset(['x', 'z', 'y'], [[null, 1, 1], ['NA', 2, 2]], ['y'])).message).toContain('every cell is missing');
    expect(fail(() => encodeDataset(['x', 'y'], [[1, 1]], ['y'], undefined, { ignore: ['w'] })).details.field).toBe('ignore');
    expect(fail(() => encodeDataset(['x', 'y'], [[1, 1]], ['y'], undefined, { ignore: ['y'] })).message).toContain('target column');
    expect(fail(() => encodeDataset(['x', 'y'], [[1, 1]], ['y'], undefined, { ignore: ['x'] })).message).toContain('no feature column');
    expect(fail(() => encodeDataset(['x', 'y'], [[1, 1]], ['y'], undefined, { columnTypes: { q: 'numeric' } })).details.field).toBe('columnTypes');
  });

  it('keeps Infinity an error in a numeric column and warns about identifiers and constants', () => {
    expect(fail(() => encodeDataset(['x', 'y'], [[1, 1], [2, 2], ['Infinity', 3]], ['y'])).details).toMatchObject({ row: 3, column: 'x' });
    const rows = penguins().map((p, i) => [`bird-${i}`, 'Antarctica', p['Flipper Length (mm)'], i + 1, p.Species]);
    const d = encodeDataset(['id', 'continent', 'flipper', 'row', 'species'], rows, ['species']);
    expect(d.columns![0].warnings.join()).toContain('looks like an identifier');
    expect(d.columns![1].warnings.join()).toContain('constant');
    expect(d.columns![2].warnings).toEqual([]);
    expect(d.columns![3].warnings.join()).toContain(`looks like a row number (every value a different integer from 1 to ${rows.length})`);
  });
});
