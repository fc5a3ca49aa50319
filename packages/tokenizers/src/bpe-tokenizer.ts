import type { BpeCore } from "./bpe-core.js";
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

  decode(ids: ArrayLike<number>): string {
    return this.core.decode(ids);
  }
}
