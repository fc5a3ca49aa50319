/**
 * The one interface every tokenizer implements. Datasets and the CLI depend on this
 * interface only, so tokenizers are pluggable (the book's `GPTDatasetV1(txt, tokenizer, ...)`).
 */

/** Which special tokens may appear in the text passed to `encode` (tiktoken's rule). */
export type SpecialTokenSet = "all" | readonly string[];

export interface EncodeOptions {
  /**
   * Special tokens that are encoded as their single id when they occur in the text.
   * Default: none (tiktoken's default).
   */
  allowedSpecial?: SpecialTokenSet;
  /**
   * Special tokens whose presence in the text is an error. Default `"all"`: every special token
   * that is not allowed. Pass `[]` to encode disallowed specials as ordinary text instead.
   */
  disallowedSpecial?: SpecialTokenSet;
}

/** What is needed to rebuild a tokenizer through the registry: `getTokenizer(spec.name, spec.options)`. */
export interface TokenizerSpec {
  readonly name: string;
  readonly options?: Readonly<Record<string, unknown>>;
}

export interface Tokenizer {
  /** Registry name, e.g. `"gpt2"`, `"cl100k_base"`, `"simple"`, `"byte"`. */
  readonly name: string;
  /** Number of ids: every id produced is in `[0, vocabSize)`, special tokens included. */
  readonly vocabSize: number;
  /** Special tokens and their ids, e.g. `<|endoftext|>` -> 50256 for gpt2. */
  readonly specialTokens: ReadonlyMap<string, number>;
  /** Name and settings that rebuild this tokenizer (saved into checkpoints). JSON-serialisable. */
  readonly spec: TokenizerSpec;
  /**
   * Text -> ids. Throws `TokenizerError` when the text contains a special token that is
   * disallowed (by default: any special token not listed in `allowedSpecial`).
   */
  encode(text: string, options?: EncodeOptions): number[];
  /** Ids -> text. Throws `TokenizerError` for an id that is not an integer in `[0, vocabSize)`. */
  decode(ids: ArrayLike<number>): string;
}
