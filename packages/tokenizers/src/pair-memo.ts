/**
 * A bounded memo of "rank of the token made of token a's bytes followed by token b's bytes" (or
 * none), keyed by the two ranks: the merge loop asks the same pairs over and over, and answering
 * from two integers avoids building a substring and hashing it for every pair it looks at.
 * Open addressing in typed arrays; emptied when half full, so memory stays fixed.
 */
export class PairMemo {
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly values: Int32Array;
  private readonly mask: number;
  private size = 0;

  /** @param slots Table size, a power of two. */
  constructor(slots = 1 << 16) {
    this.left = new Int32Array(slots).fill(-1);
    this.right = new Int32Array(slots);
    this.values = new Int32Array(slots);
    this.mask = slots - 1;
  }

  /** The memoized value of (a, b): a rank, -1 for "no such token", or -2 when not memoized. */
  get(a: number, b: number): number {
    for (let slot = this.slotOf(a, b); ; slot = (slot + 1) & this.mask) {
      const key = this.left[slot] as number;
      if (key === -1) return -2;
      if (key === a && this.right[slot] === b) return this.values[slot] as number;
    }
  }

  /** Memoizes `value` (a rank or -1) for (a, b), which must not be memoized yet. */
  set(a: number, b: number, value: number): void {
    if (this.size * 2 >= this.mask) {
      this.left.fill(-1);
      this.size = 0;
    }
    let slot = this.slotOf(a, b);
    while ((this.left[slot] as number) !== -1) slot = (slot + 1) & this.mask;
    this.left[slot] = a;
    this.right[slot] = b;
    this.values[slot] = value;
    this.size++;
  }

  private slotOf(a: number, b: number): number {
    return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b)) >>> 15 & this.mask;
  }
}
