import { invalid } from './errors.js';
import type { DType, FloatArray } from './types.js';

/**
 * Typed arrays <-> base64 of their little-endian bytes. Written here rather than with Node's byte helpers because the
 * engine must not import node:* (it also runs in browsers and worker threads without Node's globals).
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Uint8Array(128);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;
const ALPHABET_CODES = Uint8Array.from(ALPHABET, (ch) => ch.charCodeAt(0));
const PAD = '='.charCodeAt(0);

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function encodeArray(values: FloatArray): string {
  return encodeBytes(toLittleEndian(values));
}

export function decodeArray(text: string, dtype: DType, expectedLength: number, field: string): FloatArray {
  const bytes = decodeBytes(text, field);
  const width = dtype === 'float64' ? 8 : 4;
  if (bytes.length !== expectedLength * width) {
    throw invalid(field, `${expectedLength} ${dtype} values`, `${bytes.length / width}`);
  }
  if (!littleEndian) swapBytes(bytes, width);
  return dtype === 'float64' ? new Float64Array(bytes.buffer) : new Float32Array(bytes.buffer);
}

function toLittleEndian(values: FloatArray): Uint8Array {
  const bytes = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  if (!littleEndian) swapBytes(bytes, values.BYTES_PER_ELEMENT);
  return bytes;
}

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

/**
 * Text is made 8 KiB at a time from a buffer of character codes: appending characters one by one left ~40 bytes of
 * heap garbage per byte encoded (checkpointing a 1M-parameter Adam run grew the process by 200 MB).
 */
function encodeBytes(bytes: Uint8Array): string {
  const parts: string[] = [];
  const codes = new Uint8Array(8192);
  let c = 0;
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i];
    const b1 = i + 1 < bytes.length ? bytes[i + 1] : 0;
    const b2 = i + 2 < bytes.length ? bytes[i + 2] : 0;
    const n = (b0 << 16) | (b1 << 8) | b2;
    codes[c++] = ALPHABET_CODES[(n >> 18) & 63];
    codes[c++] = ALPHABET_CODES[(n >> 12) & 63];
    codes[c++] = i + 1 < bytes.length ? ALPHABET_CODES[(n >> 6) & 63] : PAD;
    codes[c++] = i + 2 < bytes.length ? ALPHABET_CODES[n & 63] : PAD;
    if (c === codes.length) {
      parts.push(fromCodes(codes));
      c = 0;
    }
  }
  parts.push(fromCodes(codes.subarray(0, c)));
  return parts.join('');
}

const fromCodes = (codes: Uint8Array): string => String.fromCharCode.apply(null, codes as unknown as number[]);

export function decodeBytes(text: string, field = 'base64'): Uint8Array {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw invalid(field, 'base64 text');
  }
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const n =
      (LOOKUP[text.charCodeAt(i)] << 18) |
      (LOOKUP[text.charCodeAt(i + 1)] << 12) |
      (LOOKUP[text.charCodeAt(i + 2)] << 6) |
      LOOKUP[text.charCodeAt(i + 3)];
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}
