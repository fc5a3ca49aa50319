import type { BpeCore } from "./bpe-core.js";
import { TokenizerError } from "./errors.js";
import { assertNoDisallowedSpecial, resolveSpecialTokens, type SpecialTokenPolicy } from "./special-tokens.js";
import type { EncodeOptions, Tokenizer, TokenizerSpec } from "./tokenizer.js";

/** Construction arguments of `BpeTokenizer`. */
export interface BpeTokenizerArgs {
  /** Registry name (e.g. `"gpt2"`). */
  readonly name: string;
  /** The encoder (ranks, pattern, special tokens). */
  readonly core: BpeCore;
  /** What rebuilds this tokenizer through the registry. Default `{ name }`. */
  readonly spec?: TokenizerSpec;
  /** Number of ids. Default: `core.vocabSize` (largest id + 1). */
  readonly vocabSize?: number;
}

/**
 * A `Tokenizer` over a `BpeCore`, applying tiktoken's special-token rule: a special token in the
 * text that is not allowed is an error (default), an allowed one is encoded as its id.
 *
 * @example
 * ```ts
 * const gpt2 = getTokenizer("gpt2"); // a BpeTokenizer
 * gpt2.encode("Hello<|endoftext|>", { allowedSpecial: "all" }); // [15496, 50256]
 * ```
 */
export class BpeTokenizer implements Tokenizer {
  readonly name: string;
  readonly vocabSize: number;
  readonly specialTokens: ReadonlyMap<string, number>;
  readonly spec: TokenizerSpec;
  /** The underlying encoder, shared with other users of the same encoding. */
  readonly core: BpeCore;
  private readonly defaultPolicy: SpecialTokenPolicy;

  constructor(args: BpeTokenizerArgs) {
    this.name = args.name;
    this.core = args.core;
    this.vocabSize = Math.max(args.vocabSize ?? 0, args.core.vocabSize);
    this.specialTokens = args.core.specialTokens;
    this.spec = args.spec ?? { name: args.name };
    this.defaultPolicy = resolveSpecialTokens(undefined, this.specialTokens, this.name);
  }

  encode(text: string, options?: EncodeOptions): number[] {
    const policy = options === undefined ? this.defaultPolicy : resolveSpecialTokens(options, this.specialTokens, this.name);
    assertNoDisallowedSpecial(text, policy.disallowed, this.name);
    return this.core.encode(text, policy.allowed);
  }

  /**
   * Like `encode`, but the ids come as an `Int32Array` (no `number[]` built: cheaper for large
   * texts, and transferable to another thread).
   *
   * @param text The text.
   * @param options Special-token rule, as for `encode`.
   * @example
   * ```ts
   * getTokenizer("gpt2").encodeToInt32("Hello, world"); // Int32Array [15496, 11, 995]
   * ```
   */
  encodeToInt32(text: string, options?: EncodeOptions): Int32Array {
    const policy = options === undefined ? this.defaultPolicy : resolveSpecialTokens(options, this.specialTokens, this.name);
    assertNoDisallowedSpecial(text, policy.disallowed, this.name);
    return this.core.encodeToInt32(text, policy.allowed);
  }

  /**
   * Encodes `text` with every special token treated as ordinary text (tiktoken's
   * `encode_ordinary`; same ids as `encode(text, { disallowedSpecial: [] })`, never throws).
   *
   * @example
   * ```ts
   * getTokenizer("gpt2").encodeOrdinary("<|endoftext|>"); // [27, 91, 437, 1659, 5239, 91, 29]
   * ```
   */
  encodeOrdinary(text: string): number[] {
    return this.core.encode(text);
  }

  /**
   * Encodes many texts (tiktoken's `encode_batch`), here one after the other; for worker threads
   * use `encodeBatch` of `@tfgpt/tokenizers/node`.
   *
   * @param texts The texts.
   * @param options Special-token rule, as for `encode`, applied to every text.
   */
  encodeBatch(texts: readonly string[], options?: EncodeOptions): number[][] {
    return texts.map((text) => this.encode(text, options));
  }

  /**
   * The id of the single token that is exactly `token` (text, e.g. a special token, or bytes),
   * as tiktoken's `encode_single_token`. Throws `TokenizerError` when it is not one token.
   */
  encodeSingleToken(token: string | Uint8Array): number {
    if (typeof token === "string") {
      const special = this.specialTokens.get(token);
      if (special !== undefined) return special;
      return this.core.encodeSingleTokenBytes(new TextEncoder().encode(token));
    }
    return this.core.encodeSingleTokenBytes(token);
  }

  decode(ids: ArrayLike<number>): string {
    return this.core.decode(ids);
  }

  /**
   * Ids -> their UTF-8 bytes, concatenated (tiktoken's `decode_bytes`): exact even when the ids
   * end inside a character, where `decode` gives U+FFFD.
   */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    return this.core.decodeBytes(ids);
  }

  /**
   * Ids -> text and where each token starts in it (tiktoken's `decode_with_offsets`). Offsets are
   * UTF-16 indexes into `text` (JavaScript string positions; tiktoken's Python gives code-point
   * indexes, which differ after astral characters). A token that starts inside a character (its
   * first byte is a UTF-8 continuation byte) gets the offset of that character, as in tiktoken.
   * Throws `TokenizerError` when the bytes are not valid UTF-8 (tiktoken's `errors="strict"`).
   *
   * @example
   * ```ts
   * getTokenizer("cl100k_base").decodeWithOffsets([31373, 995]); // { text: "hello world"..., offsets: [0, 5] }
   * ```
   */
  decodeWithOffsets(ids: ArrayLike<number>): { text: string; offsets: number[] } {
    const offsets: number[] = [];
    let units = 0; // UTF-16 units of the characters begun so far
    let charStart = 0; // where the last character begun starts
    for (let i = 0; i < ids.length; i++) {
      const bytes = this.core.decodeBytes([ids[i] as number]);
      const first = bytes[0] ?? 0;
      offsets.push(first >= 0x80 && first < 0xc0 ? charStart : units);
      for (const b of bytes) {
        if (b >= 0x80 && b < 0xc0) continue; // continuation byte
        charStart = units;
        units += b >= 0xf0 ? 2 : 1; // a 4-byte sequence is a surrogate pair
      }
    }
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(this.core.decodeBytes(ids));
    } catch {
      throw new TokenizerError("`ids` do not decode to valid UTF-8 (they end or start inside a character); use decodeBytes", "ids");
    }
    return { text, offsets };
  }
}
