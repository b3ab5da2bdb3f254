import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluationSchema } from '../../src/contracts/evaluation.js';
import { evaluateRegression } from '../../src/evaluation/regression.js';

interface Car {
  Miles_per_Gallon: number | null;
  Horsepower: number | null;
  Weight_in_lbs: number;
  Cylinders: number;
}

/** The 392 cars of vega-datasets' cars.json with both miles per gallon and horsepower known. */
const cars = (
  JSON.parse(readFileSync(new URL('../../node_modules/vega-datasets/data/cars.json', import.meta.url), 'utf8')) as Car[]
).filter((c) => c.Miles_per_Gallon !== null && c.Horsepower !== null) as (Car & { Miles_per_Gallon: number; Horsepower: number })[];

const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / values.length;

/** The figures from explicit sums over plain arrays: R² = 1 - Σ(y - ŷ)² / Σ(y - ȳ)². */
function reference(actual: number[], predicted: number[]) {
  const residuals = actual.map((y, i) => y - predicted[i]);
  const ȳ = mean(actual);
  const ssRes = residuals.reduce((s, e) => s + e * e, 0);
  const ssTot = actual.reduce((s, y) => s + (y - ȳ) * (y - ȳ), 0);
  return {
    mae: residuals.reduce((s, e) => s + Math.abs(e), 0) / actual.length,
    rmse: Math.sqrt(ssRes / actual.length),
    r2: 1 - ssRes / ssTot,
    mean: ȳ,
  };
}

/** Columns side by side into the row-major rows x columns layout the models produce. */
function rowMajor(columns: number[][], type: typeof Float32Array | typeof Float64Array = Float64Array) {
  return type.from(columns[0].flatMap((_, r) => columns.map((c) => c[r])));
}

