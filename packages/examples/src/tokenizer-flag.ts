/**
 * The tokenizer of a command: `--encoding NAME` (a registry name, default gpt2) or `--tokenizer
 * FILE` (a BPE tokenizer saved by `tfgpt train-tokenizer`: a rank file with its `.meta.json`
 * sidecar, or a `tokenizer.json`). A file is loaded through the registry,
 * `getTokenizer("bpe", { path })`, and its `spec` then carries the model inline, so that a
 * checkpoint rebuilds it without the file (`tfgpt sample`, the browser app).
 */
import path from "node:path";
import { BpeTokenizer, bpeModelOf, createBpeTokenizer, getTokenizer, type Tokenizer } from "@tfgpt/tokenizers";
import "@tfgpt/tokenizers/node"; // installs the file reader of getTokenizer("bpe", { path })
import { CliError, UsageError } from "./errors.js";

/** The two flags that pick a tokenizer. */
export interface TokenizerFlags {
  /** `--encoding`: a registry name. Default `"gpt2"` when `tokenizer` is not given either. */
  readonly encoding?: string | undefined;
  /** `--tokenizer`: a tokenizer file. Exclusive with `encoding`. */
  readonly tokenizer?: string | undefined;
}

/**
 * The tokenizer `flags` ask for.
 *
 * @throws UsageError when both flags are given; CliError when the file cannot be loaded; the
 *   tokenizers' `TokenizerError` for an unknown encoding.
 * @example tokenizerFromFlags({ tokenizer: "runs/tok/tokens.tiktoken" }).encode("It was")
 */
export function tokenizerFromFlags(flags: TokenizerFlags): Tokenizer {
  if (flags.encoding !== undefined && flags.tokenizer !== undefined) {
    throw new UsageError("`--encoding` and `--tokenizer` cannot be used together");
  }
  return flags.tokenizer !== undefined ? loadTokenizerFile(flags.tokenizer) : getTokenizer(flags.encoding ?? "gpt2");
}

/**
 * Loads a tokenizer file through the registry; the result's `spec` holds the model itself.
 *
 * @throws CliError naming `--tokenizer` and the file when it is missing or malformed.
 */
export function loadTokenizerFile(file: string): BpeTokenizer {
  let loaded: Tokenizer;
  try {
    loaded = getTokenizer("bpe", { path: path.resolve(file) });
  } catch (err) {
    throw new CliError(`\`--tokenizer\` ${file}: ${(err as Error).message}`);
  }
  // The registry's "bpe" factory always builds a BpeTokenizer; re-wrapped, its spec is the model inline.
  return createBpeTokenizer(bpeModelOf(loaded as BpeTokenizer));
}
