import { z } from "zod";
import { TokenizerError } from "./errors.js";
import { parseOptions, positiveInt } from "./options.js";
import { IdBuffer } from "./id-buffer.js";
import { PairMemo } from "./pair-memo.js";
import { hashRange, PieceCache } from "./piece-cache.js";
import { scannerFor, type PieceScanner } from "./pretokenizer.js";
import { specialTokenRegExp, splitOnSpecialTokens } from "./special-tokens.js";
import { compileTiktokenRegex } from "./tiktoken-regex.js";

/**
 * Construction arguments of `BpeCore`.
 */
export interface BpeCoreArgs {
  /**
   * Byte sequence -> rank (the rank is also the token id). Either `Uint8Array` keys or "binary
   * strings" (one char per byte, codes 0..255). Lower rank = merged earlier. A `Map` works.
   */
  readonly ranks: Iterable<readonly [Uint8Array | string, number]>;
  /**
   * Pre-tokenizer pattern in tiktoken's (Rust) syntax and semantics, e.g. GPT-2's
   * `'s|'t|...| ?\p{L}+|...`; see `compileTiktokenRegex` for what is supported.
   */
  readonly pattern: string;
  /** Special tokens -> id (e.g. `<|endoftext|>` -> 50256). Default: none. */
  readonly specialTokens?: Readonly<Record<string, number>> | ReadonlyMap<string, number>;
  /** Most pre-split pieces kept in the piece -> ids cache (about 100 bytes each). Default 65,536. */
  readonly cacheSize?: number;
}

/** zod schema of the scalar options of `BpeCoreArgs` (ranks and special tokens are checked separately). */
export const BpeCoreOptionsSchema = z.object({
  pattern: z.string({ error: "must be a regular-expression source string" }),
  cacheSize: positiveInt().default(65_536),
});

/** Pieces longer than this (in UTF-16 units) are not cached: they are rare and would pin memory. */
const MAX_CACHED_PIECE = 256;
/** Byte length from which the merge uses a heap (O(n log n)) instead of rescanning (O(n * merges)). */
const HEAP_THRESHOLD = 96;
/** Packs (rank, position) into one double: rank * 2^31 + position (exact below 2^53). */
const POSITION_SCALE = 2 ** 31;

/**
 * A rank-based byte-level BPE encoder (the algorithm of tiktoken): text is pre-split by a regex,
 * each piece is encoded to UTF-8 and its bytes are merged, lowest rank first (leftmost on ties),
 * until no adjacent pair forms a known token. Gives exactly js-tiktoken's ids, but:
 * - pieces already seen are answered from a bounded piece -> ids cache (two generations, LRU-ish);
 * - long pieces merge with a heap over a linked list, so a 100,000-letter run is linear-ish
 *   (js-tiktoken rescans every pair after every merge: quadratic);
 * - ranks are looked up by "binary string" keys, no per-piece `join(",")`.
 *
 * Special tokens are only split out here; the allowed/disallowed rule is applied by the tokenizer
 * (see `BpeTokenizer`).
 *
 * @example
 * ```ts
 * const core = new BpeCore({ ranks: new Map([["a", 0], ["b", 1], [" ", 2], ["ab", 3]]), pattern: "\\p{L}+| " });
 * core.encode("ab ab"); // [3, 2, 3]
 * ```
 */
export class BpeCore {
  /** Pre-tokenizer regex source. */
  readonly pattern: string;
  /** Special tokens -> id. */
  readonly specialTokens: ReadonlyMap<string, number>;
  /** One more than the largest id (rank or special token). */
  readonly vocabSize: number;
  /** Number of ranked (non-special) tokens. */
  readonly rankCount: number;
  /** Most pieces in the piece cache. */
  readonly cacheSize: number;

  private readonly ranks = new Map<string, number>();
  private readonly byteRanks = new Int32Array(256).fill(-1);
  /** id -> bytes, built on the first decode (encoding never needs it; 50k+ small arrays). */
  private tokenBytesTable: (Uint8Array | undefined)[] | undefined;
  private readonly regex: RegExp;
  private readonly specialRegex: RegExp | undefined;
  private readonly scanner: PieceScanner | undefined;
  private readonly cache: PieceCache;
  private readonly pairMemo = new PairMemo(1 << 18);
  private byteBuffer = new Uint8Array(1024);
  private readonly decoder = new TextDecoder("utf-8", { ignoreBOM: true });

