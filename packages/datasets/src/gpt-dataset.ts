/**
 * The book's `GPTDatasetV1` over one typed array: next-token training windows cut from a token
 * sequence with a sliding window. Windows are views (`subarray`) of the one array, so a dataset
 * over N tokens costs O(N) memory whatever the stride.
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
import { TokenStore, type TokenArray } from "./token-store.js";

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
 * ```
 */
export class GPTDataset implements Iterable<GPTWindow> {
  /** The validated ids every window is a view of. */
  readonly tokens: TokenStore;
  /** Tokens per window. */
  readonly maxLength: number;
  /** Tokens between the starts of consecutive windows. */
  readonly stride: number;
  /** Number of windows: `len(range(0, tokens.length - maxLength, stride))`. */
  readonly length: number;

  /**
   * @param tokens Token ids: a `TokenStore`, or ids validated into one (typed arrays of an
   *   accepted type are not copied).
   * @param options `{maxLength, stride}`, both required positive integers.
   * @throws DatasetError for a bad option, a bad id, or fewer than `maxLength + 1` tokens.
   */
  constructor(tokens: TokenStore | ArrayLike<number>, options: GPTDatasetOptions) {
    const { maxLength, stride } = parseOptions(GPTDatasetOptionsSchema, options, "GPTDataset options");
    this.tokens = tokens instanceof TokenStore ? tokens : TokenStore.from(tokens);
    this.maxLength = maxLength;
    this.stride = stride;
    const n = this.tokens.length;
    if (n < maxLength + 1) {
      throw new DatasetError(
        `the text has ${n} token${n === 1 ? "" : "s"}, but \`maxLength\` ${maxLength} needs at least ${maxLength + 1} (maxLength + 1: one window and its shifted target)`,
        "maxLength",
      );
    }
    // len(range(0, n - maxLength, stride)) for n - maxLength >= 1.
    this.length = Math.floor((n - maxLength - 1) / stride) + 1;
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
  static fromText(text: string, tokenizer: Pick<Tokenizer, "encode" | "vocabSize" | "specialTokens">, options: FromTextOptions): GPTDataset {
    const { allowedSpecial, ...windowOptions } = parseOptions(FromTextOptionsSchema, options, "GPTDataset options");
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
    return index * this.stride;
  }

  /**
   * Window `index` as views of the token array (no copy).
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
