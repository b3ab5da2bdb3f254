// The delimiter of a CSV: given, or detected on its header line while the bytes arrive one at a time (quotes,
// escaped quotes, a byte-order mark, leading empty lines, a header cut short by the end of the input), and the rows
// read with it exactly as the comma-separated twin is read.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCsv, readCsvStream, type Delimiter } from '../../src/data/parse-csv.js';
import { seattleWeatherCsv } from '../helpers/tables.js';

/** The input one byte per chunk: the header line arrives in as many reads as it has bytes. */
const byteByByte = (text: string) => Readable.from(Array.from(Buffer.from(text), (b) => Buffer.from([b])));

async function records(input: Readable, delimiter?: Delimiter): Promise<string[][]> {
  const out: string[][] = [];
  await readCsvStream(input, (cells) => out.push(cells), undefined, delimiter);
  return out;
}

describe('CSV delimiters', () => {
  const weather = seattleWeatherCsv();
  const lines = weather.trim().split('\n').slice(0, 40).join('\n') + '\n';
  const reference = () => records(Readable.from([lines]));

  it.each([
    ['semicolons', ';'],
    ['tabs', '\t'],
    ['pipes', '|'],
  ] as const)('detects %s on a header line sent byte by byte, and reads the rows like the commas', async (_, delimiter) => {
    const text = lines.split(',').join(delimiter);
    const expected = await reference();
    expect(expected).toHaveLength(40);
    expect(await records(byteByByte(text))).toEqual(expected);
    expect(await records(Readable.from([text]), delimiter)).toEqual(expected);
    const read: string[][] = [];
    readCsv(text, (cells) => read.push(cells));
    expect(read).toEqual(expected);
  });

  it('counts only delimiters outside quotes, escaped quotes included, after a BOM and empty lines', async () => {
    const text = '\ufeff\n\n"a;""b"";c";"d;e";f,g\n1;2;3\n';
    expect(await records(byteByByte(text))).toEqual([
      ['a;"b";c', 'd;e', 'f,g'],
      ['1', '2', '3'],
    ]);
    // More semicolons than commas inside quotes: still commas.
    expect(await records(byteByByte('"x;y;z",w\n1,2\n'))).toEqual([
      ['x;y;z', 'w'],
      ['1', '2'],
    ]);
  });

  it('takes a comma on a tie or when the header has no candidate, and reads a header with no line end', async () => {
    expect(await records(Readable.from(['a;b,c\n1;2,3\n']))).toEqual([
      ['a;b', 'c'],
      ['1;2', '3'],
    ]);
    expect(await records(Readable.from(['only\n1\n']))).toEqual([['only'], ['1']]);
    expect(await records(byteByByte('a\tb'))).toEqual([['a', 'b']]);
    expect(await records(Readable.from([]))).toEqual([]);
  });

  it('reports an error of the input met while the header line is read, as it is', async () => {
    const input = new Readable({ read() {} });
    input.push('a;b');
    setImmediate(() => input.destroy(new Error('the client went away')));
    await expect(records(input)).rejects.toThrow('the client went away');
  });
});