  constructor(args: BpeCoreArgs) {
    const options = parseOptions(BpeCoreOptionsSchema, { pattern: args.pattern, cacheSize: args.cacheSize }, "BpeCore");
    this.pattern = options.pattern;
    this.cacheSize = options.cacheSize;
    this.cache = new PieceCache(this.cacheSize);
    // GPT-2's and cl100k's patterns have hand-written, allocation-free equivalents (several times faster).
    this.scanner = scannerFor(options.pattern);
    // tiktoken's semantics (pinned Unicode classes, Rust case folding, possessive quantifiers).
    this.regex = compileTiktokenRegex(options.pattern);
    let maxId = -1;
    for (const [key, rank] of args.ranks) {
      if (!Number.isInteger(rank) || rank < 0) {
        throw new TokenizerError(`\`ranks\` must map byte sequences to non-negative integers, received ${rank}`, "ranks");
      }
      const binary = typeof key === "string" ? key : bytesToBinary(key, 0, key.length);
      this.ranks.set(binary, rank);
      if (binary.length === 1) this.byteRanks[binary.charCodeAt(0)] = rank;
      if (rank > maxId) maxId = rank;
    }
    this.rankCount = this.ranks.size;
    const specials = new Map<string, number>(
      args.specialTokens instanceof Map ? args.specialTokens : Object.entries(args.specialTokens ?? {}),
    );
    for (const [name, id] of specials) {
      if (!Number.isInteger(id) || id < 0) {
        throw new TokenizerError(`\`specialTokens\` must map names to non-negative integer ids, received ${name}: ${id}`, "specialTokens");
      }
      if (id > maxId) maxId = id;
    }
    this.specialTokens = specials;
    this.specialRegex = specialTokenRegExp([...specials.keys()]);
    this.vocabSize = maxId + 1;
  }

  /**
   * Encodes `text`; occurrences of the special tokens in `allowedSpecial` become their id, any
   * other text (including special tokens not allowed) is encoded as ordinary text.
   *
   * @param text The text.
   * @param allowedSpecial Special tokens to encode as their id. Default: none.
   */
  encode(text: string, allowedSpecial: ReadonlySet<string> = EMPTY_SET): number[] {
    return this.encodeIntoBuffer(text, allowedSpecial).toArray();
  }

  /**
   * Like `encode`, but returns the ids as an `Int32Array` (no `number[]` is built: cheaper for
   * large texts, and transferable between threads).
   *
   * @param text The text.
   * @param allowedSpecial Special tokens to encode as their id. Default: none.
   */
  encodeToInt32(text: string, allowedSpecial: ReadonlySet<string> = EMPTY_SET): Int32Array {
    return this.encodeIntoBuffer(text, allowedSpecial).toInt32Array();
  }

  private encodeIntoBuffer(text: string, allowedSpecial: ReadonlySet<string>): IdBuffer {
    // English runs about 4 UTF-16 units a token; a third avoids most regrowth.
    const out = new IdBuffer((text.length >> 2) + 16);
    splitOnSpecialTokens(
      text,
      this.specialRegex,
      allowedSpecial,
      (start, end) => this.encodeRangeInto(text, out, start, end),
      (token) => out.push(this.specialTokens.get(token) as number),
    );
    return out;
  }

  /**
   * Encodes `text[start, end)` as ordinary text (special tokens get no special treatment),
   * appending the ids to `out`. The range is pre-split as if it were the whole text.
   */
  encodeOrdinaryInto(text: string, out: number[], start = 0, end = text.length): void {
    const buffer = new IdBuffer(((end - start) >> 2) + 16);
    this.encodeRangeInto(text, buffer, start, end);
    for (let i = 0; i < buffer.length; i++) out.push(buffer.ids[i] as number);
  }

