// Plain-text tables for the terminal: columns padded to their widest cell, numbers right-aligned.

/** Rows of cells, the first row a header; `numeric[i]` right-aligns column i (figures line up by their last digit). */
export function formatTable(rows: string[][], numeric: boolean[], indent = '  '): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (row: string[]) => row.map((cell, i) => (numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  return rows.map((row) => `${indent}${line(row)}\n`).join('');
}

/** Four significant digits or more, at most four decimals (an exponent only below 0.0001): 0.0123, 250.1, 4202, 123456. */
export function formatFigure(x: number): string {
  if (x !== 0 && Math.abs(x) < 1e-4) return x.toExponential(2);
  // The magnitude of the rounded value, so 0.99999 reads 1.000 rather than 1.0000.
  const magnitude = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(4))) || 1));
  return x.toFixed(Math.min(4, Math.max(0, 3 - magnitude)));
}

export const formatPercent = (x: number) => `${(x * 100).toFixed(1)}%`;
