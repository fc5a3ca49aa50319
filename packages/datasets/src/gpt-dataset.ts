/**
 * The book's `GPTDatasetV1` over one typed array: next-token training windows cut from a token
 * sequence with a sliding window. Windows are views (`subarray`) of the one array, so a dataset
 * over N tokens costs O(N) memory whatever the stride. Over a sharded source (`ShardedTokenStore`)
 * windows are cut per shard unless the source lets them cross shard ends; the dataset then keeps
 * O(shards) numbers and reads windows on demand.
 */
import type { Tokenizer } from "@tfgpt/tokenizers";
import { DatasetError } from "./errors.js";
import {
  FromTextOptionsSchema,
  GPTDatasetOptionsSchema,
  parseOptions,
  type FromTextOptions,
  type GPTDatasetOptions,
} from "./options.js";
import { TokenStore, type TokenArray, type TokenSource } from "./token-store.js";

/** One training example: `target` is `input` shifted left by one token. Both are views. */
export interface GPTWindow {
  /** `ids[start, start + maxLength)`. */
  readonly input: TokenArray;
  /** `ids[start + 1, start + maxLength + 1)`. */
  readonly target: TokenArray;
}

/** The book's special token, allowed by default as `GPTDatasetV1` does. */
const END_OF_TEXT = "<|endoftext|>";

/**
 * Sliding next-token windows over token ids, exactly `GPTDatasetV1`'s: for
 * `i in range(0, len(ids) - maxLength, stride)`, input `ids[i:i+maxLength]`, target
 * `ids[i+1:i+maxLength+1]`.
 *
 * @example
 * ```ts
 * const ds = new GPTDataset([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], { maxLength: 4, stride: 2 });
 * ds.length; // 3 (starts 0, 2, 4)
 * ds.get(1); // { input: [2, 3, 4, 5], target: [3, 4, 5, 6] }
 * for (const { input, target } of ds) console.log(input, target);
 * // Shards: new GPTDataset(openShards("data", { split: "train" }), { maxLength: 1024, stride: 1024 })
 * ```
 *
 * @typeParam S Where the ids live: `TokenStore` (the default, for ids given directly) or any
 *   `TokenSource` such as `ShardedTokenStore`.
 */
export class GPTDataset<S extends TokenSource = TokenStore> implements Iterable<GPTWindow> {
  /** The validated ids every window is cut from. */
  readonly tokens: S;
  /** Tokens per window. */
  readonly maxLength: number;
  /** Tokens between the starts of consecutive windows. */
  readonly stride: number;
  /**
   * Number of windows: `len(range(0, tokens.length - maxLength, stride))`, or the sum of that over
   * the shards when windows may not cross shard ends.
   */
  readonly length: number;
  /**
   * For a source in parts (shards): window `i` belongs to part `s` when
   * `windowBounds[s] <= i < windowBounds[s + 1]` (the data loader shuffles shard by shard).
   * `undefined` for one in-memory array.
   */
  readonly windowBounds: Float64Array | undefined;
  private readonly perPart: boolean;
  private scratch: Int32Array | undefined;

  /**
   * @param tokens Token ids: a `TokenStore`, or ids validated into one (typed arrays of an
   *   accepted type are not copied).
   * @param options `{maxLength, stride}`, both required positive integers.
   * @throws DatasetError for a bad option, a bad id, or fewer than `maxLength + 1` tokens.
   */
  constructor(tokens: S, options: GPTDatasetOptions);
  // Two signatures so that plain ids give the default `S` (TokenStore) rather than `TokenSource`.
  constructor(tokens: ArrayLike<number>, options: GPTDatasetOptions);
  constructor(tokens: S | ArrayLike<number>, options: GPTDatasetOptions) {
    const { maxLength, stride } = parseOptions(GPTDatasetOptionsSchema, options, "GPTDataset");
    this.tokens = isTokenSource(tokens) ? tokens : (TokenStore.from(tokens) as unknown as S);
    this.maxLength = maxLength;
    this.stride = stride;
    const n = this.tokens.length;
    const parts = this.tokens.parts;
    this.perPart = parts !== undefined && this.tokens.crossParts === false;
    if (parts !== undefined && this.perPart) {
      // Each shard on its own: len(range(0, n_s - maxLength, stride)) windows, O(shards) numbers.
      const bounds = new Float64Array(parts.length);
      for (let s = 0; s + 1 < parts.length; s++) {
        const size = (parts[s + 1] as number) - (parts[s] as number);
        const count = size >= maxLength + 1 ? Math.floor((size - maxLength - 1) / stride) + 1 : 0;
        bounds[s + 1] = (bounds[s] as number) + count;
      }
      this.windowBounds = bounds;
      this.length = bounds[parts.length - 1] as number;
      if (this.length === 0) {
        throw new DatasetError(
          `no shard has \`maxLength\` + 1 = ${maxLength + 1} tokens (the largest has ${largestPart(parts)}): windows do not cross shard ends unless \`crossShards\` is true`,
          "maxLength",
        );
      }
      return;
    }
    if (n < maxLength + 1) {
      throw new DatasetError(
        `the text has ${n} token${n === 1 ? "" : "s"}, but \`maxLength\` ${maxLength} needs at least ${maxLength + 1} (maxLength + 1: one window and its shifted target)`,
        "maxLength",
      );
    }
    // len(range(0, n - maxLength, stride)) for n - maxLength >= 1.
    this.length = Math.floor((n - maxLength - 1) / stride) + 1;
    if (parts === undefined) {
      this.windowBounds = undefined;
    } else {
      // One stream: a window belongs to the shard it starts in.
      const bounds = new Float64Array(parts.length);
      for (let s = 0; s < parts.length; s++) bounds[s] = Math.min(this.length, Math.ceil((parts[s] as number) / stride));
      bounds[parts.length - 1] = this.length;
      this.windowBounds = bounds;
    }
  }

