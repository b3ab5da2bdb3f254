// The predict route checks the common body, rows of numbers, without zod (isRowsOfNumbers); every other body goes
// through predictBodySchema. The fast check must never accept what the schema refuses, and must take the common
// case, or it would only add work.
import { describe, expect, it } from 'vitest';
import { FLOAT32_MAX } from '../../src/contracts/common.js';
import { hasTooManyRows, isRowsOfNumbers, predictBodySchema } from '../../src/contracts/models.js';

const rows = (n: number, width = 4) => Array.from({ length: n }, (_, r) => Array.from({ length: width }, (_, c) => r * 0.5 - c));

describe('the rows-of-numbers fast path of predict bodies', () => {
  const accepted: [string, unknown][] = [
    ['one row', { inputs: [[5.1, 3.5, 1.4, 0.2]] }],
    ['10,000 rows', { inputs: rows(10_000) }],
    ['the float32 range, both ends', { inputs: [[FLOAT32_MAX, -FLOAT32_MAX, 0, -0]] }],
    ['rows of different widths (the route checks widths against the model)', { inputs: [[1], [1, 2, 3]] }],
    ['an empty row', { inputs: [[]] }],
  ];
  const refused: [string, unknown][] = [
    ['no rows', { inputs: [] }],
    ['10,001 rows', { inputs: rows(10_001) }],
    ['a value past float32', { inputs: [[FLOAT32_MAX * 2]] }],
    ['a string value', { inputs: [['1']] }],
    ['a boolean in a row', { inputs: [[true]] }],
    ['an extra key', { inputs: [[1]], extra: 1 }],
    ['inputs not an array', { inputs: { a: [1] } }],
    ['a row not an array', { inputs: [1] }],
    ['no inputs', {}],
    ['null', null],
    ['an array body', [[1, 2]]],
  ];
  const other: [string, unknown][] = [
    ['a row keyed by feature name', { inputs: [{ a: 1, b: 2 }] }],
    ['a keyed row of raw values: a category, a boolean, a missing value', { inputs: [{ a: 'x', b: true, c: null }] }],
    ['null (missing) in a row', { inputs: [[1, null]] }],
    ['a sequence', { inputs: [[[1, 2], [3, 4]]] }],
    ['rows and keyed rows mixed', { inputs: [[1, 2], { a: 1, b: 2 }] }],
  ];

  it('takes rows of numbers, which the schema accepts too', () => {
    for (const [what, body] of accepted) {
      expect(isRowsOfNumbers(body), what).toBe(true);
      expect(predictBodySchema.safeParse(body).success, what).toBe(true);
    }
  });

  it('leaves everything else to the schema: what it refuses, and the row forms it does not take itself', () => {
    for (const [what, body] of refused) {
      expect(isRowsOfNumbers(body), what).toBe(false);
      expect(predictBodySchema.safeParse(body).success, what).toBe(false);
    }
    for (const [what, body] of other) {
      expect(isRowsOfNumbers(body), what).toBe(false);
      expect(predictBodySchema.safeParse(body).success, what).toBe(true);
    }
  });

  it('never accepts a body the schema refuses, over random bodies near the boundary', () => {
    let seed = 7;
    const next = () => ((seed = (seed * 1_103_515_245 + 12_345) >>> 0) / 2 ** 32);
    const value = () => {
      const pick = next();
      if (pick < 0.7) return (next() - 0.5) * 10;
      if (pick < 0.8) return (next() < 0.5 ? -1 : 1) * FLOAT32_MAX * (1 + next() * 1e-6);
      if (pick < 0.85) return String(next());
      if (pick < 0.9) return null;
      if (pick < 0.95) return [next()];
      return { a: next() };
    };
    let fast = 0;
    for (let i = 0; i < 2000; i++) {
      const body = { inputs: Array.from({ length: Math.floor(next() * 3) }, () => Array.from({ length: Math.floor(next() * 4) }, value)) };
      if (isRowsOfNumbers(body)) {
        fast++;
        expect(predictBodySchema.safeParse(body).success, JSON.stringify(body)).toBe(true);
      }
    }
    expect(fast).toBeGreaterThan(100);
  });

  it('tells a body of too many rows without looking at a row, and the schema refuses it with the message of no rows', () => {
    const keyed = { inputs: Array.from({ length: 10_001 }, () => ({ a: 'x', b: null })) };
    expect(hasTooManyRows(keyed)).toBe(true);
    expect(hasTooManyRows({ inputs: rows(10_000) })).toBe(false);
    expect(hasTooManyRows({ inputs: 'x' })).toBe(false);
    const refused = predictBodySchema.safeParse(keyed);
    const empty = predictBodySchema.safeParse({ inputs: [] });
    expect(refused.success).toBe(false);
    expect(empty.error!.issues[0].message).toBe(refused.error!.issues[0].message);
  });
});
