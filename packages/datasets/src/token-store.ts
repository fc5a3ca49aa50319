/**
 * Where a dataset's token ids live. Today: one typed array held in memory (`Uint16Array` for
 * vocabularies up to 65,536 ids such as gpt2's, else `Int32Array`/`Uint32Array`), validated once at
 * construction so windows can be handed out as views without checks. Shard-backed token sources
 * (`ShardedTokenStore`) implement the same `TokenSource` interface.
 */
import { DatasetError, describeValue } from "./errors.js";

/** The typed arrays a `TokenStore` can hold. Windows of a store are views of the same type. */
export type TokenArray = Int32Array | Uint16Array | Uint32Array;

/** The largest id a batch can carry: batches are `Int32Array`s (tfjs `int32`). */
const MAX_ID = 2 ** 31 - 1;

/**
 * Options of `TokenStore.from`.
 *
 * - `vocabSize`: when given, every id must be below it; it also picks the storage type
 *   (`Uint16Array` up to 65,536, else `Int32Array`). Default: none (ids need only fit in int32).
 */
export interface TokenStoreOptions {
  readonly vocabSize?: number | undefined;
}

/**
 * What `GPTDataset` and `DataLoader` need from where the ids live: a `TokenStore` (one typed array)
 * or a `ShardedTokenStore` (llm.c shards read lazily).
 */
export interface TokenSource {
  /** Number of ids. */
  readonly length: number;
  /** Every id is below this, when known. */
  readonly vocabSize: number | undefined;
  /** Ids `[start, end)`: a view where the source holds them in memory, else a fresh copy. */
  slice(start: number, end: number): TokenArray;
  /** Copies ids `[start, end)` into `out` at `offset` (one native copy for in-memory stores). */
  read(start: number, end: number, out: Int32Array, offset: number): void;
  /**
   * Token offsets `[0, ..., length]` of the source's parts (shards), or `undefined` for one part.
   * Windows are grouped by part for shuffling; with `crossParts` false, no window spans two parts.
   */
  readonly parts?: Float64Array | undefined;
  /** Whether a window may span two parts (default true: one stream). */
  readonly crossParts?: boolean | undefined;
}

function isTokenArray(ids: unknown): ids is TokenArray {
  return ids instanceof Int32Array || ids instanceof Uint16Array || ids instanceof Uint32Array;
}

/**
 * An immutable, validated sequence of token ids backed by one typed array.
 *
 * @example
 * ```ts
 * const store = TokenStore.from([40, 367, 2885, 1464, 1807], { vocabSize: 50257 });
 * store.length; // 5
 * store.slice(1, 3); // Uint16Array [367, 2885], a view, not a copy
 * ```
 */
export class TokenStore implements TokenSource {
  /** The ids; do not write into it (windows are views of it). */
  readonly ids: TokenArray;
  /** Every id is below this, when known. */
  readonly vocabSize: number | undefined;

  private constructor(ids: TokenArray, vocabSize: number | undefined) {
    this.ids = ids;
    this.vocabSize = vocabSize;
  }

  /**
   * Validates ids and stores them. A typed array of an accepted type is kept as is (no copy);
   * anything else (`number[]`, other typed arrays) is copied once into the smallest fitting type.
   *
   * @param ids Token ids: integers in `[0, vocabSize)` (or `[0, 2^31)` without a vocabulary).
   * @param options `vocabSize` (default: none).
   * @throws DatasetError naming the first bad index and its value, e.g.
   *   `` `ids[3]` must be an integer in [0, 50257), received -1 ``.
   */
  static from(ids: ArrayLike<number>, options: TokenStoreOptions = {}): TokenStore {
    const { vocabSize } = options;
    if (vocabSize !== undefined && !(Number.isSafeInteger(vocabSize) && vocabSize >= 1)) {
      throw new DatasetError(`\`vocabSize\` must be a positive integer, received ${describeValue(vocabSize)}`, "vocabSize");
    }
    const limit = vocabSize === undefined ? MAX_ID + 1 : Math.min(vocabSize, MAX_ID + 1);
    const allowed = vocabSize === undefined ? `[0, ${limit})` : `[0, ${vocabSize})`;
    let max = -1;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      // One comparison chain rejects negatives, fractions, NaN and ids beyond the vocabulary.
      if (!(Number.isInteger(id) && id >= 0 && id < limit)) {
        throw new DatasetError(`\`ids[${i}]\` must be an integer in ${allowed}, received ${describeValue(id)}`, "ids");
      }
      if (id > max) max = id;
    }
    if (isTokenArray(ids)) return new TokenStore(ids, vocabSize);
    const fitsUint16 = vocabSize === undefined ? max < 65536 : vocabSize <= 65536;
    const stored = fitsUint16 ? Uint16Array.from(ids) : Int32Array.from(ids);
    return new TokenStore(stored, vocabSize);
  }

  /** Number of ids. */
  get length(): number {
    return this.ids.length;
  }

  /** The ids in `[start, end)` as a view of the store (no copy). */
  slice(start: number, end: number): TokenArray {
    return this.ids.subarray(start, end);
  }

  /** Copies ids `[start, end)` into `out` at `offset` (converting to int32 in one native copy). */
  read(start: number, end: number, out: Int32Array, offset: number): void {
    out.set(this.ids.subarray(start, end), offset);
  }
}
