import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { evaluationSchema, type Evaluation } from '../../src/contracts/evaluation.js';

const classification: Evaluation = {
  kind: 'classification',
  rows: 4,
  on: 'validation',
  accuracy: 0.75,
  logLoss: 0.4,
  labels: ['no', 'yes'],
  confusionMatrix: [
    [1, 1],
    [0, 2],
  ],
  perClass: [
    { label: 'no', precision: 1, recall: 0.5, f1: 2 / 3, support: 2 },
    { label: 'yes', precision: 2 / 3, recall: 1, f1: 0.8, support: 2 },
  ],
  macroF1: 11 / 15,
  weightedF1: 11 / 15,
  rocAuc: 0.75,
};

const regression: Evaluation = {
  kind: 'regression',
  rows: 3,
  on: 'dataset',
  targets: [{ name: 'price', mae: 1.5, rmse: 2, r2: null, mean: 10 }],
  unseenCategories: [{ column: 'colour', value: 'teal', rows: 2 }],
};

/** Every property of every object in a JSON Schema, with its path. */
function properties(schema: unknown, path = '$'): [string, Record<string, unknown>][] {
  if (Array.isArray(schema)) return schema.flatMap((s, i) => properties(s, `${path}[${i}]`));
  if (schema === null || typeof schema !== 'object') return [];
  const own = Object.entries((schema as { properties?: Record<string, Record<string, unknown>> }).properties ?? {}).map(
    ([name, s]): [string, Record<string, unknown>] => [`${path}.${name}`, s],
  );
  return [...own, ...Object.entries(schema).flatMap(([key, s]) => properties(s, `${path}/${key}`))];
}

describe('evaluationSchema', () => {
  it('is the OpenAPI component Evaluation, and every field of both kinds carries a description', () => {
    expect(z.globalRegistry.get(evaluationSchema)?.id).toBe('Evaluation');
    const fields = properties(z.toJSONSchema(evaluationSchema));
    expect(fields.length).toBeGreaterThanOrEqual(25);
    expect(fields.filter(([, s]) => typeof s.description !== 'string' || s.description === '').map(([path]) => path)).toEqual([]);
  });

  it('accepts both kinds, with and without unseenCategories', () => {
    expect(evaluationSchema.parse(classification)).toEqual(classification);
    expect(evaluationSchema.parse(regression)).toEqual(regression);
    expect(evaluationSchema.parse({ ...regression, unseenCategories: undefined })).toEqual({ ...regression, unseenCategories: undefined });
  });

  it('refuses figures JSON cannot carry or that are out of range, and a field of the other kind', () => {
    const refused: unknown[] = [
      { ...classification, accuracy: Number.NaN },
      { ...classification, logLoss: Infinity },
      { ...classification, rocAuc: 1.5 },
      { ...classification, rows: 2.5 },
      { ...classification, on: 'test' },
      { ...regression, targets: [{ ...regression.targets[0], r2: -Infinity }] },
      { ...regression, targets: [{ ...regression.targets[0], rmse: -1 }] },
      { ...regression, kind: 'classification' },
      { ...regression, unseenCategories: [{ column: 'colour', value: 'teal', rows: -1 }] },
    ];
    for (const value of refused) expect(evaluationSchema.safeParse(value).success, JSON.stringify(value)).toBe(false);
  });
});
