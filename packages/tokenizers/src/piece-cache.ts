import type { IdBuffer } from "./id-buffer.js";

/**
 * A bounded piece -> ids cache looked up by a range of the text: no substring is allocated on a
 * hit or a store, and the cache never holds a reference to the text (a sliced string would pin a
 * whole corpus in memory). Pieces and ids live in typed arrays, so a hit reads no JS string.
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
   * Appends the cached ids of `text[start, end)` (whose `hashRange` is `hash`) to `out` and
   * returns true, or returns false on a miss.
   */
  appendTo(out: IdBuffer, text: string, start: number, end: number, hash: number): boolean {
    if (this.hot.appendTo(out, text, start, end, hash)) return true;
    const slot = this.cold.find(text, start, end, hash);
    if (slot < 0) return false;
    const ids = this.cold.idsAt(slot);
    out.reserve(ids.length);
    out.ids.set(ids, out.length);
    out.length += ids.length;
    this.set(text, start, end, hash, ids);
    return true;
  }

  /** Caches the ids of `text[start, end)`, whose `hashRange` is `hash`. */
  set(text: string, start: number, end: number, hash: number, ids: ArrayLike<number>): void {
    if (this.hot.size >= this.generationSize) {
      const emptied = this.cold;
      emptied.clear();
      this.cold = this.hot;
      this.hot = emptied;
    }
    this.hot.set(text, start, end, hash, ids);
  }

  /** Drops every cached piece. */
  clear(): void {
    this.hot.clear();
    this.cold.clear();
  }
}

/** FNV-1a over the UTF-16 units of `text[start, end)` (the GPT-2 scanner computes the same while scanning). */
export function hashRange(text: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

/**
 * Open addressing with linear probing, at most half full. A slot holds the piece's hash, where its
 * UTF-16 units start in `chars` and how many, and where its ids start in `ids` and how many.
 */
class PieceTable {
  size = 0;
  private readonly mask: number;
  private readonly hashes: Int32Array;
  /** Offset of the piece in `chars`, -1 for an empty slot. */
  private readonly charStart: Int32Array;
  private readonly charCount: Int32Array;
  private readonly idStart: Int32Array;
  private readonly idCount: Int32Array;
  private chars: Uint16Array;
  private charsUsed = 0;
  private ids: Int32Array;
  private idsUsed = 0;

  constructor(entries: number) {
    let slots = 16;
    while (slots < entries * 2) slots *= 2;
    this.mask = slots - 1;
    this.hashes = new Int32Array(slots);
    this.charStart = new Int32Array(slots).fill(-1);
    this.charCount = new Int32Array(slots);
    this.idStart = new Int32Array(slots);
    this.idCount = new Int32Array(slots);
    // Pieces average a few units; the pools start small and double as needed.
    this.chars = new Uint16Array(Math.min(entries * 8, 1 << 20));
    this.ids = new Int32Array(Math.min(entries * 2, 1 << 18));
  }

  /** Slot of `text[start, end)`, or -1. */
  find(text: string, start: number, end: number, hash: number): number {
    const length = end - start;
    const chars = this.chars;
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = this.charStart[slot] as number;
      if (at < 0) return -1;
      if (this.hashes[slot] === hash && this.charCount[slot] === length) {
        let i = 0;
        while (i < length && chars[at + i] === text.charCodeAt(start + i)) i++;
        if (i === length) return slot;
      }
    }
  }

  appendTo(out: IdBuffer, text: string, start: number, end: number, hash: number): boolean {
    const slot = this.find(text, start, end, hash);
    if (slot < 0) return false;
    const from = this.idStart[slot] as number;
    const count = this.idCount[slot] as number;
    let n = out.length;
    if (n + count > out.ids.length) out.reserve(count);
    const target = out.ids;
    const ids = this.ids;
    for (let i = from; i < from + count; i++) target[n++] = ids[i] as number;
    out.length = n;
    return true;
  }

  idsAt(slot: number): Int32Array {
    const from = this.idStart[slot] as number;
    return this.ids.slice(from, from + (this.idCount[slot] as number));
  }

  set(text: string, start: number, end: number, hash: number, ids: ArrayLike<number>): void {
    if (this.find(text, start, end, hash) >= 0) return;
    let slot = hash & this.mask;
    while ((this.charStart[slot] as number) >= 0) slot = (slot + 1) & this.mask;
    const length = end - start;
    if (this.charsUsed + length > this.chars.length) this.chars = grow16(this.chars, this.charsUsed + length);
    if (this.idsUsed + ids.length > this.ids.length) this.ids = grow32(this.ids, this.idsUsed + ids.length);
    for (let i = 0; i < length; i++) this.chars[this.charsUsed + i] = text.charCodeAt(start + i);
    for (let i = 0; i < ids.length; i++) this.ids[this.idsUsed + i] = ids[i] as number;
    this.hashes[slot] = hash;
    this.charStart[slot] = this.charsUsed;
    this.charCount[slot] = length;
    this.idStart[slot] = this.idsUsed;
    this.idCount[slot] = ids.length;
    this.charsUsed += length;
    this.idsUsed += ids.length;
    this.size++;
  }

  clear(): void {
    if (this.size === 0) return;
    this.charStart.fill(-1);
    this.charsUsed = 0;
    this.idsUsed = 0;
    this.size = 0;
  }
}

function grow16(array: Uint16Array, needed: number): Uint16Array {
  let length = Math.max(16, array.length * 2);
  while (length < needed) length *= 2;
  const grown = new Uint16Array(length);
  grown.set(array);
  return grown;
}

function grow32(array: Int32Array, needed: number): Int32Array {
  let length = Math.max(16, array.length * 2);
  while (length < needed) length *= 2;
  const grown = new Int32Array(length);
  grown.set(array);
  return grown;
}