describe('evaluateRegression', () => {
  it('least squares of miles per gallon on weight: R² is the squared correlation, as for any fit with an intercept', () => {
    const x = cars.map((c) => c.Weight_in_lbs);
    const y = cars.map((c) => c.Miles_per_Gallon);
    const x̄ = mean(x);
    const ȳ = mean(y);
    const sxy = x.reduce((s, xi, i) => s + (xi - x̄) * (y[i] - ȳ), 0);
    const sxx = x.reduce((s, xi) => s + (xi - x̄) ** 2, 0);
    const syy = y.reduce((s, yi) => s + (yi - ȳ) ** 2, 0);
    const slope = sxy / sxx;
    const predicted = x.map((xi) => ȳ + slope * (xi - x̄));
    const result = evaluateRegression(Float64Array.from(predicted), Float64Array.from(y), ['Miles_per_Gallon'], 'dataset');
    expect(result).toMatchObject({ kind: 'regression', rows: 392, on: 'dataset' });
    const [mpg] = result.targets;
    expect(mpg.r2).toBeCloseTo(sxy ** 2 / (sxx * syy), 12);
    const expected = reference(y, predicted);
    expect(mpg.mae).toBeCloseTo(expected.mae, 12);
    expect(mpg.rmse).toBeCloseTo(expected.rmse, 12);
    expect(mpg.mean).toBeCloseTo(expected.mean, 12);
    expect(evaluationSchema.parse(JSON.parse(JSON.stringify(result)))).toEqual(result);
  });

  it('two targets in float32, each predicted by the mean of its cylinder group: per-target figures in row-major order', () => {
    const names = ['Miles_per_Gallon', 'Horsepower'] as const;
    const groupMean = (name: (typeof names)[number], cylinders: number) => mean(cars.filter((c) => c.Cylinders === cylinders).map((c) => c[name]));
    const predicted = names.map((name) => cars.map((c) => groupMean(name, c.Cylinders)));
    const actual = names.map((name) => cars.map((c) => c[name]));
    const predictions = rowMajor(predicted, Float32Array);
    const result = evaluateRegression(predictions, rowMajor(actual, Float32Array), [...names], 'validation');
    expect(result.targets.map((t) => t.name)).toEqual([...names]);
    names.forEach((name, j) => {
      // The reference reads back the same float32 values, then sums in float64 as the module must.
      const y = Array.from(Float32Array.from(actual[j]));
      const ŷ = Array.from({ length: cars.length }, (_, r) => predictions[r * 2 + j]);
      const expected = reference(y, ŷ);
      for (const key of ['mae', 'rmse', 'r2', 'mean'] as const) expect(result.targets[j][key], `${name}.${key}`).toBeCloseTo(expected[key]!, 10);
    });
    // Pinned from sklearn.metrics (mean_absolute_error, mean_squared_error(squared=False), r2_score, per output) and
    // numpy's mean, run once by hand on these float32 values.
    const sklearn = [
      { mae: 3.494364940390295, rmse: 4.6687428307100385, r2: 0.6412742332768915, mean: 23.44591836053498 },
      { mae: 14.28458766548001, rmse: 19.03488170006932, r2: 0.7548185121367785, mean: 104.46938775510205 },
    ];
    sklearn.forEach((figures, j) => {
      for (const [key, value] of Object.entries(figures)) expect(result.targets[j][key as keyof typeof figures]).toBeCloseTo(value, 12);
    });
    expect(evaluationSchema.parse(JSON.parse(JSON.stringify(result)))).toEqual(result);
  });

  it('constant actual values: R² is null and the mean is exactly the value', () => {
    const result = evaluateRegression(Float64Array.of(0.1, 5, 0.3, 5, 0.1, 5), Float64Array.of(0.1, 5, 0.1, 5, 0.1, 5), ['a', 'b'], 'dataset');
    expect(result.targets).toEqual([
      { name: 'a', mae: expect.closeTo(0.2 / 3, 15), rmse: expect.closeTo(Math.sqrt(0.04 / 3), 15), r2: null, mean: 0.1 },
      { name: 'b', mae: 0, rmse: 0, r2: null, mean: 5 },
    ]);
    expect(evaluationSchema.parse(result)).toEqual(result);
  });

  it('predicting the mean scores R² 0, a perfect model 1, and one worse than the mean a negative R²', () => {
    const y = cars.map((c) => c.Horsepower);
    const ȳ = mean(y);
    const ssTot = y.reduce((s, v) => s + (v - ȳ) ** 2, 0);
    const r2 = (predicted: number[]) => evaluateRegression(Float64Array.from(predicted), Float64Array.from(y), ['hp'], 'dataset').targets[0].r2;
    expect(r2(y.map(() => ȳ))).toBeCloseTo(0, 14);
    expect(r2(y)).toBe(1);
    expect(r2(y.map(() => ȳ + 10))).toBeCloseTo(-(y.length * 100) / ssTot, 12);
  });

  it('values far from zero keep their R²: deviations are summed from the mean, not as sum(y²) - n ȳ²', () => {
    const y = cars.map((c) => c.Miles_per_Gallon);
    const predicted = cars.map((c) => 46 - 0.0077 * c.Weight_in_lbs);
    const near = evaluateRegression(Float64Array.from(predicted), Float64Array.from(y), ['mpg'], 'dataset').targets[0];
    const shift = 1e9;
    const far = evaluateRegression(Float64Array.from(predicted, (v) => v + shift), Float64Array.from(y, (v) => v + shift), ['mpg'], 'dataset').targets[0];
    expect(far.r2).toBeCloseTo(near.r2!, 6);
    expect(far.mae).toBeCloseTo(near.mae, 6);
    expect(far.mean - shift).toBeCloseTo(near.mean, 6);
  });

  it('refuses mismatched sizes, no rows, values that are not finite, and errors that overflow', () => {
    const two = Float64Array.of(1, 2);
    expect(() => evaluateRegression(two, Float64Array.of(1, 2, 3), ['y'], 'dataset')).toThrow(RangeError);
    expect(() => evaluateRegression(Float64Array.of(1, 2, 3), Float64Array.of(1, 2, 3), ['a', 'b'], 'dataset')).toThrow(RangeError);
    expect(() => evaluateRegression(new Float64Array(0), new Float64Array(0), ['y'], 'dataset')).toThrow(RangeError);
    expect(() => evaluateRegression(two, two, [], 'dataset')).toThrow(RangeError);
    expect(() => evaluateRegression(Float32Array.of(1, NaN), two, ['y'], 'dataset')).toThrow(/predictions\[1\]/);
    expect(() => evaluateRegression(two, Float64Array.of(-Infinity, 2), ['y'], 'dataset')).toThrow(/targets\[0\]/);
    expect(() => evaluateRegression(Float64Array.of(-1e200, 1e200), two, ['y'], 'dataset')).toThrow(/y: errors too large/);
  });
});
