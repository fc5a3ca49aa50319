/**
 * `tfgpt tokenize FILE [--encoding gpt2 | --tokenizer FILE] [--newline lf|keep] [--json]`: the
 * token count and the ids of a text file.
 */
import { z } from "zod";
import type { CommandIO } from "./io.js";
import { newlineFlag, stringFlag } from "./options.js";
import { readTextFile } from "./text-file.js";
import { tokenizerFromFlags } from "./tokenizer-flag.js";

/** The validated config of `tfgpt tokenize`. */
export const TokenizeConfigSchema = z.object({
  /** The text file to encode. */
  file: stringFlag("file"),
  /** Tokenizer registry name. Default `"gpt2"` (unless `tokenizer` is given). */
  encoding: stringFlag("encoding").optional(),
  /** A tokenizer file saved by `tfgpt train-tokenizer`, instead of `encoding`. */
  tokenizer: stringFlag("tokenizer").optional(),
  /** Newline handling when reading. Default `"lf"`. */
  newline: newlineFlag.default("lf"),
  /** Print `{"count": N, "ids": [...]}` instead of text. Default false. */
  json: z.boolean().default(false),
});
export type TokenizeConfig = z.output<typeof TokenizeConfigSchema>;

/**
 * Encodes a file and prints the count and the ids. `<|endoftext|>` in the text is encoded as
 * the special token (as the book's dataset does); other special tokens are an error.
 *
 * @example await runTokenize(TokenizeConfigSchema.parse({ file: "the-verdict.txt" }), io);
 */
export async function runTokenize(config: TokenizeConfig, io: CommandIO): Promise<void> {
  const tokenizer = tokenizerFromFlags(config);
  const text = await readTextFile(config.file, config.newline);
  const allowed = tokenizer.specialTokens.has("<|endoftext|>") ? ["<|endoftext|>"] : [];
  const ids = tokenizer.encode(text, { allowedSpecial: allowed });
  if (config.json) {
    io.stdout.write(`${JSON.stringify({ encoding: tokenizer.name, count: ids.length, ids })}\n`);
  } else {
    io.stdout.write(`${ids.length} tokens (${tokenizer.name})\n${ids.join(" ")}\n`);
  }
}
