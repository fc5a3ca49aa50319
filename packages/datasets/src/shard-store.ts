/**
 * A token source over llm.c shards: one logical id sequence made of several shards, each read on
 * demand through a `ShardSource` (a file read at an offset in Node, a buffer in a browser). The
 * store itself holds only the shards' sizes and start offsets, so its memory is O(shards), not
 * O(tokens) or O(windows).
 */
import { z } from "zod";
import { bool, positiveInt } from "@tfgpt/common";
import { DatasetError } from "./errors.js";
import { parseOptions } from "./options.js";
import { decodeShard, type ShardFormat } from "./shards.js";
import type { TokenArray, TokenSource } from "./token-store.js";

/** One shard's tokens, readable by range. */
export interface ShardSource {
  /** File path or URL, for messages. */
  readonly name: string;
  /** Tokens in the shard. */
  readonly numTokens: number;
  /** Copies tokens `[start, end)` of this shard into `out` at `offset`. */
  read(start: number, end: number, out: Int32Array, offset: number): void;
}

/**
 * Options of `ShardedTokenStore`.
 *
 * - `crossShards`: whether a training window may span the end of one shard and the start of the
 *   next. Default `false`, as llm.c's loader: each shard is cut into windows on its own (a shard
 *   shorter than `maxLength + 1` gives none), so a window never joins unrelated shards and shards
 *   can be read one at a time. `true` treats the shards as one concatenated stream (exactly the
 *   windows of the concatenated ids).
 * - `vocabSize`: every id is below it (checked by the readers before training starts). Default: none.
 */
export const ShardedTokenStoreOptionsSchema = z.strictObject({
  crossShards: bool().default(false),
  vocabSize: positiveInt().optional(),
});
/** `ShardedTokenStore` options as given. */
export type ShardedTokenStoreOptions = z.input<typeof ShardedTokenStoreOptionsSchema>;

/** A `ShardSource` over tokens already in memory (a decoded shard, or any typed array). */
export class MemoryShardSource implements ShardSource {
  readonly name: string;
  readonly numTokens: number;
  /** The tokens. */
  readonly ids: TokenArray;

  /**
   * @param name For messages.
   * @param ids The shard's tokens (kept, not copied).
   */
  constructor(name: string, ids: TokenArray) {
    this.name = name;
    this.ids = ids;
    this.numTokens = ids.length;
  }

  read(start: number, end: number, out: Int32Array, offset: number): void {
    out.set(this.ids.subarray(start, end), offset);
  }
}

/**
 * Several shards as one token source for `GPTDataset` (see `crossShards` for how windows are cut).
 * Global token `i` lives in the shard whose `[start, start + numTokens)` holds it.
 *
 * @example
 * ```ts
 * // Browser: shards fetched as ArrayBuffers. Node: `openShards(dir)` from `@tfgpt/datasets/node`.
 * const store = ShardedTokenStore.fromBuffers([{ name: "a.bin", bytes }], { vocabSize: 50257 });
 * const dataset = new GPTDataset(store, { maxLength: 1024, stride: 1024 });
 * const loader = new DataLoader(dataset, { batchSize: 8, shuffle: true, seed: 1 });
 * ```
 */
export class ShardedTokenStore implements TokenSource {
  /** The shards, in order. */
  readonly shards: readonly ShardSource[];
  /** Every id is below this, when known. */
  readonly vocabSize: number | undefined;
  /** Whether windows may span two shards. */
  readonly crossShards: boolean;
  /** Total tokens. */
  readonly length: number;
  /** Token offsets of the shards: shard `s` holds `[parts[s], parts[s + 1])`. */
  readonly parts: Float64Array;

  /**
   * @param shards The shards, in order; at least one.
   * @param options `crossShards` (default false), `vocabSize` (default none).
   * @throws DatasetError for no shards or a bad option.
   */
  constructor(shards: readonly ShardSource[], options: ShardedTokenStoreOptions = {}) {
    const { crossShards, vocabSize } = parseOptions(ShardedTokenStoreOptionsSchema, options, "ShardedTokenStore");
    if (shards.length === 0) throw new DatasetError("`shards` must hold at least one shard, received none", "shards");
    this.shards = [...shards];
    this.crossShards = crossShards;
    this.vocabSize = vocabSize;
    this.parts = new Float64Array(shards.length + 1);
    for (let s = 0; s < shards.length; s++) this.parts[s + 1] = (this.parts[s] as number) + (shards[s] as ShardSource).numTokens;
    this.length = this.parts[shards.length] as number;
  }

  /** Alias of `crossShards` for `TokenSource`. */
  get crossParts(): boolean {
    return this.crossShards;
  }

  /**
   * Shards held in memory (e.g. fetched in a browser), parsed and validated.
   *
   * @param buffers `{name, bytes}` per shard, in order.
   * @param options Those of the constructor plus `format` (default `"llmc"`).
   * @throws DatasetError naming the shard for a bad header, size or id.
   */
  static fromBuffers(
    buffers: readonly { readonly name: string; readonly bytes: Uint8Array }[],
    options: ShardedTokenStoreOptions & { readonly format?: ShardFormat } = {},
  ): ShardedTokenStore {
    const { format, ...rest } = options;
    const sources = buffers.map(
      ({ name, bytes }) =>
        new MemoryShardSource(
          name,
          decodeShard(bytes, name, { ...(format ? { format } : {}), ...(rest.vocabSize !== undefined ? { vocabSize: rest.vocabSize } : {}) }),
        ),
    );
    return new ShardedTokenStore(sources, rest);
  }

  /** The shard holding global token `index` (binary search over `parts`). */
  shardOf(index: number): number {
    let lo = 0;
    let hi = this.shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.parts[mid] as number) <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Copies global tokens `[start, end)` into `out` at `offset`, across shard ends if needed. */
  read(start: number, end: number, out: Int32Array, offset: number): void {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= this.length)) {
      throw new DatasetError(`token range [${start}, ${end}) is not within [0, ${this.length})`, "range");
    }
    let at = start;
    let to = offset;
    let s = this.shardOf(start);
    while (at < end) {
      const shardStart = this.parts[s] as number;
      const stop = Math.min(end, this.parts[s + 1] as number);
      if (stop > at) {
        (this.shards[s] as ShardSource).read(at - shardStart, stop - shardStart, out, to);
        to += stop - at;
        at = stop;
      }
      s++;
    }
  }

  /** Global tokens `[start, end)` as a fresh `Int32Array` (shards are not held in memory). */
  slice(start: number, end: number): Int32Array {
    const out = new Int32Array(Math.max(0, end - start));
    this.read(start, end, out, 0);
    return out;
  }
}
