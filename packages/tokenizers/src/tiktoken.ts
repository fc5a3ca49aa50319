import cl100kBase from "js-tiktoken/ranks/cl100k_base";
import gpt2 from "js-tiktoken/ranks/gpt2";
import o200kBase from "js-tiktoken/ranks/o200k_base";
import p50kBase from "js-tiktoken/ranks/p50k_base";
import r50kBase from "js-tiktoken/ranks/r50k_base";
import { BpeCore } from "./bpe-core.js";
import { BpeTokenizer } from "./bpe-tokenizer.js";
import { TokenizerError } from "./errors.js";

/** The tiktoken encodings this package ships (rank data from `js-tiktoken`). */
export const TIKTOKEN_ENCODINGS = ["gpt2", "r50k_base", "p50k_base", "cl100k_base", "o200k_base"] as const;
/** Name of a shipped tiktoken encoding. */
export type TiktokenEncodingName = (typeof TIKTOKEN_ENCODINGS)[number];

/** The shape of js-tiktoken's rank modules. */
interface RankData {
  readonly pat_str: string;
  readonly special_tokens: Record<string, number>;
  readonly bpe_ranks: string;
  readonly explicit_n_vocab?: number;
}

const RANK_DATA: Record<TiktokenEncodingName, RankData> = {
  gpt2,
  r50k_base: r50kBase,
  p50k_base: p50kBase,
  cl100k_base: cl100kBase,
  o200k_base: o200kBase,
};

const loaded = new Map<TiktokenEncodingName, BpeTokenizer>();

/** Whether `name` is one of `TIKTOKEN_ENCODINGS`. */
export function isTiktokenEncoding(name: string): name is TiktokenEncodingName {
  return (TIKTOKEN_ENCODINGS as readonly string[]).includes(name);
}

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
    const core = new BpeCore({ ranks: parseTiktokenRanks(data.bpe_ranks), pattern: data.pat_str, specialTokens: data.special_tokens });
    tokenizer = new BpeTokenizer({ name, core, vocabSize: data.explicit_n_vocab ?? core.vocabSize });
    loaded.set(name, tokenizer);
  }
  return tokenizer;
}

/**
 * Decodes js-tiktoken's compressed rank format: lines of `<marker> <firstRank> <base64 token>...`,
 * consecutive ranks per line. Yields (binary string, rank) pairs.
 */
export function* parseTiktokenRanks(compressed: string): Generator<[string, number]> {
  for (const line of compressed.split("\n")) {
    if (line === "") continue;
    const fields = line.split(" ");
    const offset = Number.parseInt(fields[1] ?? "", 10);
    if (!Number.isInteger(offset)) throw new TokenizerError(`malformed rank data line: ${line.slice(0, 40)}`);
    for (let i = 2; i < fields.length; i++) {
      // atob gives exactly the "binary string" (one char per byte) the core keys its ranks by.
      yield [atob(fields[i] as string), offset + i - 2];
    }
  }
}