  /**
   * Encodes `text` with `tokenizer` and cuts it into windows, as `GPTDatasetV1(txt, tokenizer,
   * max_length, stride)` does.
   *
   * @param text The training text; must not be empty.
   * @param tokenizer Any `Tokenizer` (e.g. `getTokenizer("gpt2")`).
   * @param options `{maxLength, stride}` plus `allowedSpecial` (default `["<|endoftext|>"]` when the
   *   tokenizer has that token, else none).
   * @throws DatasetError for empty text, bad options or too few tokens; the tokenizer's own error
   *   for a disallowed special token.
   *
   * @example
   * ```ts
   * const ds = GPTDataset.fromText(text, getTokenizer("gpt2"), { maxLength: 256, stride: 128 });
   * ```
   */
  static fromText(text: string, tokenizer: Pick<Tokenizer, "encode" | "vocabSize" | "specialTokens">, options: FromTextOptions): GPTDataset<TokenStore> {
    const { allowedSpecial, ...windowOptions } = parseOptions(FromTextOptionsSchema, options, "GPTDataset");
    if (typeof text !== "string") {
      throw new DatasetError(`\`text\` must be a string, received ${typeof text}`, "text");
    }
    if (text.length === 0) {
      throw new DatasetError(
        `\`text\` is empty; a GPT dataset needs at least maxLength + 1 = ${windowOptions.maxLength + 1} tokens`,
        "text",
      );
    }
    const allowed = allowedSpecial ?? (tokenizer.specialTokens.has(END_OF_TEXT) ? [END_OF_TEXT] : []);
    const ids = tokenizer.encode(text, { allowedSpecial: allowed });
    return new GPTDataset(TokenStore.from(ids, { vocabSize: tokenizer.vocabSize }), windowOptions);
  }

  /** Where window `index` starts in `tokens`. */
  start(index: number): number {
    this.checkIndex(index);
    const bounds = this.windowBounds;
    if (!this.perPart || bounds === undefined) return index * this.stride;
    // The last part whose first window is at or before `index` (empty parts are skipped over).
    let lo = 0;
    let hi = bounds.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((bounds[mid] as number) <= index) lo = mid;
      else hi = mid - 1;
    }
    return (this.tokens.parts?.[lo] as number) + (index - (bounds[lo] as number)) * this.stride;
  }

  /**
   * Copies window `index` into row buffers: its input to `inputs[offset, offset + maxLength)`,
   * its target to `targets` at the same offset. One native copy per row for an in-memory store;
   * one read of `maxLength + 1` tokens for a sharded one.
   */
  readWindow(index: number, inputs: Int32Array, targets: Int32Array, offset: number): void {
    const start = this.start(index);
    const length = this.maxLength;
    if (this.tokens instanceof TokenStore) {
      const ids = this.tokens.ids;
      // set() from a view converts element types in one native copy, no per-window array.
      inputs.set(ids.subarray(start, start + length), offset);
      targets.set(ids.subarray(start + 1, start + length + 1), offset);
      return;
    }
    const scratch = (this.scratch ??= new Int32Array(length + 1));
    this.tokens.read(start, start + length + 1, scratch, 0);
    inputs.set(scratch.subarray(0, length), offset);
    targets.set(scratch.subarray(1), offset);
  }

  /**
   * Window `index` as views of the token array (no copy; a fresh copy for a sharded source).
   *
   * @throws DatasetError when `index` is not an integer in `[0, length)`.
   */
  get(index: number): GPTWindow {
    const start = this.start(index);
    return {
      input: this.tokens.slice(start, start + this.maxLength),
      target: this.tokens.slice(start + 1, start + this.maxLength + 1),
    };
  }

  /** The windows in order. */
  *[Symbol.iterator](): Iterator<GPTWindow> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }

  private checkIndex(index: number): void {
    if (!(Number.isInteger(index) && index >= 0 && index < this.length)) {
      throw new DatasetError(
        `window \`index\` must be an integer in [0, ${this.length}), received ${String(index)}`,
        "index",
      );
    }
  }
}

function isTokenSource(value: unknown): value is TokenSource {
  if (value instanceof TokenStore) return true;
  if (typeof value !== "object" || value === null) return false;
  const v = value as Partial<TokenSource>;
  return typeof v.read === "function" && typeof v.slice === "function" && typeof v.length === "number" && !ArrayBuffer.isView(value);
}

function largestPart(parts: Float64Array): number {
  let max = 0;
  for (let s = 0; s + 1 < parts.length; s++) max = Math.max(max, (parts[s + 1] as number) - (parts[s] as number));
  return max;
}
