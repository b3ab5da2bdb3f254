// Float32 arrays as bytes (Postgres BYTEA). Always little-endian, whatever the host.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of `values`; a Float32Array is viewed, not copied, on a little-endian host. */
export function packFloat32(values: ArrayLike<number>): Uint8Array<ArrayBuffer> {
  const floats = values instanceof Float32Array ? (values as Float32Array<ArrayBuffer>) : Float32Array.from(values);
  if (LITTLE_ENDIAN) return new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
  const out = new Uint8Array(floats.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < floats.length; i++) view.setFloat32(i * 4, floats[i], true);
  return out;
}

/** `shared`: in a SharedArrayBuffer, which worker threads receive without a copy. */
export function unpackFloat32(bytes: Uint8Array, shared = false): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new Error(`packed Float32 data has ${bytes.byteLength} bytes, not a multiple of 4`);
  const out = new Float32Array(shared ? new SharedArrayBuffer(bytes.byteLength) : new ArrayBuffer(bytes.byteLength));
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
