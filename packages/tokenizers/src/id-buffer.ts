/**
 * A growable `Int32Array` of token ids: the encoder writes ids here instead of pushing onto a JS
 * array (typed writes are several times cheaper than `Array.prototype.push` in V8), and the result
 * is handed out as a typed array or converted once into a `number[]`.
 */
export class IdBuffer {
  /** Storage; only `[0, length)` holds ids. Replaced when it grows. */
  ids: Int32Array;
  /** Number of ids written. */
  length = 0;

  /** @param capacity Initial capacity (grows by doubling). */
  constructor(capacity: number) {
    this.ids = new Int32Array(Math.max(16, capacity));
  }

  /** Appends one id. */
  push(id: number): void {
    if (this.length === this.ids.length) this.reserve(1);
    this.ids[this.length++] = id;
  }

  /** Makes room for `extra` more ids. */
  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.ids.length) return;
    let capacity = this.ids.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Int32Array(capacity);
    grown.set(this.ids.subarray(0, this.length));
    this.ids = grown;
  }

  /** The ids as an exact-length `Int32Array` (a view when little space would be wasted, else a copy). */
  toInt32Array(): Int32Array {
    return this.length * 2 >= this.ids.length ? this.ids.subarray(0, this.length) : this.ids.slice(0, this.length);
  }

  /** The ids as a packed `number[]`. */
  toArray(): number[] {
    const n = this.length;
    // Filling a pre-sized array beats n pushes (and Array.from on a typed array) by a wide margin.
    const out = new Array<number>(n).fill(0);
    const ids = this.ids;
    for (let i = 0; i < n; i++) out[i] = ids[i] as number;
    return out;
  }
}