  private encodeRangeInto(text: string, out: IdBuffer, start: number, end: number): void {
    if (this.scanner !== undefined) {
      const scanner = this.scanner;
      for (let i = start; i < end; ) {
        const pieceEnd = scanner.pieceEnd(text, i, end);
        this.encodeRange(text, i, pieceEnd, scanner.hash, out);
        i = pieceEnd;
      }
      return;
    }
    // The regex sees the segment alone, so that lookaheads stop at its end (as in tiktoken).
    const segment = start === 0 && end === text.length ? text : text.substring(start, end);
    const regex = this.regex;
    regex.lastIndex = 0;
    let match: RegExpExecArray | null;
    while ((match = regex.exec(segment)) !== null) {
      const length = match[0].length;
      if (length === 0) {
        // An empty match would loop forever; skip one code point as String.prototype.matchAll does.
        const code = segment.charCodeAt(regex.lastIndex);
        regex.lastIndex += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
        continue;
      }
      const pieceStart = match.index;
      this.encodeRange(segment, pieceStart, pieceStart + length, hashRange(segment, pieceStart, pieceStart + length), out);
    }
  }

  /** Encodes one pre-split piece `text[start, end)`, whose `hashRange` is `hash`, through the cache. */
  private encodeRange(text: string, start: number, end: number, hash: number, out: IdBuffer): void {
    if (this.cache.appendTo(out, text, start, end, hash)) return;
    const ids = this.encodePiece(text.substring(start, end));
    if (typeof ids === "number") {
      out.push(ids);
      if (end - start <= MAX_CACHED_PIECE) this.cache.set(text, start, end, hash, [ids]);
    } else {
      out.reserve(ids.length);
      for (let i = 0; i < ids.length; i++) out.ids[out.length++] = ids[i] as number;
      if (end - start <= MAX_CACHED_PIECE) this.cache.set(text, start, end, hash, ids);
    }
  }

  /**
   * The id of the token whose bytes are exactly `bytes` (a ranked token or a special token's
   * UTF-8), as tiktoken's `encode_single_token`. Throws `TokenizerError` when there is none.
   */
  encodeSingleTokenBytes(bytes: Uint8Array): number {
    const binary = bytesToBinary(bytes, 0, bytes.length);
    const rank = this.ranks.get(binary);
    if (rank !== undefined) return rank;
    const special = this.specialTokens.get(this.decoder.decode(bytes));
    if (special !== undefined && binaryToBytes(binary).length === bytes.length) return special;
    throw new TokenizerError(`\`bytes\` (${bytes.length} bytes) are not one token`, "bytes");
  }

  /** The bytes of token `id`, or `undefined` when no token has that id. */
  bytesOf(id: number): Uint8Array | undefined {
    return this.tokenBytes()[id];
  }

