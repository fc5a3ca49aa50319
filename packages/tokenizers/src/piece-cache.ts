/**
 * A bounded piece -> ids cache looked up by a range of the text (no substring allocated on a hit).
 * Two generations make it LRU-ish: when the hot table holds `capacity / 2` pieces it becomes the
 * cold one (pieces found there are promoted back), so memory stays bounded and frequent pieces stay.
 */
export class PieceCache {
  private hot: PieceTable;
  private cold: PieceTable;
  private readonly generationSize: number;

  /** @param capacity Most pieces held, at least 2. */
  constructor(capacity: number) {
    this.generationSize = Math.max(1, capacity >> 1);
    this.hot = new PieceTable(this.generationSize);
    this.cold = new PieceTable(this.generationSize);
  }

  /**
   * Ids of `text[start, end)` when cached: a single id as a number, several as an array;
   * `undefined` on a miss.
   */
  get(text: string, start: number, end: number, hash: number): number | readonly number[] | undefined {
    const found = this.hot.get(text, start, end, hash);
    if (found !== undefined) return found;
    const old = this.cold.get(text, start, end, hash);
    if (old !== undefined) this.set(text.substring(start, end), hash, old);
    return old;
  }

  /** Caches the ids of `piece`, whose `hashRange` is `hash`. */
  set(piece: string, hash: number, ids: number | readonly number[]): void {
    if (this.hot.size >= this.generationSize) {
      const emptied = this.cold;
      emptied.clear();
      this.cold = this.hot;
      this.hot = emptied;
    }
    this.hot.set(piece, hash, ids);
  }

  /** Drops every cached piece. */
  clear(): void {
    this.hot.clear();
    this.cold.clear();
  }
}

/** FNV-1a over the UTF-16 units of `text[start, end)`. */
export function hashRange(text: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

/** Open addressing with linear probing, at most half full. */
class PieceTable {
  size = 0;
  private readonly mask: number;
  private keys: (string | undefined)[];
  private readonly hashes: Int32Array;
  private readonly single: Int32Array;
  private lists: (readonly number[] | undefined)[];

  constructor(entries: number) {
    let slots = 16;
    while (slots < entries * 2) slots *= 2;
    this.mask = slots - 1;
    this.keys = new Array<string | undefined>(slots).fill(undefined);
    this.hashes = new Int32Array(slots);
    this.single = new Int32Array(slots);
    this.lists = new Array<readonly number[] | undefined>(slots).fill(undefined);
  }

  get(text: string, start: number, end: number, hash: number): number | readonly number[] | undefined {
    const length = end - start;
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const key = this.keys[slot];
      if (key === undefined) return undefined;
      if (this.hashes[slot] === hash && key.length === length && sameRange(key, text, start)) {
        const id = this.single[slot] as number;
        return id >= 0 ? id : this.lists[slot];
      }
    }
  }

  set(piece: string, hash: number, ids: number | readonly number[]): void {
    let slot = hash & this.mask;
    while (this.keys[slot] !== undefined) {
      if (this.keys[slot] === piece) break;
      slot = (slot + 1) & this.mask;
    }
    if (this.keys[slot] === undefined) this.size++;
    this.keys[slot] = piece;
    this.hashes[slot] = hash;
    if (typeof ids === "number") {
      this.single[slot] = ids;
      this.lists[slot] = undefined;
    } else {
      this.single[slot] = -1;
      this.lists[slot] = ids;
    }
  }

  clear(): void {
    if (this.size === 0) return;
    this.keys.fill(undefined);
    this.lists.fill(undefined);
    this.size = 0;
  }
}

function sameRange(key: string, text: string, start: number): boolean {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) !== text.charCodeAt(start + i)) return false;
  return true;
}
