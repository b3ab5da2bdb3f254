// One cell of a dataset (a JSON number or string, or CSV text) as a number, and the names a dataset may use.
import { FLOAT32_MAX, UNSTORABLE_TEXT } from '../contracts/common.js';

export type Cell = number | string;

export const FINITE_FLOAT32 = `a finite number (at most ${FLOAT32_MAX.toPrecision(3)} in magnitude)`;
const MAX_NAME_LENGTH = 200;

export function toNumber(cell: Cell): number | null {
  const n = typeof cell === 'number' ? cell : cell.trim() === '' ? NaN : Number(cell);
  return Number.isFinite(n) && Math.abs(n) <= FLOAT32_MAX ? n : null;
}

export function describeCell(cell: Cell): string {
  if (typeof cell !== 'string') return String(cell);
  return JSON.stringify(cell.length > 40 ? `${cell.slice(0, 40)}…` : cell);
}

/** Why a column name or class label cannot be stored, or null. */
export function unusableName(name: string): string | null {
  if (name.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  if (UNSTORABLE_TEXT.test(name)) return 'contains a NUL character or invalid Unicode';
  if (name === '__proto__') return 'is reserved';
  return null;
}