  /**
   * Ids -> UTF-8 bytes. Throws `TokenizerError` naming the first id that is not a token.
   */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    const tokenBytes = this.tokenBytes();
    let length = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      const bytes = tokenBytes[id];
      if (bytes === undefined || !Number.isInteger(id)) throw this.badId(i, id);
      length += bytes.length;
    }
    const out = new Uint8Array(length);
    let at = 0;
    for (let i = 0; i < ids.length; i++) {
      const bytes = tokenBytes[ids[i] as number] as Uint8Array;
      out.set(bytes, at);
      at += bytes.length;
    }
    return out;
  }

  /**
   * Ids -> text (invalid UTF-8, e.g. half of a character, becomes U+FFFD; a leading BOM is kept).
   */
  decode(ids: ArrayLike<number>): string {
    return this.decoder.decode(this.decodeBytes(ids));
  }

  private tokenBytes(): (Uint8Array | undefined)[] {
    if (this.tokenBytesTable === undefined) {
      const table: (Uint8Array | undefined)[] = [];
      for (const [binary, rank] of this.ranks) table[rank] = binaryToBytes(binary);
      const encoder = new TextEncoder();
      for (const [name, id] of this.specialTokens) table[id] = encoder.encode(name);
      this.tokenBytesTable = table;
    }
    return this.tokenBytesTable;
  }

  /** Empties the piece cache. */
  clearCache(): void {
    this.cache.clear();
  }

  private badId(index: number, id: number): TokenizerError {
    const inRange = Number.isInteger(id) && id >= 0 && id < this.vocabSize;
    return new TokenizerError(
      inRange
        ? `\`ids[${index}]\` is ${id}, which is not assigned to any token (vocabSize ${this.vocabSize})`
        : `\`ids[${index}]\` must be an integer in [0, ${this.vocabSize}) (vocabSize ${this.vocabSize}), received ${id}`,
      "ids",
    );
  }

  /** Encodes one pre-split piece: a single id or several. */
  private encodePiece(piece: string): number | number[] {
    // An ASCII piece is its own binary string (one char per byte): no UTF-8 pass, no copy.
    let ascii = true;
    for (let i = 0; i < piece.length; i++) {
      if (piece.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    let binary: string;
    let length: number;
    if (ascii) {
      binary = piece;
      length = piece.length;
      if (length === 1) {
        const rank = this.byteRanks[piece.charCodeAt(0)] as number;
        return rank >= 0 ? rank : [];
      }
    } else {
      length = this.toUtf8(piece);
      const bytes = this.byteBuffer;
      if (length === 1) {
        const rank = this.byteRanks[bytes[0] as number] as number;
        return rank >= 0 ? rank : [];
      }
      binary = bytesToBinary(bytes, 0, length);
    }
    const whole = this.ranks.get(binary);
    if (whole !== undefined) return whole;
    return length < HEAP_THRESHOLD ? this.mergeSmall(binary) : this.mergeLarge(binary);
  }

  /**
   * Writes the UTF-8 bytes of `piece` into `byteBuffer` and returns their count. Lone surrogates
   * become U+FFFD (EF BF BD), exactly as `TextEncoder` (and therefore js-tiktoken) encodes them.
   */
  private toUtf8(piece: string): number {
    if (this.byteBuffer.length < piece.length * 3) this.byteBuffer = new Uint8Array(piece.length * 3);
    const out = this.byteBuffer;
    let n = 0;
    for (let i = 0; i < piece.length; i++) {
      let c = piece.charCodeAt(i);
      if (c < 0x80) {
        out[n++] = c;
      } else if (c < 0x800) {
        out[n++] = 0xc0 | (c >> 6);
        out[n++] = 0x80 | (c & 63);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < piece.length ? piece.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          out[n++] = 0xf0 | (c >> 18);
          out[n++] = 0x80 | ((c >> 12) & 63);
          out[n++] = 0x80 | ((c >> 6) & 63);
          out[n++] = 0x80 | (c & 63);
        } else {
          out[n++] = 0xef;
          out[n++] = 0xbf;
          out[n++] = 0xbd;
        }
      } else {
        out[n++] = 0xe0 | (c >> 12);
        out[n++] = 0x80 | ((c >> 6) & 63);
        out[n++] = 0x80 | (c & 63);
      }
    }
    return n;
  }

  private rankOf(binary: string, start: number, end: number): number {
    const rank = this.ranks.get(binary.substring(start, end));
    return rank === undefined ? Infinity : rank;
  }

  /**
   * Rank of the token made of the parts `binary[start, middle)` (rank `left`) and
   * `binary[middle, end)` (rank `right`), Infinity if none; memoized by the two ranks.
   */
  private pairRank(binary: string, left: number, right: number, start: number, end: number): number {
    if (left < 0 || right < 0) return this.rankOf(binary, start, end);
    let rank = this.pairMemo.get(left, right);
    if (rank === -2) {
      const found = this.ranks.get(binary.substring(start, end));
      rank = found === undefined ? -1 : found;
      this.pairMemo.set(left, right, rank);
    }
    return rank === -1 ? Infinity : rank;
  }

  /**
   * tiktoken's merge loop, keeping pair ranks so that each merge only recomputes its neighbours.
   * Every part is a token (parts start as bytes and only merge into tokens), so its rank is kept
   * and pairs are looked up by two ranks (-1 marks a byte that is not a token, as in a custom vocabulary).
   */
  private mergeSmall(binary: string): number[] {
    const n = binary.length;
    const starts: number[] = new Array<number>(n + 1);
    for (let i = 0; i <= n; i++) starts[i] = i;
    const partRanks: number[] = new Array<number>(n);
    for (let i = 0; i < n; i++) partRanks[i] = this.byteRanks[binary.charCodeAt(i)] as number;
    const pairRanks: number[] = new Array<number>(n - 1);
    for (let i = 0; i < n - 1; i++) pairRanks[i] = this.pairRank(binary, partRanks[i] as number, partRanks[i + 1] as number, i, i + 2);
    for (;;) {
      let best = Infinity;
      let at = -1;
      for (let i = 0; i < pairRanks.length; i++) {
        const rank = pairRanks[i] as number;
        if (rank < best) {
          best = rank;
          at = i;
        }
      }
      if (at === -1) break;
      starts.splice(at + 1, 1);
      pairRanks.splice(at, 1);
      partRanks.splice(at + 1, 1);
      partRanks[at] = best;
      if (at < pairRanks.length) {
        pairRanks[at] = this.pairRank(binary, best, partRanks[at + 1] as number, starts[at] as number, starts[at + 2] as number);
      }
      if (at > 0) {
        pairRanks[at - 1] = this.pairRank(binary, partRanks[at - 1] as number, best, starts[at - 1] as number, starts[at + 1] as number);
      }
    }
    // Parts that are not tokens (only possible for bytes missing from a custom vocabulary) are dropped, as in js-tiktoken.
    const ids: number[] = [];
    for (const rank of partRanks) if (rank >= 0) ids.push(rank);
    return ids;
  }

  /**
   * The same merge order with a binary heap of (rank, position) over a doubly linked list of parts:
   * O(n log n) for a piece of n bytes. Ties on rank pop the leftmost pair first, as tiktoken's scan does.
   */
  private mergeLarge(binary: string): number[] {
    const n = binary.length;
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const pairRank = new Float64Array(n); // rank of (part at i) + (next part); Infinity if none
    const heap = new Float64Array(3 * n);
    let size = 0;
    const push = (key: number): void => {
      let i = size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        const p = heap[parent] as number;
        if (p <= key) break;
        heap[i] = p;
        i = parent;
      }
      heap[i] = key;
    };
    const pop = (): number => {
      const top = heap[0] as number;
      const last = heap[--size] as number;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= size) break;
        const right = left + 1;
        const child = right < size && (heap[right] as number) < (heap[left] as number) ? right : left;
        if ((heap[child] as number) >= last) break;
        heap[i] = heap[child] as number;
        i = child;
      }
      heap[i] = last;
      return top;
    };
    for (let i = 0; i < n; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    for (let i = 0; i < n - 1; i++) {
      const rank = this.rankOf(binary, i, i + 2);
      pairRank[i] = rank;
      if (rank !== Infinity) push(rank * POSITION_SCALE + i);
    }
    pairRank[n - 1] = Infinity;
    const pairEnd = (i: number): number => {
      const j = next[i] as number;
      return j >= n ? -1 : (next[j] as number);
    };
    while (size > 0) {
      const key = pop();
      const rank = Math.floor(key / POSITION_SCALE);
      const at = key - rank * POSITION_SCALE;
      // Stale entries: the part was absorbed (prev === -2) or its pair changed since the push.
      if (prev[at] === -2 || pairRank[at] !== rank) continue;
      const absorbed = next[at] as number;
      const after = next[absorbed] as number;
      next[at] = after;
      if (after < n) prev[after] = at;
      prev[absorbed] = -2;
      const end = pairEnd(at);
      pairRank[at] = end === -1 ? Infinity : this.rankOf(binary, at, end);
      if (pairRank[at] !== Infinity) push((pairRank[at] as number) * POSITION_SCALE + at);
      const before = prev[at] as number;
      if (before >= 0) {
        pairRank[before] = this.rankOf(binary, before, after);
        if (pairRank[before] !== Infinity) push((pairRank[before] as number) * POSITION_SCALE + before);
      }
    }
    const starts: number[] = [];
    for (let i = 0; i < n; i = next[i] as number) starts.push(i);
    starts.push(n);
    return this.partsToIds(binary, starts);
  }

  /** Ids of the parts delimited by `starts`; parts that are not tokens are dropped, as in js-tiktoken. */
  private partsToIds(binary: string, starts: readonly number[]): number[] {
    const ids: number[] = [];
    for (let i = 0; i + 1 < starts.length; i++) {
      const rank = this.ranks.get(binary.substring(starts[i] as number, starts[i + 1] as number));
      if (rank !== undefined) ids.push(rank);
    }
    return ids;
  }
}

const EMPTY_SET: ReadonlySet<string> = new Set();

/** Bytes -> "binary string" (one char per byte), in chunks to stay under the argument limit. */
function bytesToBinary(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 8192) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  let out = "";
  for (let i = start; i < end; i += 8192) out += bytesToBinary(bytes, i, Math.min(end, i + 8192));
  return out;
}

function binaryToBytes(binary: string): Uint8Array {
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
