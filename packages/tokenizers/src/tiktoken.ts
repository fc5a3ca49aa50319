import type { BpeTokenizer } from "./bpe-tokenizer.js";
import { TokenizerError } from "./errors.js";
import {
  createTiktokenTokenizer,
  isTiktokenEncoding,
  TIKTOKEN_ENCODINGS,
  type TiktokenEncodingName,
  type TiktokenRankData,
} from "./tiktoken-encoding.js";

export { isTiktokenEncoding, parseTiktokenRanks, TIKTOKEN_ENCODINGS, type TiktokenEncodingName } from "./tiktoken-encoding.js";

// Rank data is registered by the per-encoding modules (`@tfgpt/tokenizers/encodings/<name>`, each
// a large string); the main entry imports all five, `@tfgpt/tokenizers/core` none, so that a page
// pays only for the encodings it imports (or loads with `loadTiktoken`).
const RANK_DATA = new Map<TiktokenEncodingName, TiktokenRankData>();

const loaded = new Map<TiktokenEncodingName, BpeTokenizer>();

/**
 * Makes the rank data of encoding `name` available to `getTiktoken` / `getTokenizer(name)`
 * (what `@tfgpt/tokenizers/encodings/<name>` does when imported).
 */
export function registerTiktokenRanks(name: TiktokenEncodingName, data: TiktokenRankData): void {
  if (!isTiktokenEncoding(name)) {
    throw new TokenizerError(`unknown tiktoken encoding ${JSON.stringify(name)} (known: ${TIKTOKEN_ENCODINGS.join(", ")})`, "name");
  }
  RANK_DATA.set(name, data);
}

/** Whether the rank data of `name` is loaded (so `getTokenizer(name)` works synchronously). */
export function isTiktokenLoaded(name: TiktokenEncodingName): boolean {
  return RANK_DATA.has(name);
}

/**
 * The tokenizer of a tiktoken encoding. The rank data is decoded the first time an encoding is
 * asked for (tens of milliseconds for gpt2, more for o200k_base) and the tokenizer is shared
 * afterwards, so its piece cache warms up across callers. Synchronous: the encoding's rank module
 * must be imported (the main entry imports all five; with `@tfgpt/tokenizers/core`, import
 * `@tfgpt/tokenizers/encodings/<name>` or `await loadTiktoken(name)` first).
 *
 * @param name `"gpt2"`, `"r50k_base"`, `"p50k_base"`, `"cl100k_base"` or `"o200k_base"`.
 * @example
 * ```ts
 * const tok = getTiktoken("gpt2");
 * tok.encode("Hello, world"); // [15496, 11, 995]
 * ```
 */
export function getTiktoken(name: TiktokenEncodingName): BpeTokenizer {
  let tokenizer = loaded.get(name);
  if (tokenizer === undefined) {
    if (!isTiktokenEncoding(name)) {
      throw new TokenizerError(`unknown tiktoken encoding ${JSON.stringify(name)} (known: ${TIKTOKEN_ENCODINGS.join(", ")})`);
    }
    const data = RANK_DATA.get(name);
    if (data === undefined) {
      throw new TokenizerError(
        `the ranks of ${name} are not loaded: import "@tfgpt/tokenizers/encodings/${name}" (or "@tfgpt/tokenizers"), or await loadTiktoken(${JSON.stringify(name)})`,
        "name",
      );
    }
    tokenizer = createTiktokenTokenizer(name, data);
    loaded.set(name, tokenizer);
  }
  return tokenizer;
}
