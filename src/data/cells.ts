// One cell of a dataset (a JSON number, string, boolean or null, or CSV text): whether it is missing, a number or a
// label, and the names a dataset may use.
import { FLOAT32_MAX, UNSTORABLE_TEXT } from '../contracts/common.js';

export type Cell = number | string | boolean | null;

export const FINITE_FLOAT32 = `a finite number (at most ${FLOAT32_MAX.toPrecision(3)} in magnitude)`;
const MAX_NAME_LENGTH = 200;

/** Tokens that mean "no value", compared case-insensitively after trimming (pandas' and R's usual set, and `?`). */
const MISSING_TOKENS = new Set(['', 'na', 'n/a', 'nan', 'null', '?']);
const TRUE_TOKENS = new Set(['true', 'yes']);
const FALSE_TOKENS = new Set(['false', 'no']);

export const MISSING_HELP = 'an empty cell, null, NA, N/A, NaN, null or ?';

export function isMissing(cell: Cell | undefined): boolean {
  if (cell === null || cell === undefined) return true;
  if (typeof cell !== 'string') return false;
  // Most cells are numbers: a first character from '-' to '9' is never a missing token (checked per cell of a CSV).
  const first = cell.charCodeAt(0);
  if (first >= 45 && first <= 57) return false;
  const text = cell.trim();
  return text.length <= 4 && MISSING_TOKENS.has(text.toLowerCase());
}

/** What readNumber answers for a number too large for float32, or an infinity: never a label, always an error. */
export const OUT_OF_RANGE = 'out of range';

/** A cell read as a number, parsed once: the number, OUT_OF_RANGE, or null for anything that is no number. */
export function readNumber(cell: Cell): number | typeof OUT_OF_RANGE | null {
  if (typeof cell === 'boolean' || cell === null) return null;
  const n = typeof cell === 'number' ? cell : cell.trim() === '' ? NaN : Number(cell);
  if (Number.isNaN(n)) return null;
  return Math.abs(n) <= FLOAT32_MAX ? n : OUT_OF_RANGE;
}

export function toNumber(cell: Cell): number | null {
  const n = readNumber(cell);
  return typeof n === 'number' ? n : null;
}

/** 1 for true/yes, 0 for false/no (any case), null for anything else. */
export function booleanValue(label: string): 0 | 1 | null {
  const token = label.toLowerCase();
  if (TRUE_TOKENS.has(token)) return 1;
  if (FALSE_TOKENS.has(token)) return 0;
  return null;
}

/**
 * A stored float32 number as a category label: the shortest decimal that reads back as the same float32, so a
 * numeric column declared categorical gets the labels "4" and "0.1", not "0.10000000149011612".
 */
export function numberLabel(value: number): string {
  const f = Math.fround(value);
  for (let digits = 1; digits < 9; digits++) {
    const text = f.toPrecision(digits);
    if (Math.fround(Number(text)) === f) return String(Number(text));
  }
  return String(f);
}

/**
 * A cell as a category label, the same at upload and at predict: a number (or text that reads as one: "4.0", " 4")
 * in its shortest form ("4"), other text trimmed, a boolean as "true"/"false".
 */
export function labelOf(cell: Cell): string {
  const n = toNumber(cell);
  if (n !== null) return numberLabel(n);
  return typeof cell === 'string' ? cell.trim() : String(cell);
}

export function describeCell(cell: Cell | undefined): string {
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
