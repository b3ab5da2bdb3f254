// Real public tables from the vega-datasets package, as a user would bring them: penguins (categorical island and
// sex, missing cells), cars (a name to ignore, a date, a categorical origin, missing targets) and Seattle's weather.
import { readFileSync } from 'node:fs';

// The package exports only its fetching entry point; its data files ship beside it.
const dataDir = new URL('../../node_modules/vega-datasets/data/', import.meta.url);

type Row = Record<string, string | number | null>;
const readJson = (file: string): Row[] => JSON.parse(readFileSync(new URL(file, dataDir), 'utf8'));

export const penguins = (): Row[] => readJson('penguins.json');
export const cars = (): Row[] => readJson('cars.json');
/** Flights of 2001 (date, delay in minutes, distance in miles, origin, destination): 20,000 or 200,000 rows. */
export const flights = (size: '20k' | '200k'): Row[] => readJson(`flights-${size}.json`);
export const seattleWeatherCsv = (): string => readFileSync(new URL('seattle-weather.csv', dataDir), 'utf8');

/** Rows as CSV, missing cells written as `missing` (NA, empty, ...), quoting what needs it. */
export function rowsToCsv(rows: Row[], missing = 'NA'): string {
  const columns = Object.keys(rows[0]);
  const cell = (v: string | number | null) => {
    if (v === null) return missing;
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

/** A deterministic 80/20 split by row position (every fifth row held out), so tests need no RNG. */
export function holdOut<T>(rows: T[]): { train: T[]; test: T[] } {
  return { train: rows.filter((_, i) => i % 5 !== 0), test: rows.filter((_, i) => i % 5 === 0) };
}
