import cl100kBase from "js-tiktoken/ranks/cl100k_base";
import gpt2 from "js-tiktoken/ranks/gpt2";
import o200kBase from "js-tiktoken/ranks/o200k_base";
import p50kBase from "js-tiktoken/ranks/p50k_base";
import r50kBase from "js-tiktoken/ranks/r50k_base";
import type { BpeTokenizer } from "./bpe-tokenizer.js";
import { TokenizerError } from "./errors.js";
import { createTiktokenTokenizer, TIKTOKEN_ENCODINGS, type TiktokenEncodingName, type TiktokenRankData } from "./tiktoken-encoding.js";

export { isTiktokenEncoding, parseTiktokenRanks, TIKTOKEN_ENCODINGS, type TiktokenEncodingName } from "./tiktoken-encoding.js";

// Static imports keep `getTokenizer` synchronous in browsers too; a parallel worker avoids this
// module and imports only its own encoding's ranks (see `parallel-worker.ts`).
const RANK_DATA: Record<TiktokenEncodingName, TiktokenRankData> = {
  gpt2,
  r50k_base: r50kBase,
  p50k_base: p50kBase,
  cl100k_base: cl100kBase,
  o200k_base: o200kBase,
};

const loaded = new Map<TiktokenEncodingName, BpeTokenizer>();

/**
 * The tokenizer of a tiktoken encoding. The rank data is decoded the first time an encoding is
 * asked for (tens of milliseconds for gpt2, more for o200k_base) and the tokenizer is shared
 * afterwards, so its piece cache warms up across callers.
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
    const data = RANK_DATA[name];
    if (data === undefined) {
      throw new TokenizerError(`unknown tiktoken encoding ${JSON.stringify(name)} (known: ${TIKTOKEN_ENCODINGS.join(", ")})`);
    }
    tokenizer = createTiktokenTokenizer(name, data);
    loaded.set(name, tokenizer);
  }
  return tokenizer;
}
