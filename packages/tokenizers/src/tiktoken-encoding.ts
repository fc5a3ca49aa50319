/**
 * Building a tiktoken encoding's tokenizer from js-tiktoken's rank data, without importing any
 * rank module: `tiktoken.ts` imports all five for the synchronous `getTokenizer`, while a parallel
 * worker imports only the one it needs (each is a large string to parse).
 */
import { BpeCore } from "./bpe-core.js";
import { BpeTokenizer } from "./bpe-tokenizer.js";
import { TokenizerError } from "./errors.js";
import { CL100K_PATTERN, O200K_PATTERN, R50K_PATTERN } from "./pretokenizer.js";

/** The tiktoken encodings this package ships (rank data from `js-tiktoken`). */
export const TIKTOKEN_ENCODINGS = ["gpt2", "r50k_base", "p50k_base", "cl100k_base", "o200k_base"] as const;
/** Name of a shipped tiktoken encoding. */
export type TiktokenEncodingName = (typeof TIKTOKEN_ENCODINGS)[number];

/** Each encoding's pre-tokenizer pattern, exactly as in OpenAI's tiktoken 0.14 (`tiktoken_ext/openai_public.py`). */
export const TIKTOKEN_PATTERNS: Readonly<Record<TiktokenEncodingName, string>> = {
  gpt2: R50K_PATTERN,
  r50k_base: R50K_PATTERN,
  p50k_base: R50K_PATTERN,
  cl100k_base: CL100K_PATTERN,
  o200k_base: O200K_PATTERN,
};

/** The shape of js-tiktoken's rank modules (`js-tiktoken/ranks/<name>`). */
export interface TiktokenRankData {
  readonly pat_str: string;
  readonly special_tokens: Record<string, number>;
  readonly bpe_ranks: string;
  readonly explicit_n_vocab?: number;
}

/** Whether `name` is one of `TIKTOKEN_ENCODINGS`. */
export function isTiktokenEncoding(name: string): name is TiktokenEncodingName {
  return (TIKTOKEN_ENCODINGS as readonly string[]).includes(name);
}

/** A fresh tokenizer for encoding `name` from its rank data (not cached: see `getTiktoken`). */
export function createTiktokenTokenizer(name: TiktokenEncodingName, data: TiktokenRankData): BpeTokenizer {
  // tiktoken 0.14's own pattern, not js-tiktoken's `pat_str` (whose ASCII-only contraction list misses `'ſ`).
  const core = new BpeCore({ ranks: parseTiktokenRanks(data.bpe_ranks), pattern: TIKTOKEN_PATTERNS[name], specialTokens: data.special_tokens });
  return new BpeTokenizer({ name, core, vocabSize: data.explicit_n_vocab ?? core.vocabSize });
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
