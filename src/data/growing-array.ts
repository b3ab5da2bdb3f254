// Append-only typed arrays for data whose length is known only at the end (the rows of a CSV as it streams in).
// Values go into fixed-size chunks, so growing never copies what is stored, and toArray() allocates the exact
// result once, releasing each chunk as it is copied: about the data's size in memory, not doubling's up to three.

const CHUNK = 64 * 1024;

export class GrowingArray<T extends Float32Array | Uint16Array | Uint8Array> {
  private readonly full: T[] = [];
  private current: T;
  private used = 0;
  length = 0;

  constructor(private readonly make: new (length: number) => T) {
    this.current = new make(CHUNK);
  }

  push(value: number): void {
    if (this.used === CHUNK) {
      this.full.push(this.current);
      this.current = new this.make(CHUNK);
      this.used = 0;
    }
    this.current[this.used++] = value;
    this.length++;
  }

  /** The values in one array of exactly `length`; the store is empty afterwards. */
  toArray(): T {
    const out = new this.make(this.length);
    let at = 0;
    for (let chunk = this.full.shift(); chunk; chunk = this.full.shift()) {
      out.set(chunk, at);
      at += chunk.length;
    }
    out.set(this.current.subarray(0, this.used), at);
    this.current = new this.make(0);
    this.used = 0;
    this.length = 0;
    return out;
  }
}
