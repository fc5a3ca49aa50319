// The core entry carries no rank tables: the page registers the three encodings it shows (r50k and
// p50k stay out of its bundle).
import { getTokenizer, type Tokenizer } from "@tfgpt/tokenizers/core";
import "@tfgpt/tokenizers/encodings/cl100k_base";
import "@tfgpt/tokenizers/encodings/gpt2";
import "@tfgpt/tokenizers/encodings/o200k_base";

/** The tokenizers the page compares, in display order. */
export const TOKENIZER_NAMES = ["gpt2", "cl100k_base", "o200k_base", "simple", "byte"] as const;

/** One of {@link TOKENIZER_NAMES}. */
export type TokenizerName = (typeof TOKENIZER_NAMES)[number];

/** A short description of each tokenizer, shown next to its count. */
export const TOKENIZER_NOTES: Record<TokenizerName, string> = {
  gpt2: "GPT-2 BPE, 50,257 ids",
  cl100k_base: "GPT-3.5/4 BPE, 100k ids",
  o200k_base: "GPT-4o BPE, 200k ids",
  simple: "the book's word tokenizer, vocabulary built from this text",
  byte: "one id per UTF-8 byte, 257 ids",
};

/**
 * The tokenizer called `name` for `text`. The simple tokenizer's vocabulary is the text's own
 * words (as in chapter 2 of the book), so it is rebuilt per text; the others come from the registry
 * (tiktoken tables are decoded once and cached there).
 */
export function tokenizerFor(name: TokenizerName, text: string): Tokenizer {
  return name === "simple" ? getTokenizer("simple", { text }) : getTokenizer(name);
}

/** A run of ids shown as one coloured piece: usually one id, several when a character spans ids. */
export interface TokenPiece {
  readonly ids: readonly number[];
  readonly text: string;
}

/**
 * Splits `ids` into displayable pieces. Byte-level tokenizers can cut a character in the middle
 * (an emoji is several ids), and decoding such an id alone gives U+FFFD; those ids are grouped
 * with the following ones until the group decodes cleanly (at most 4, the longest UTF-8 sequence).
 */
export function tokenPieces(tokenizer: Tokenizer, ids: readonly number[]): TokenPiece[] {
  const pieces: TokenPiece[] = [];
  let group: number[] = [];
  for (const id of ids) {
    group.push(id);
    const text = tokenizer.decode(group);
    if (!text.includes("\uFFFD") || group.length >= 4) {
      pieces.push({ ids: group, text });
      group = [];
    }
  }
  if (group.length > 0) pieces.push({ ids: group, text: tokenizer.decode(group) });
  return pieces;
}

/** Makes whitespace visible in a token: `·` for a space, `↵` for a newline, `→` for a tab. */
export function visible(text: string): string {
  return text.replace(/ /g, "·").replace(/\n/g, "↵").replace(/\t/g, "→");
}
